using AccelSdk.Execution;
using AccelSdk.Ir;
using AccelSdk.Optimize.Conversion;
using AccelSdk.Optimize.Reports;
using AccelSdk.TestSupport;

namespace AccelSdk.Optimize.Tests;

public sealed class Fp16Tests
{
    [Fact]
    public void ResNet18_fp16_halves_the_file_keeps_float32_io_and_cosine_0_999()
    {
        var model = TestData.ResNet18;
        var result = Fp16Converter.Convert(model);
        var graph = result.Model.Graph;
        // Only constants beyond float16's range (a BatchNorm variance of ResNet18's) stay float32, with their readers.
        var keptForRange = graph.Initializers.Where(t => t.ElementType == ElementType.Float32).Select(t => t.Name!).ToList();
        Assert.All(keptForRange, name => Assert.True(LargestMagnitude(name) > 65504, $"{name} stays float32 though in range"));
        Assert.All(keptForRange, name => Assert.Contains(result.SkippedNodes, s => s.Reason.Contains($"'{name}'", StringComparison.Ordinal)));
        Assert.Equal(ElementType.Float32, graph.Inputs[0].TensorType!.ElementType);
        Assert.Equal(ElementType.Float32, graph.Outputs[0].TensorType!.ElementType);
        var report = ModelEvaluator.Compare(model, result, TestData.Images(model, "evaluation").Take(3).ToList(),
            new EvaluationOptions { MeasuredRuns = 1, WarmupRuns = 0, Devices = new[] { "ort-cpu" } });
        Assert.InRange(report.SizeRatio, 0.49, 0.51);
        Assert.True(report.Accuracy[0].MinCosine >= 0.999, $"min cosine {report.Accuracy[0].MinCosine:F6}");

        float LargestMagnitude(string name) => graph.FindInitializer(name)!.ToArray<float>().Max(Math.Abs);
    }

    [Fact]
    public void Blocked_op_types_compute_in_float32_between_casts_and_MiniLm_stays_exact()
    {
        var model = TestData.MiniLm;
        var result = Fp16Converter.Convert(model, new Fp16Options { BlockedOpTypes = new[] { "Softmax", "Erf" } });
        var graph = result.Model.Graph;
        var producers = graph.Nodes.SelectMany(n => n.Outputs.Select(o => (o, n))).ToDictionary(p => p.o, p => p.n);
        var softmaxes = graph.Nodes.Where(n => n.OpType == "Softmax").ToList();
        Assert.Equal(6, softmaxes.Count);
        Assert.All(softmaxes, s => Assert.Equal((long)ElementType.Float32, producers[s.Inputs[0]].GetInt("to", 0)));
        Assert.Equal(12, result.SkippedNodes.Count);
        var report = ModelEvaluator.Compare(model, result, TestData.Sentences(model, 5),
            new EvaluationOptions { MeasuredRuns = 1, WarmupRuns = 0, Devices = new[] { "ort-cpu" } });
        Assert.All(report.Accuracy, a => Assert.True(a.MinCosine >= 0.999, $"{a.Output}: {a.MinCosine:F6}"));
    }

    [Fact]
    public void BlazeFace_with_valueless_ConstantOfShape_converts_to_a_model_ORT_runs_within_fp16_tolerance()
    {
        // BlazeFace pads channels with ConstantOfShape without 'value' (float32 zeros) and concatenates them with
        // float16 activations: the converted model must give that node a float16 zero, or ORT rejects the Concat.
        var model = Model.Load(RepoPaths.Model("blazeface/face_detection_front_128x128_barracuda.onnx"));
        var constants = model.Graph.Nodes.Where(n => n.OpType == "ConstantOfShape" && n.Attributes.All(a => a.Name != "value")).ToList();
        Assert.NotEmpty(constants);
        var result = Fp16Converter.Convert(model);
        var converted = result.Model.Graph.Nodes.Where(n => n.OpType == "ConstantOfShape").ToList();
        Assert.All(converted, n => Assert.Equal(ElementType.Float16, n.Attributes.Single(a => a.Name == "value").AsTensor().ElementType));
        var report = ModelEvaluator.Compare(model, result, new List<IReadOnlyDictionary<string, AccelTensor>> { SampleInputs.Random(model, seed: 7) },
            new EvaluationOptions { MeasuredRuns = 1, WarmupRuns = 0, Devices = new[] { "ort-cpu" } });
        Assert.All(report.Accuracy, a => Assert.True(a.MinCosine >= 0.999, $"{a.Output}: {a.MinCosine:F6}"));
    }
}
