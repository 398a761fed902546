using AccelSdk.Ir;
using AccelSdk.Onnx;
using AccelSdk.TestSupport;
using Microsoft.ML.OnnxRuntime;

namespace AccelSdk.OnnxRuntime.Tests;

/// <summary>Import -> export -> plain ONNX Runtime gives bit-identical outputs to ONNX Runtime on the original file.</summary>
public class RoundTripTests
{
    public static IEnumerable<object[]> Suites() => RepoPaths.OnnxSuites.Select(s => new object[] { s });

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
            if (model.Graph.FirstNonTensorInputOrOutput() is not null) continue;
            var original = TryRun(File.ReadAllBytes(path), caseDir, model, out var originalError);
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

    private static bool Identical(AccelTensor a, AccelTensor b) =>
        a.ElementType == b.ElementType && a.Shape.SequenceEqual(b.Shape) &&
        (a.IsString ? a.Strings.SequenceEqual(b.Strings) : a.Bytes.SequenceEqual(b.Bytes));

    private static List<AccelTensor>? TryRun(byte[] bytes, string caseDir, Model model, out string? error)
    {
        error = null;
        try
        {
            // One intra-op thread, so that the comparison cannot depend on how ORT splits a reduction across threads.
            using var options = new SessionOptions { IntraOpNumThreads = 1 };
            using var session = new InferenceSession(bytes, options);
            var dataSet = Path.Combine(caseDir, "test_data_set_0");
            var files = Directory.GetFiles(dataSet, "input_*.pb").Order(StringComparer.Ordinal).ToList();
            var inputs = OnnxTensors.ReadInputs(model, files);
            var names = inputs.Keys.ToList();
            var values = inputs.Values.Select(OrtPartition.ToOrtValue).ToList();
            try
            {
                var outputNames = model.Graph.Outputs.Select(o => o.Name).ToArray();
                using var outputs = session.Run(new RunOptions(), names, values, outputNames);
                return outputs.Select((v, i) => OrtPartition.FromOrtValue(v, outputNames[i])).ToList();
            }
            finally
            {
                foreach (var v in values) v.Dispose();
                GC.KeepAlive(inputs);
            }
        }
        catch (OnnxRuntimeException e)
        {
            error = e.Message.Split('\n')[0];
            return null;
        }
    }
}
