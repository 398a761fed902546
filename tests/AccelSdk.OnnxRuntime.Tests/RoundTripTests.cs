using AccelSdk.Ir;
using AccelSdk.Onnx;
using AccelSdk.TestSupport;
using Microsoft.ML.OnnxRuntime;

namespace AccelSdk.OnnxRuntime.Tests;

/// <summary>Import -> export -> plain ONNX Runtime gives bit-identical outputs to ONNX Runtime on the original file.</summary>
public class RoundTripTests
{
    public static IEnumerable<object[]> Suites() => new[] { "node", "pytorch-converted", "pytorch-operator", "simple" }.Select(s => new object[] { s });

    [Theory]
    [MemberData(nameof(Suites))]
    public void Exported_models_run_identically_in_plain_onnx_runtime(string suite)
    {
        var compared = 0;
        var bothRefused = 0;
        var problems = new List<string>();
        foreach (var caseDir in Directory.GetDirectories(Path.Combine(RepoPaths.OnnxTestData, suite)).Order(StringComparer.Ordinal))
        {
            var path = Path.Combine(caseDir, "model.onnx");
            var model = OnnxImporter.Load(path);
            if (model.Graph.Inputs.Concat(model.Graph.Outputs).Any(v => v.Type is not null and not TensorType)) continue;
            var original = TryRun(File.ReadAllBytes(path), caseDir, model, out var originalError);
            var original2 = TryRun(File.ReadAllBytes(path), caseDir, model, out _);
            if (original is not null && original2 is not null && !Identical(original[0], original2[0])) problems.Add($"{Path.GetFileName(caseDir)}: ORT not deterministic {original[0].GetAsDouble(0):R} {original2[0].GetAsDouble(0):R}");
            var exported = TryRun(OnnxExporter.ToBytes(model), caseDir, model, out var exportedError);
            if (original is null || exported is null)
            {
                if (original is null && exported is null) bothRefused++;
                else problems.Add($"{Path.GetFileName(caseDir)}: original {(originalError ?? "ran")}, exported {(exportedError ?? "ran")}");
                continue;
            }
            for (var i = 0; i < original.Count; i++)
            {
                if (!Identical(original[i], exported[i])) problems.Add($"{Path.GetFileName(caseDir)}: output {i} differs after the round trip");
            }
            compared++;
        }
        Assert.True(problems.Count == 0, string.Join("\n", problems));
        Assert.True(compared > 10, $"{compared} compared, {bothRefused} refused by ORT in both forms");
    }

    private static bool Identical(Tensor a, Tensor b) =>
        a.ElementType == b.ElementType && a.Shape.SequenceEqual(b.Shape) &&
        (a.IsString ? a.Strings.SequenceEqual(b.Strings) : a.Bytes.SequenceEqual(b.Bytes));

    private static List<Tensor>? TryRun(byte[] bytes, string caseDir, Model model, out string? error)
    {
        error = null;
        try
        {
            // One intra-op thread: with more, ORT's full reductions (ReduceSum over all axes, Einsum) sum partial
            // results in a timing-dependent order and are not bit-reproducible even for the same file.
            using var options = new SessionOptions { IntraOpNumThreads = 1 };
            using var session = new InferenceSession(bytes, options);
            var dataSet = Path.Combine(caseDir, "test_data_set_0");
            var required = model.Graph.RequiredInputs.ToList();
            var files = Directory.GetFiles(dataSet, "input_*.pb").Order(StringComparer.Ordinal).ToList();
            var names = new List<string>();
            var values = new List<OrtValue>();
            try
            {
                for (var i = 0; i < files.Count && i < required.Count; i++)
                {
                    var t = OnnxTensors.ReadFile(files[i]);
                    var name = t.Name is { Length: > 0 } n && required.Any(r => r.Name == n) ? n : required[i].Name;
                    if (required.First(r => r.Name == name).TensorType?.ElementType == ElementType.BFloat16 && t.ElementType == ElementType.UInt16)
                    {
                        t = Tensor.FromBytes(ElementType.BFloat16, t.Shape, t.Bytes, t.Name);
                    }
                    names.Add(name);
                    values.Add(OrtPartition.ToOrtValue(t));
                }
                var outputNames = model.Graph.Outputs.Select(o => o.Name).ToArray();
                using var outputs = session.Run(new RunOptions(), names, values, outputNames);
                return outputs.Select((v, i) => OrtPartition.FromOrtValue(v, outputNames[i])).ToList();
            }
            finally
            {
                foreach (var v in values) v.Dispose();
            }
        }
        catch (OnnxRuntimeException e)
        {
            error = e.Message.Split('\n')[0];
            return null;
        }
    }
}
