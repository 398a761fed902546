using AccelSdk.Backends;
using AccelSdk.Ir;
using AccelSdk.Onnx;
using AccelSdk.Onnx.Conformance;
using AccelSdk.Onnx.Versioning;
using AccelSdk.TestSupport;
using Xunit.Abstractions;

namespace AccelSdk.OnnxRuntime.Tests;

/// <summary>
/// The ONNX suite's models of opsets 1-12, upgraded op by op to opset 13 and run in ONNX Runtime, must still produce
/// the suite's reference outputs; the upgrade must really happen (opset 13 in the model ORT gets).
/// </summary>
public class OpsetUpgradeConformanceTests(ITestOutputHelper output)
{
    /// <summary>Cases whose upgrade is refused with a typed error, with the reason; any other refusal fails.</summary>
    private static readonly Dictionary<string, string> ExpectedRefusals = new(StringComparer.Ordinal)
    {
        ["node/test_scan_sum"] = "Scan-8 (batch axis, sequence_lens) to Scan-9 has no adapter",
    };

    [Fact]
    public void Suite_models_below_opset_13_upgraded_to_13_reproduce_the_reference_outputs()
    {
        var (backend, device) = AccelRuntime.Default.Resolve("ort");
        var expectedFailures = ConformanceRunner.ReadExpectedFailures(Path.Combine(RepoPaths.Root, "tests", "conformance", "ort-expected-failures.txt"));
        var upgradedOpsets = new List<long>();
        var runner = new ConformanceRunner(backend, device)
        {
            ModelTransform = m =>
            {
                var upgraded = OpsetUpgrader.Upgraded(m, 13);
                upgradedOpsets.Add(upgraded.OpsetOf("")!.Value);
                return upgraded;
            },
        };
        var results = new List<CaseResult>();
        var perOpset = new SortedDictionary<long, int>();
        foreach (var suite in ConformanceRunner.DefaultSuites)
        {
            foreach (var caseDir in Directory.GetDirectories(Path.Combine(RepoPaths.OnnxTestData, suite)).OrderBy(d => d, StringComparer.Ordinal))
            {
                var key = $"{suite}/{Path.GetFileName(caseDir)}";
                var opset = OnnxImporter.Load(Path.Combine(caseDir, "model.onnx")).OpsetOf("") ?? 0;
                if (opset >= 13 || (expectedFailures.TryGetValue(key, out var why) && !why.Reason.Contains("pre-opset-7", StringComparison.Ordinal))) continue;
                perOpset[opset] = perOpset.GetValueOrDefault(opset) + 1;
                results.Add(runner.RunCase(suite, caseDir));
            }
        }
        output.WriteLine("cases per source opset: " + string.Join(", ", perOpset.Select(p => $"{p.Key}: {p.Value}")));
        var refused = results.Where(r => r.Status == CaseStatus.Error && r.Reason.Contains("cannot be upgraded", StringComparison.Ordinal)).ToList();
        foreach (var r in refused) output.WriteLine($"refused {r.Key}: {r.Reason}");
        var unexpected = results.Where(r => r.Status != CaseStatus.Pass && !ExpectedRefusals.ContainsKey(r.Key)).ToList();
        Assert.True(unexpected.Count == 0, "upgraded cases that do not reproduce the reference:\n" + string.Join("\n", unexpected.Select(r => $"{r.Key} {r.Status}: {r.Reason}")));
        Assert.All(ExpectedRefusals.Keys, k => Assert.Contains(refused, r => r.Key == k));
        Assert.True(results.Count >= 200, $"only {results.Count} cases below opset 13");
        Assert.All(upgradedOpsets, o => Assert.Equal(13, o));
        output.WriteLine($"{results.Count(r => r.Status == CaseStatus.Pass)} of {results.Count} upgraded cases pass");
    }

    [Theory]
    [InlineData("pytorch-operator", "test_operator_addmm")]
    [InlineData("pytorch-converted", "test_PReLU_2d_multiparam")]
    [InlineData("pytorch-converted", "test_BatchNorm2d_eval")]
    public void Select_runs_a_pre_opset_7_model_upgraded_and_matches_the_reference(string suite, string name)
    {
        var folder = RepoPaths.OnnxCase(suite, name);
        var model = OnnxImporter.Load(Path.Combine(folder, "model.onnx"));
        Assert.True(model.OpsetOf("") < 7);
        var data = Path.Combine(folder, "test_data_set_0");

        using var session = Accel.Select(model);
        var outputs = session.Run(OnnxTensors.ReadInputs(model, Directory.GetFiles(data, "input_*.pb").Order(StringComparer.Ordinal).ToArray()));

        var expected = OnnxTensors.ReadFile(Path.Combine(data, "output_0.pb"));
        Assert.Null(TensorComparison.Compare(outputs[0], OnnxTensors.AsDeclared(expected, outputs[0].ElementType)));
        Assert.True(model.OpsetOf("") < 7, "Select changed the caller's model");
    }
}
