using AccelSdk.Backends;
using AccelSdk.Execution;
using AccelSdk.Ir;
using Xunit;

namespace AccelSdk.Ilgpu.Tests;

/// <summary>Issue 12 on ILGPU's CPU accelerator: wrapped caller memory, runs into caller buffers, cancellation between kernels.</summary>
public class CallerBufferTests
{
    private static AccelSession Session(Model model) => new(GraphPartitioner.WholeModel(model, Shared.Backend, Shared.Cpu));

    /// <summary>y = x + 1, applied <paramref name="steps"/> times, with x float[N,1024]: its run time grows with N.</summary>
    private static Model AddChain(int steps)
    {
        var g = new Graph { Name = "add-chain" };
        var type = new TensorType(ElementType.Float32, new TensorShape(new[] { Dimension.Symbolic("N"), Dimension.Known(1024) }));
        g.Inputs.Add(new ValueInfo("x", type));
        g.Outputs.Add(new ValueInfo("y", type));
        g.Initializers.Add(AccelTensor.Create(new[] { 1f }, 1).WithName("one"));
        var previous = "x";
        for (var i = 0; i < steps; i++)
        {
            var next = i == steps - 1 ? "y" : $"v{i}";
            g.Nodes.Add(new Node("Add", new[] { previous, "one" }, new[] { next }, $"add{i}"));
            previous = next;
        }
        var m = new Model(g);
        m.OpsetImports[""] = 17;
        return m;
    }

    [Fact]
    public void Outputs_are_downloaded_into_the_callers_buffers_from_wrapped_inputs()
    {
        using var session = Session(AddChain(3));
        var data = new float[2 * 1024];
        data[5] = 10f;
        using var x = AccelTensor.Wrap(data, 2, 1024);
        var yData = new float[2 * 1024];
        using var y = AccelTensor.Wrap(yData, 2, 1024);
        session.Run(new[] { x }, new[] { y });
        Assert.Equal(13f, yData[5]);
        Assert.Equal(3f, yData[2047]);

        var e = Assert.Throws<OutputMismatchException>(() => session.Run(new[] { x }, new[] { AccelTensor.Zeros(ElementType.Float32, new long[] { 1, 1024 }) }));
        Assert.Equal("y", e.TensorName);
        Assert.Contains("produced float32[2,1024]", e.Message);
        Assert.Throws<OutputMismatchException>(() => session.Run(new[] { x }, new[] { AccelTensor.Zeros(ElementType.Int32, new long[] { 2, 1024 }) }));
    }

    [Fact]
    public async Task Cancelling_stops_a_long_run_between_kernels_and_the_session_runs_normally_afterwards()
    {
        // 400 Adds over float[8192,1024] take seconds on ILGPU's CPU accelerator; over float[1,1024] milliseconds.
        using var session = Session(AddChain(400));
        var big = AccelTensor.Zeros(ElementType.Float32, new long[] { 8192, 1024 });
        using var cancel = new CancellationTokenSource();
        var run = session.RunAsync(new[] { big }, cancel.Token);
        await Task.Delay(300);
        Assert.False(run.IsCompleted, "the long run ended before it could be cancelled");
        var watch = System.Diagnostics.Stopwatch.StartNew();
        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2), $"stopped {watch.Elapsed} after cancellation");

        var small = AccelTensor.Create(Enumerable.Range(0, 1024).Select(i => (float)i).ToArray(), 1, 1024);
        var y = (await session.RunAsync(new[] { small }, CancellationToken.None))[0].ToArray<float>();
        Assert.Equal(400f, y[0]);
        Assert.Equal(1423f, y[1023]);
    }

    [Fact]
    public async Task A_two_partition_plan_fills_buffers_from_both_backends_and_checks_the_token_between_partitions()
    {
        // y = Relu(x) on ONNX Runtime, z = Neg(y) on ILGPU: y is a graph output and the ILGPU partition's input.
        var g = new Graph { Name = "split" };
        var type = new TensorType(ElementType.Float32, new TensorShape(2, 3));
        g.Inputs.Add(new ValueInfo("x", type));
        g.Outputs.Add(new ValueInfo("y", type));
        g.Outputs.Add(new ValueInfo("z", type));
        g.Nodes.Add(new Node("Relu", new[] { "x" }, new[] { "y" }, "relu"));
        g.Nodes.Add(new Node("Neg", new[] { "y" }, new[] { "z" }, "neg"));
        var model = new Model(g);
        model.OpsetImports[""] = 17;
        var (ort, ortCpu) = AccelRuntime.Default.Resolve("ort-cpu");
        var plan = GraphPartitioner.FromPlacements(model, new[] { new Placement(ort, ortCpu), new Placement(Shared.Backend, Shared.Cpu) });
        Assert.Equal(2, plan.Partitions.Count);
        using var session = new AccelSession(plan);

        using var x = AccelTensor.Wrap(new[] { -1f, 2f, -3f, 4f, -5f, 6f }, 2, 3);
        var y = AccelTensor.Zeros(ElementType.Float32, new long[] { 2, 3 });
        var z = AccelTensor.Zeros(ElementType.Float32, new long[] { 2, 3 });
        session.Run(new[] { x }, new[] { y, z });
        Assert.Equal(new[] { 0f, 2f, 0f, 4f, 0f, 6f }, y.ToArray<float>());
        Assert.Equal(new[] { 0f, -2f, 0f, -4f, 0f, -6f }, z.ToArray<float>());

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => session.RunAsync(new[] { x }, new[] { y, z }, new CancellationToken(canceled: true)));
        var result = await session.RunAsync(new[] { x }, CancellationToken.None);
        Assert.Equal(-6f, result["z"].AsSpan<float>()[5]);
    }
}
