using AccelSdk.Backends;
using AccelSdk.Execution;
using AccelSdk.Ir;
using AccelSdk.Onnx;
using AccelSdk.Optimize.Quantization;
using AccelSdk.Optimize.Reports;
using AccelSdk.Optimize.Validation;

namespace AccelSdk.Optimize.Tests;

public sealed class DynamicQuantizationTests
{
    [Fact]
    public void MiniLm_dynamic_int8_keeps_sentence_embeddings_within_cosine_0_99()
    {
        var model = TestData.MiniLm;
        var before = OnnxExporter.ToBytes(model);
        var result = DynamicQuantizer.Quantize(model);

        Assert.Equal(before, OnnxExporter.ToBytes(model));
        var ops = result.Model.Graph.Nodes.Select(n => n.OpType).ToList();
        Assert.Equal(37, result.ChangedNodes.Count);
        Assert.Equal(37, ops.Count(o => o == "MatMulInteger"));
        Assert.Contains("DynamicQuantizeLinear", ops);
        Assert.All(result.Model.Graph.Nodes.Where(n => n.OpType == "MatMul"),
            n => Assert.Null(result.Model.Graph.FindInitializer(n.Inputs[1])));
        Assert.True(OnnxExporter.ToBytes(result.Model).Length < before.Length * 0.7);

        var (backend, device) = AccelRuntime.Default.Resolve("ort-cpu");
        using var original = new AccelSession(GraphPartitioner.WholeModel(model, backend, device));
        using var quantized = new AccelSession(GraphPartitioner.WholeModel(result.Model, backend, device));
        foreach (var input in TestData.Sentences(model))
        {
            var expected = MeanPool(original.Run(input)["last_hidden_state"]);
            var actual = MeanPool(quantized.Run(input)["last_hidden_state"]);
            var cosine = ModelEvaluator.Cosine(expected, actual);
            Assert.True(cosine >= 0.99, $"sentence embedding cosine {cosine:F5} < 0.99 for {input["input_ids"].ElementCount} tokens");
        }
    }

    [Fact]
    public void MiniLm_dynamic_int8_passes_validation_against_the_original_and_is_written()
    {
        var model = TestData.MiniLm;
        var result = DynamicQuantizer.Quantize(model);
        var folder = Directory.CreateTempSubdirectory("accelsdk-int8-").FullName;
        try
        {
            var path = Path.Combine(folder, "minilm-int8.onnx");
            OptimizedModelWriter.Write(model, result, path, new ValidationOptions { Inputs = TestData.Sentences(model, 2) });
            Assert.Equal(new[] { path }, Directory.GetFiles(folder));
            Assert.Contains(Model.Load(path).Graph.Nodes, n => n.OpType == "MatMulInteger");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void ResNet18_dynamic_leaves_conv_in_float_unless_asked_and_ConvInteger_stays_accurate()
    {
        var model = TestData.ResNet18;
        var skipped = DynamicQuantizer.Quantize(model);
        Assert.Empty(skipped.ChangedNodes);
        Assert.All(skipped.SkippedNodes, s => Assert.Contains("QuantizeConv", s.Reason));

        var result = DynamicQuantizer.Quantize(model, new DynamicQuantizationOptions { QuantizeConv = true });
        Assert.Equal(22, result.Model.Graph.Nodes.Count(n => n.OpType == "ConvInteger"));
        Assert.Empty(result.SkippedNodes);
        var report = ModelEvaluator.Compare(model, result, TestData.Images(model, "evaluation"),
            new EvaluationOptions { MeasuredRuns = 1, WarmupRuns = 0, Devices = new[] { "ort-cpu" } });
        var accuracy = Assert.Single(report.Accuracy);
        Assert.True(accuracy.MinCosine >= 0.99, $"min cosine {accuracy.MinCosine:F5}");
        Assert.True(report.OptimizedBytes < report.BaselineBytes / 3);
    }

    [Fact]
    public void Gemm_with_transB_alpha_and_beta_quantizes_to_the_same_result()
    {
        var random = new Random(7);
        var graph = new Graph { Name = "gemm" };
        float[] Values(int n) => Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        graph.Initializers.Add(AccelTensor.Create(Values(32 * 64), 32, 64).WithName("W"));
        graph.Initializers.Add(AccelTensor.Create(Values(32), 32).WithName("C"));
        graph.Inputs.Add(new ValueInfo("X", new TensorType(ElementType.Float32, new TensorShape(4, 64))));
        graph.Outputs.Add(new ValueInfo("Y", new TensorType(ElementType.Float32, new TensorShape(4, 32))));
        var gemm = new Node("Gemm", new[] { "X", "W", "C" }, new[] { "Y" }, "gemm");
        gemm.Attributes.Add(NodeAttribute.Int("transB", 1));
        gemm.Attributes.Add(NodeAttribute.Float("alpha", 0.5f));
        gemm.Attributes.Add(NodeAttribute.Float("beta", 2f));
        graph.Nodes.Add(gemm);
        var model = new Model(graph) { IrVersion = 8 };
        model.OpsetImports[""] = 13;

        var result = DynamicQuantizer.Quantize(model, new DynamicQuantizationOptions { PerChannel = false });
        Assert.Contains(result.Model.Graph.Nodes, n => n.OpType == "MatMulInteger");
        var input = new Dictionary<string, AccelTensor> { ["X"] = AccelTensor.Create(Values(4 * 64), 4, 64) };
        var (backend, device) = AccelRuntime.Default.Resolve("ort-cpu");
        using var a = new AccelSession(GraphPartitioner.WholeModel(model, backend, device));
        using var b = new AccelSession(GraphPartitioner.WholeModel(result.Model, backend, device));
        var expected = a.Run(input)[0];
        var actual = b.Run(input)[0];
        // Two 8-bit operands over 64 products: about 1 % of the output range.
        Assert.Null(Onnx.Conformance.TensorComparison.Compare(actual, expected, rtol: 0.02, atol: 0.05));
    }

    private static AccelTensor MeanPool(AccelTensor hidden)
    {
        var values = hidden.AsSpan<float>();
        var (tokens, width) = ((int)hidden.Shape[1], (int)hidden.Shape[2]);
        var pooled = new float[width];
        for (var t = 0; t < tokens; t++)
            for (var d = 0; d < width; d++) pooled[d] += values[t * width + d] / tokens;
        return AccelTensor.FromArray(pooled);
    }
}
