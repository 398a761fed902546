using System.Diagnostics;
using AccelSdk.Execution;
using AccelSdk.Ir;
using AccelSdk.TestSupport;
using Xunit.Abstractions;

namespace AccelSdk.Autotune.Tests;

/// <summary>
/// Cancellation of a real autotune (ONNX Runtime and ILGPU on ResNet18, about 20-40 s on the 2-core CI machine) and
/// the isolation of concurrent tunings' warnings (a few seconds).
/// </summary>
public sealed class CancellationAndIsolationTests(ITestOutputHelper output)
{
    /// <summary>The target for how soon a cancelled tuning returns.</summary>
    private static readonly TimeSpan CancellationTarget = TimeSpan.FromSeconds(1);

    [Fact]
    public async Task Cancelling_a_ResNet18_autotune_mid_way_returns_within_a_second_writes_nothing_and_the_next_tune_is_correct()
    {
        var dir = TestModels.TempDirectory("cancel");
        using var runtime = new AccelRuntimeBuilder().AddOnnxRuntime().AddIlgpu().Build();
        var model = runtime.LoadModel(RepoPaths.ResNet18);
        var options = new AutotuneOptions { CacheDirectory = dir, NodeTiming = TestModels.QuickTiming, PlanRuns = 5 };

        using var cancel = new CancellationTokenSource();
        long cancelledAt = 0;
        using var stamp = cancel.Token.Register(() => Interlocked.Exchange(ref cancelledAt, Stopwatch.GetTimestamp()));
        SelectionProgress? last = null;
        var nodesProfiled = 0;
        var progress = new InlineProgress<SelectionProgress>(p =>
        {
            last = p;
            // Cancelled from another thread once a tenth of the nodes have begun, so it lands mid-way through node
            // profiling (between or during runs) however fast the machine is: a fixed 500 ms delay after the first node
            // let an idle machine finish all 74 nodes first. A dedicated thread, not CancelAfter: with both cores busy
            // in ORT and ILGPU worker threads, the thread-pool timer fired only in the plans stage, seconds later.
            if (p.Stage == "nodes" && Interlocked.Increment(ref nodesProfiled) == 8)
            {
                new Thread(() =>
                {
                    Thread.Sleep(20);
                    cancel.Cancel();
                }) { IsBackground = true }.Start();
            }
        });
        var tuning = Task.Run(() => Autotuner.Tune(runtime, model, options with { Progress = progress }, cancel.Token));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => tuning);
        var latency = Stopwatch.GetElapsedTime(Interlocked.Read(ref cancelledAt));
        output.WriteLine($"returned {latency.TotalMilliseconds:F0} ms after cancellation, during {last}");

        Assert.True(nodesProfiled < model.Graph.Nodes.Count, $"cancelled mid-way: {nodesProfiled} of {model.Graph.Nodes.Count} nodes begun");
        Assert.True(latency < CancellationTarget, $"returned {latency.TotalMilliseconds:F0} ms after cancellation (target < {CancellationTarget.TotalMilliseconds} ms), during {last}");
        // Cancelled before the cache is saved (and a save is temp file + rename): no cache, no temporary left.
        Assert.DoesNotContain(Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories), f => f.EndsWith(".json", StringComparison.Ordinal) || f.Contains(".tmp", StringComparison.Ordinal));

        var result = Autotuner.Tune(runtime, model, options);
        using var session = result.Session!;
        Assert.False(result.FromCache);
        Assert.True(File.Exists(result.CachePath));
        var inputs = SampleInputs.Random(model);
        using var ort = runtime.Resolve("ort-cpu").Load(model);
        Assert.True(Autotuner.MaxRelativeDifference(session.Run(inputs), ort.Run(inputs)) <= 1e-4);
    }

    [Fact]
    public async Task Two_concurrent_tunings_keep_their_own_warnings()
    {
        var logger = new CollectingLogger();
        using var runtime = new AccelRuntimeBuilder().AddOnnxRuntime().UseLogger(logger).Build();
        var options = new AutotuneOptions { NoCache = true, NodeTiming = TestModels.QuickTiming, PlanRuns = 3 };
        // A symbolic batch dimension makes each tuning warn, naming its own model.
        var tunings = new[] { "left", "right" }.Select(name => Task.Run(() => Autotuner.Tune(runtime, Symbolic(name), options))).ToArray();
        var results = await Task.WhenAll(tunings);
        foreach (var r in results) r.Session?.Dispose();

        var (left, right) = (results[0], results[1]);
        Assert.Contains(left.Warnings, w => w.StartsWith("left: input 'x' has shape [N,8]", StringComparison.Ordinal));
        Assert.Contains(right.Warnings, w => w.StartsWith("right: input 'x' has shape [N,8]", StringComparison.Ordinal));
        Assert.DoesNotContain(left.Warnings, w => w.Contains("right", StringComparison.Ordinal));
        Assert.DoesNotContain(right.Warnings, w => w.Contains("left", StringComparison.Ordinal));
        // Both went to the runtime's logger.
        Assert.Contains(logger.Messages, m => m.StartsWith("left: ", StringComparison.Ordinal));
        Assert.Contains(logger.Messages, m => m.StartsWith("right: ", StringComparison.Ordinal));
    }

    private static Model Symbolic(string name)
    {
        var shape = new TensorShape(new[] { Dimension.Symbolic("N"), Dimension.Known(8) });
        var graph = new Graph { Name = name };
        graph.Inputs.Add(new ValueInfo("x", new TensorType(ElementType.Float32, shape)));
        graph.Outputs.Add(new ValueInfo("y", new TensorType(ElementType.Float32, shape)));
        graph.Nodes.Add(new Node("Relu", new[] { "x" }, new[] { "r" }, "relu"));
        graph.Nodes.Add(new Node("Sigmoid", new[] { "r" }, new[] { "y" }, "sigmoid"));
        var model = new Model(graph) { IrVersion = 8 };
        model.OpsetImports[""] = 13;
        return model;
    }
}
