using AccelSdk.TfLite;

namespace AccelSdk;

/// <summary>Adds TensorFlow Lite to an <see cref="AccelRuntimeBuilder"/>.</summary>
public static class TfLiteRuntimeBuilderExtensions
{
    /// <summary>The TFLite backend (<see cref="TfLiteBackend"/>, device <c>tflite-cpu</c>) and the <c>.tflite</c> format.</summary>
    public static AccelRuntimeBuilder AddTfLite(this AccelRuntimeBuilder builder) =>
        builder.AddModelFormat(new TfLiteModelFormat()).AddBackend(new TfLiteBackendProvider());
}
