using AccelSdk.Ir;
using AccelSdk.Onnx;

namespace AccelSdk.TfLite.Import;

/// <summary>
/// Converts <c>.tflite</c> files to ONNX (the <c>accelsdk convert MODEL.tflite OUT.onnx</c> path): import into the IR,
/// then export. Ops with no ONNX form are named in an <see cref="UnsupportedOperatorException"/>.
/// </summary>
public static class TfLiteConverter
{
    /// <summary>Imports <paramref name="tflitePath"/> and returns it as ONNX model bytes.</summary>
    public static byte[] ToOnnxBytes(string tflitePath)
    {
        var model = TfLiteImporter.Load(tflitePath);
        var kept = model.Graph.Nodes.Where(n => n.Domain == TfLiteImporter.CustomDomain)
            .Select(n => new UnsupportedNode(n.Name, n.OpType, "a TFLite op the importer has no ONNX form for")).ToList();
        if (kept.Count > 0) throw new UnsupportedOperatorException($"{model.Label} -> ONNX", kept);
        // The source path only tells the TFLite backend which file to run; an ONNX file stands on its own.
        model.MetadataProps.RemoveAll(kv => kv.Key.StartsWith("accelsdk.tflite.", StringComparison.Ordinal));
        model.MetadataProps.Add(new("converted_from", Path.GetFileName(tflitePath)));
        return OnnxExporter.ToBytes(model);
    }

    /// <summary>Converts <paramref name="tflitePath"/> to an ONNX file at <paramref name="onnxPath"/>.</summary>
    public static void Convert(string tflitePath, string onnxPath) => File.WriteAllBytes(onnxPath, ToOnnxBytes(tflitePath));
}
