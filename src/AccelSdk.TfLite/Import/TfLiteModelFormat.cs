using AccelSdk.Ir;
using AccelSdk.TfLite.Import;

namespace AccelSdk.TfLite;

/// <summary>The <c>.tflite</c> model format: recognised by its <c>TFL3</c> identifier, imported by <see cref="TfLiteImporter"/>.</summary>
public sealed class TfLiteModelFormat : IModelFormat
{
    /// <inheritdoc />
    public string Name => "tflite";

    /// <inheritdoc />
    public bool CanRead(string path, ReadOnlySpan<byte> header) =>
        header.Length >= 8 && header[4] == (byte)'T' && header[5] == (byte)'F' && header[6] == (byte)'L' && header[7] == (byte)'3'
        || header.Length < 8 && path.EndsWith(".tflite", StringComparison.OrdinalIgnoreCase);

    /// <inheritdoc />
    public Model Load(string path) => TfLiteImporter.Load(path);
}
