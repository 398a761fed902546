using AccelSdk.OnnxRuntime;

namespace AccelSdk;

/// <summary>Adds ONNX Runtime to an <see cref="AccelRuntimeBuilder"/>.</summary>
public static class OrtRuntimeBuilderExtensions
{
    /// <summary>The ONNX Runtime backend (<see cref="OrtBackend"/>: one device per execution provider that starts) and the ONNX format.</summary>
    public static AccelRuntimeBuilder AddOnnxRuntime(this AccelRuntimeBuilder builder) =>
        builder.AddOnnx().AddBackend(new OrtBackendProvider());
}
