using AccelSdk.Ilgpu.Kernels;
using AccelSdk.Ir;
using ILGPU;
using ILGPU.Runtime;

namespace AccelSdk.Ilgpu.Ops;

/// <summary>
/// Host side of the <c>packed</c> MatMul variant (<see cref="PackedMatMulKernels"/>): packs A and B into pooled scratch
/// buffers, then runs the register-block kernel. Operands broadcast over the batch (batch stride 0) are packed once.
/// </summary>
internal static class PackedMatMul
{
    public static void Prepare(OpContext ctx)
    {
        _ = ctx.Kernels.PackA;
        _ = ctx.Kernels.PackB;
        _ = ctx.Kernels.PackedMicroKernel;
        if (ctx.Node.OpType == "Conv") _ = ctx.Kernels.PackIm2Col;
    }

    public static void Launch(OpContext ctx, ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, ArrayView<float> bias, MatMulParams p) =>
        Launch(ctx, a, b, c, bias, p, null);

    /// <summary>
    /// Conv as W·im2col(x) for one image and group: the im2col matrix is never materialised, <see cref="PackedMatMulKernels.PackIm2Col"/>
    /// writes its panels directly (<paramref name="p"/>: M = output channels, K = C*KD*KH*KW, N = OD*OH*OW, Batch = 1).
    /// </summary>
    public static void LaunchConv(OpContext ctx, ArrayView<float> weights, ArrayView<float> x, ArrayView<float> y, ArrayView<float> bias, MatMulParams p, WindowParams window) =>
        Launch(ctx, weights, x, y, bias, p, window);

    private static void Launch(OpContext ctx, ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, ArrayView<float> bias, MatMulParams p, WindowParams? window)
    {
        if (p.M == 0 || p.N == 0 || p.Batch == 0) return;
        if (!ctx.Slot.IsCpuAccelerator) throw ctx.Fail("the packed MatMul runs only on ILGPU's CPU accelerator");
        long panelsM = (p.M + PackedMatMulKernels.MR - 1) / PackedMatMulKernels.MR;
        long panelsN = (p.N + PackedMatMulKernels.NR - 1) / PackedMatMulKernels.NR;
        long batchesA = p.ABatchStride == 0 ? 1 : p.Batch;
        long batchesB = p.BBatchStride == 0 ? 1 : p.Batch;
        // K = 0 still writes alpha*0 (+ bias); a one-element scratch keeps the addresses valid.
        using var packedA = ctx.Alloc(ElementType.Float32, new[] { Math.Max(1, batchesA * panelsM * p.K * PackedMatMulKernels.MR) });
        using var packedB = ctx.Alloc(ElementType.Float32, new[] { Math.Max(1, batchesB * panelsN * p.K * PackedMatMulKernels.NR) });
        var args = new PackedMatMulParams
        {
            Mm = p,
            A = Address(a), B = Address(b), C = Address(c), Bias = Address(bias),
            PackedA = Address(packedA.View<float>()), PackedB = Address(packedB.View<float>()),
            PanelsM = (int)panelsM, PanelsN = (int)panelsN,
        };
        var kernels = ctx.Kernels;
        if (p.K > 0)
        {
            kernels.PackA(OpContext.ToInt(batchesA * panelsM * p.K, "packed A rows", ctx), args);
            var packedBRows = OpContext.ToInt(batchesB * panelsN * p.K, "packed B rows", ctx);
            if (window is { } w) kernels.PackIm2Col(packedBRows, args, w);
            else kernels.PackB(packedBRows, args);
        }
        kernels.PackedMicroKernel(OpContext.ToInt(p.Batch * panelsM * panelsN, "block count", ctx), args);
    }

    private static long Address(ArrayView<float> view) => view.IsValid && view.Length > 0 ? view.LoadEffectiveAddressAsPtr().ToInt64() : 0;
}
