using AccelSdk.Ir;
using AccelSdk.Onnx;
using AccelSdk.Optimize.Calibration;
using AccelSdk.Optimize.Quantization;
using AccelSdk.Optimize.Reports;

namespace AccelSdk.Optimize.Tests;

public sealed class StaticQuantizationTests
{
    [Theory]
    [InlineData(CalibrationMethod.MinMax)]
    [InlineData(CalibrationMethod.Percentile)]
    [InlineData(CalibrationMethod.Entropy)]
    public void ResNet18_static_qdq_calibrated_on_real_images_keeps_cosine_0_99_on_other_images(CalibrationMethod method)
    {
        var model = TestData.ResNet18;
        var before = OnnxExporter.ToBytes(model);
        var options = new StaticQuantizationOptions { Calibration = new CalibrationOptions { Method = method } };
        var result = StaticQuantizer.Quantize(model, TestData.Images(model, "calibration"), options);

        Assert.Equal(before, OnnxExporter.ToBytes(model));
        var graph = result.Model.Graph;
        Assert.Equal(13, result.Model.OpsetOf(""));
        Assert.DoesNotContain(graph.Nodes, n => n.OpType is "BatchNormalization" or "Relu");
        Assert.All(graph.Nodes.Where(n => n.OpType == "Conv"), conv =>
        {
            Assert.All(conv.Inputs.Where(i => i.Length > 0), i => Assert.Null(graph.FindInitializer(i)));
        });
        var weightDq = graph.Nodes.Where(n => n.OpType == "DequantizeLinear" && graph.FindInitializer(n.Inputs[0]) is { ElementType: ElementType.Int8 }).ToList();
        Assert.Equal(22, weightDq.Count);
        Assert.All(weightDq, n => Assert.Equal(0, n.GetInt("axis", -1)));

        var report = ModelEvaluator.Compare(model, result, TestData.Images(model, "evaluation"),
            new EvaluationOptions { MeasuredRuns = 1, WarmupRuns = 0, Devices = new[] { "ort-cpu" } });
        var accuracy = Assert.Single(report.Accuracy);
        Assert.True(accuracy.MinCosine >= 0.99, $"{method}: min cosine {accuracy.MinCosine:F5} over {report.EvaluationSamples} images");
        Assert.True(report.OptimizedBytes < report.BaselineBytes * 0.3);
    }

    [Fact]
    public void Excluded_nodes_and_op_types_stay_float()
    {
        var model = TestData.ResNet18;
        var firstConv = model.Graph.Nodes.First(n => n.OpType == "Conv").Name;
        var options = new StaticQuantizationOptions { ExcludedNodes = new[] { firstConv }, ExcludedOpTypes = new[] { "Add" } };
        var result = StaticQuantizer.Quantize(model, TestData.Images(model, "calibration").Take(2).ToList(), options);
        Assert.Contains(result.SkippedNodes, s => s.Node == firstConv);
        Assert.Equal(9, result.SkippedNodes.Count(s => s.Node.StartsWith("Plus", StringComparison.Ordinal)));
        var conv = result.Model.Graph.Nodes.Single(n => n.Name == firstConv);
        Assert.NotNull(result.Model.Graph.FindInitializer(conv.Inputs[1]));
    }
}
