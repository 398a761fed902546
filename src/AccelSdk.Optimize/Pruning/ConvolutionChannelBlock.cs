using System.Runtime.Intrinsics.X86;

namespace AccelSdk.Optimize.Pruning;

/// <summary>
/// The channel block of ONNX Runtime's CPU convolutions on this machine. ORT's NCHWc layout transform (MLAS, at the
/// default optimisation level) runs a Conv on its blocked kernels only when its channel counts are multiples of the
/// block: 16 with AVX-512F, 8 with AVX2; other counts fall back to im2col + GEMM with reorders around them. A pruned
/// BlazeFace-256 with 18/35/68 channels ran 0.95x as fast as the original, with 16/32/64 2.30x (bench, same run).
/// </summary>
internal static class ConvolutionChannelBlock
{
    /// <summary>The block, and why.</summary>
    public static (int Multiple, string Reason) OfThisCpu()
    {
        if (Avx512F.IsSupported) return (16, "ONNX Runtime's NCHWc convolution block on this CPU (AVX-512)");
        if (Avx2.IsSupported) return (8, "ONNX Runtime's NCHWc convolution block on this CPU (AVX2)");
        return (1, "no NCHWc convolution block known for this CPU");
    }
}
