using AccelSdk.Backends;
using AccelSdk.Execution;
using AccelSdk.Ir;
using AccelSdk.Onnx;
using AccelSdk.Optimize.Pruning;
using AccelSdk.Optimize.Reports;

namespace AccelSdk.Optimize.Tests;

public sealed class PruningTests
{
    [Fact]
    public void Magnitude_pruning_zeroes_the_requested_share_per_layer_and_globally()
    {
        var model = TestData.ResNet18;
        var before = OnnxExporter.ToBytes(model);
        foreach (var scope in new[] { PruningScope.PerLayer, PruningScope.Global })
        {
            var result = MagnitudePruner.Prune(model, new PruningOptions { Sparsity = 0.4, Scope = scope });
            var weights = result.Model.Graph.Nodes.Where(n => n.OpType == "Conv")
                .Select(n => result.Model.Graph.FindInitializer(n.Inputs[1])!).ToList();
            var zeros = weights.Sum(w => (double)w.ToArray<float>().Count(v => v == 0));
            var total = weights.Sum(w => (double)w.ElementCount);
            Assert.InRange(zeros / total, 0.399, 0.401);
            if (scope == PruningScope.PerLayer)
            {
                Assert.All(weights, w => Assert.InRange(w.ToArray<float>().Count(v => v == 0) / (double)w.ElementCount, 0.39, 0.41));
            }
        }
        Assert.Equal(before, OnnxExporter.ToBytes(model));
    }

    [Fact]
    public void Structured_pruning_removes_channels_rewires_readers_and_matches_zeroed_filters_away_from_borders()
    {
        // Conv(8 -> 6) -> Relu -> Conv(6 -> 4): two filters of the first conv are tiny, so pruning 1/3 removes them.
        var random = new Random(11);
        float[] Values(int n, float scale) => Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() * 2 - 1) * scale).ToArray();
        var w1 = Values(6 * 8 * 3 * 3, 1f);
        for (var i = 0; i < 8 * 9; i++) { w1[1 * 72 + i] *= 1e-4f; w1[4 * 72 + i] *= 1e-4f; }
        var graph = new Graph { Name = "convs" };
        graph.Initializers.Add(AccelTensor.Create(w1, 6, 8, 3, 3).WithName("W1"));
        graph.Initializers.Add(AccelTensor.Create(Values(6, 0.5f), 6).WithName("B1"));
        graph.Initializers.Add(AccelTensor.Create(Values(4 * 6 * 3 * 3, 1f), 4, 6, 3, 3).WithName("W2"));
        graph.Inputs.Add(new ValueInfo("X", new TensorType(ElementType.Float32, new TensorShape(1, 8, 12, 12))));
        graph.Outputs.Add(new ValueInfo("Y", new TensorType(ElementType.Float32, new TensorShape(1, 4, 12, 12))));
        Node Conv(string x, string w, string? b, string y)
        {
            var n = new Node("Conv", b is null ? new[] { x, w } : new[] { x, w, b }, new[] { y }, "conv_" + y);
            n.Attributes.Add(NodeAttribute.Ints("pads", 1, 1, 1, 1));
            return n;
        }
        graph.Nodes.Add(Conv("X", "W1", "B1", "A"));
        graph.Nodes.Add(new Node("Relu", new[] { "A" }, new[] { "R" }, "relu"));
        graph.Nodes.Add(Conv("R", "W2", null, "Y"));
        var model = new Model(graph) { IrVersion = 8 };
        model.OpsetImports[""] = 13;

        var result = ChannelPruner.Prune(model, new PruningOptions { Sparsity = 1 / 3.0 });
        var pruned = result.Model.Graph;
        Assert.Equal(new long[] { 4, 8, 3, 3 }, pruned.FindInitializer("W1")!.ShapeArray);
        Assert.Equal(new long[] { 4, 6 - 2, 3, 3 }, pruned.FindInitializer("W2")!.ShapeArray);
        Assert.Equal(new[] { 0f, 2, 3, 5 }.Select(c => w1[(int)c * 72]), pruned.FindInitializer("W1")!.ToArray<float>().Where((_, i) => i % 72 == 0));

        var input = new Dictionary<string, AccelTensor> { ["X"] = AccelTensor.Create(Values(8 * 12 * 12, 1f), 1, 8, 12, 12) };
        var (backend, device) = AccelRuntime.Default.Resolve("ort-cpu");
        using var a = new AccelSession(GraphPartitioner.WholeModel(model, backend, device));
        using var b = new AccelSession(GraphPartitioner.WholeModel(result.Model, backend, device));
        var expected = a.Run(input)[0].ToArray<float>();
        var actual = b.Run(input)[0].ToArray<float>();
        // Interior pixels (the 3x3 reader sees no zero padding there): the removed channels were relu(bias) constants.
        for (var c = 0; c < 4; c++)
            for (var y = 1; y < 11; y++)
                for (var x = 1; x < 11; x++)
                {
                    var i = (c * 12 + y) * 12 + x;
                    Assert.True(Math.Abs(expected[i] - actual[i]) < 1e-2, $"channel {c} ({y},{x}): {expected[i]} vs {actual[i]}");
                }
    }

    [Fact]
    public void ResNet18_structured_pruning_at_30_percent_gives_a_smaller_model_that_runs()
    {
        var model = TestData.ResNet18;
        var result = ChannelPruner.Prune(model, new PruningOptions { Sparsity = 0.3 });
        Assert.Equal(18, result.ChangedNodes.Count);
        var report = ModelEvaluator.Compare(model, result, TestData.Images(model, "evaluation").Take(2).ToList(),
            new EvaluationOptions { MeasuredRuns = 1, WarmupRuns = 0, Devices = new[] { "ort-cpu" } });
        Assert.InRange(report.SizeRatio, 0.6, 0.8);
        // No fine-tuning: the accuracy cost is real and is what the report states, not a pass/fail bar.
        Assert.InRange(report.Accuracy[0].MeanCosine, 0.0, 1.0);
        Assert.Contains(result.Model.Graph.Nodes, n => n.OpType == "Conv");
    }

    [Theory]
    [InlineData(-0.1)]
    [InlineData(1.0)]
    [InlineData(double.NaN)]
    public void Sparsity_outside_0_1_is_refused_by_name(double sparsity)
    {
        var e = Assert.Throws<InvalidOptimizationOptionException>(() => ChannelPruner.Prune(TestData.ResNet18, new PruningOptions { Sparsity = sparsity }));
        Assert.Equal("sparsity", e.Option);
        Assert.Throws<InvalidOptimizationOptionException>(() => MagnitudePruner.Prune(TestData.ResNet18, new PruningOptions { Sparsity = sparsity }));
    }
}
