using AccelSdk.Backends;
using AccelSdk.Execution;
using AccelSdk.Ir;
using AccelSdk.Onnx;
using AccelSdk.Onnx.Conformance;
using AccelSdk.TestSupport;
using Microsoft.ML.OnnxRuntime;

namespace AccelSdk.OnnxRuntime.Tests;

public class ModelTests
{
    private static AccelTensor ResNetInput()
    {
        var random = new Random(7);
        var data = new float[3 * 224 * 224];
        for (var i = 0; i < data.Length; i++) data[i] = (float)random.NextDouble() * 255f;
        return AccelTensor.Create(data, 1, 3, 224, 224);
    }

    private static float[] PlainOrt(string path, string inputName, AccelTensor input)
    {
        using var session = new InferenceSession(path);
        using var value = OrtValue.CreateTensorValueFromMemory(input.ToArray<float>(), input.ShapeArray);
        using var outputs = session.Run(new RunOptions(), new[] { inputName }, new[] { value }, session.OutputNames);
        return outputs[0].GetTensorDataAsSpan<float>().ToArray();
    }

    [Fact]
    public void ResNet18_through_Select_matches_plain_onnx_runtime_within_1e_5()
    {
        var path = RepoPaths.ResNet18;
        var input = ResNetInput();
        using var session = Accel.Select(path);
        var output = session.Run(input)[0];
        var reference = PlainOrt(path, session.Inputs[0].Name, input);

        Assert.Equal(reference.Length, output.ElementCount);
        var max = reference.Select((r, i) => Math.Abs(r - output.AsSpan<float>()[i])).Max();
        Assert.True(max <= 1e-5, $"max abs difference {max}");
        Assert.Contains(output.AsSpan<float>().ToArray(), v => v != 0);
        Assert.NotNull(session.Selection);
        Assert.Equal("ort-cpu", session.Selection!.Chosen.Id);
        Assert.All(session.Selection.Candidates.Where(c => c.Error is null), c => Assert.True(c.MedianMs > 0));
    }

    [Fact]
    public void ResNet18_split_into_three_partitions_matches_the_whole_model()
    {
        var model = Model.Load(RepoPaths.ResNet18);
        var (backend, device) = AccelRuntime.Default.Resolve("ort-cpu");
        var n = model.Graph.Nodes.Count;
        var plan = GraphPartitioner.FromPlacements(model, Enumerable.Range(0, n).Select(_ => new Placement(backend, device)).ToList());
        Assert.Single(plan.Partitions);
        Assert.Empty(plan.Transfers);

        var split = SplitPlan(model, backend, device, 3);
        Assert.Equal(3, split.Partitions.Count);
        Assert.All(split.Partitions.Skip(1), p => Assert.NotEmpty(p.InputNames));

        var input = ResNetInput();
        using var whole = new AccelSession(GraphPartitioner.WholeModel(model, backend, device));
        using var parts = new AccelSession(split);
        var expected = whole.Run(input)[0];
        var actual = parts.Run(input)[0];
        Assert.Equal(expected.ShapeArray, actual.ShapeArray);
        Assert.True(TensorComparison.MaxAbsDifference(expected, actual) <= 1e-5);
    }

    private static ExecutionPlan SplitPlan(Model model, IBackend backend, Device device, int parts)
    {
        var n = model.Graph.Nodes.Count;
        var types = ShapeInference.Infer(model);
        var partitions = new List<PlannedPartition>();
        for (var p = 0; p < parts; p++)
        {
            var nodes = Enumerable.Range(p * n / parts, (p + 1) * n / parts - p * n / parts).ToArray();
            var later = Enumerable.Range((p + 1) * n / parts, n - (p + 1) * n / parts).ToHashSet();
            partitions.Add(new PlannedPartition(p, backend, device, nodes, GraphPartitioner.Extract(model, nodes, types, later, $"part{p}")));
        }
        return new ExecutionPlan(model, partitions);
    }

    [Fact]
    public void Select_without_a_model_returns_an_available_device()
    {
        var accelerator = Accel.SelectDevice();
        Assert.True(accelerator.Device.IsAvailable);
        Assert.Contains(Accel.Devices, d => d.Id == "ort-cpu" && d.IsAvailable);
        var cpu = Accel.SelectDevice(SelectionPolicy.PreferCpu);
        Assert.Equal(DeviceKind.Cpu, cpu.Device.Kind);
    }

    [Theory]
    [InlineData(SelectionPolicy.LowestLatency)]
    [InlineData(SelectionPolicy.HighestThroughput)]
    [InlineData(SelectionPolicy.PreferCpu)]
    [InlineData(SelectionPolicy.PreferGpu)]
    public void Every_policy_measures_and_returns_a_working_session(SelectionPolicy policy)
    {
        var model = OnnxImporter.Load(Path.Combine(RepoPaths.OnnxCase("node", "test_matmul_2d"), "model.onnx"));
        using var session = Accel.Select(model, new SelectOptions { Policy = policy, MeasuredRuns = 3 });
        var report = session.Selection!;
        Assert.Equal(policy, report.Policy);
        var chosen = report.Candidates.Single(c => c.Device == report.Chosen);
        Assert.NotNull(chosen.MedianMs);
        if (policy == SelectionPolicy.HighestThroughput) Assert.True(chosen.ThroughputPerSecond > 0);
        var a = AccelTensor.Create(Enumerable.Range(0, 12).Select(i => (float)i).ToArray(), 3, 4);
        var b = AccelTensor.Create(Enumerable.Range(0, 12).Select(i => (float)(i % 3)).ToArray(), 4, 3);
        var y = session.Run(a, b)[0];
        Assert.Equal(new long[] { 3, 3 }, y.ShapeArray);
        // Every row of b is [0, 1, 2], so y[r, c] = c * (sum of row r of a).
        Assert.Equal(new float[] { 0, 6, 12, 0, 22, 44, 0, 38, 76 }, y.ToArray<float>());
    }
}
