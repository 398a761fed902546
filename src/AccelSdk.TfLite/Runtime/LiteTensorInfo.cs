using AccelSdk.Ir;

namespace AccelSdk.TfLite;

/// <summary>One input or output of a TFLite interpreter as it stands now (shapes change with resizing).</summary>
/// <param name="Name">AccelTensor name in the model.</param>
/// <param name="ElementType">Element type (<see cref="ElementType.Undefined"/> for TFLite-only types such as resource).</param>
/// <param name="TfLiteType">TFLite's own type name (float32, int8, resource...).</param>
/// <param name="Shape">Current shape.</param>
/// <param name="ByteSize">Current size in bytes.</param>
/// <param name="Scale">Quantization scale (0 when not quantized).</param>
/// <param name="ZeroPoint">Quantization zero point.</param>
public sealed record LiteTensorInfo(string Name, ElementType ElementType, string TfLiteType, int[] Shape, long ByteSize, float Scale, int ZeroPoint)
{
    /// <inheritdoc />
    public override string ToString() => $"{Name}: {TfLiteType}[{string.Join(",", Shape)}]";
}
