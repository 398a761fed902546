using AccelSdk.Onnx;

namespace AccelSdk;

/// <summary>Adds the ONNX format to an <see cref="AccelRuntimeBuilder"/>.</summary>
public static class OnnxRuntimeBuilderExtensions
{
    /// <summary>Reads <c>.onnx</c> models (<see cref="OnnxFormat"/>).</summary>
    public static AccelRuntimeBuilder AddOnnx(this AccelRuntimeBuilder builder) => builder.AddModelFormat(new OnnxFormat());
}
