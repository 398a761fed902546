using AccelSdk.Ir;
using Xunit.Abstractions;

namespace AccelSdk.Onnx.Tests;

/// <summary>
/// Shape inference against ONNX's own reference outputs: for every case of the backend test suites (Debian
/// libonnx-testdata), every graph output whose shape inference fills in must have the reference output's rank, and
/// every dimension it claims to know must be the reference's. Wrong shapes are worse than unknown ones: partitions
/// declare their cut edges with them.
/// </summary>
public class InferredShapeTests(ITestOutputHelper output)
{
    [Fact]
    public void Inferred_output_shapes_agree_with_the_reference_outputs_of_every_suite_case()
    {
        var wrong = new List<string>();
        int cases = 0, checkedOutputs = 0, fullyKnown = 0;
        foreach (var suite in TestSupport.RepoPaths.OnnxSuites)
        {
            var root = Path.Combine(TestSupport.RepoPaths.OnnxTestData, suite);
            if (!Directory.Exists(root)) continue;
            foreach (var dir in Directory.GetDirectories(root).OrderBy(d => d, StringComparer.Ordinal))
            {
                var data = Directory.GetDirectories(dir, "test_data_set_0").FirstOrDefault();
                if (data is null) continue;
                Model model;
                try
                {
                    model = OnnxImporter.Load(Path.Combine(dir, "model.onnx"));
                }
                catch (AccelSdkException)
                {
                    continue;
                }
                cases++;
                // Only what inference adds is checked: declarations are the test authors' and stay as they are.
                var bare = model.Graph.Outputs.Select(o => o with { Type = null }).ToList();
                model.Graph.Outputs.Clear();
                model.Graph.Outputs.AddRange(bare);
                var types = ShapeInference.Infer(model);
                for (var o = 0; o < bare.Count; o++)
                {
                    var file = Path.Combine(data, $"output_{o}.pb");
                    if (!File.Exists(file) || !types.TryGetValue(bare[o].Name, out var type) || type is not TensorType { Shape: { } shape }) continue;
                    var reference = OnnxTensors.ReadFile(file).ShapeArray;
                    checkedOutputs++;
                    if (shape.IsFullyKnown) fullyKnown++;
                    var agrees = shape.Rank == reference.Length && shape.Dims.Select((d, i) => d.Value is not { } v || v == reference[i]).All(x => x);
                    if (!agrees) wrong.Add($"{suite}/{Path.GetFileName(dir)} output {o}: inferred {shape}, reference {TensorShape.Format(reference)}");
                }
            }
        }
        output.WriteLine($"{cases} cases, {checkedOutputs} outputs with an inferred rank ({fullyKnown} fully known), {wrong.Count} wrong");
        Assert.True(cases > 1000, $"only {cases} suite cases found under {TestSupport.RepoPaths.OnnxTestData}");
        Assert.True(wrong.Count == 0, string.Join("\n", wrong.Take(40)));
    }
}
