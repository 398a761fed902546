using AccelSdk.Ir;

[assembly: AccelSdk.AccelSdkExtension(typeof(AccelSdk.Onnx.OnnxFormat))]

namespace AccelSdk.Onnx;

/// <summary>Registers ONNX as a model format for <see cref="Model.Load"/>.</summary>
public sealed class OnnxFormat : IModelFormat
{
    /// <inheritdoc />
    public string Name => "onnx";

    /// <inheritdoc />
    public bool CanRead(string path, ReadOnlySpan<byte> header) =>
        path.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase) ||
        (header.Length > 0 && header[0] == 0x08 && !(header.Length >= 8 && header[4] == (byte)'T' && header[5] == (byte)'F' && header[6] == (byte)'L'));

    /// <inheritdoc />
    public Model Load(string path) => OnnxImporter.Load(path);
}
