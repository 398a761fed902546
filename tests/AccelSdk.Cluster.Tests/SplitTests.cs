using System.Diagnostics;
using AccelSdk.Cluster.Client;
using AccelSdk.Cluster.Hosting;
using AccelSdk.TestSupport;
using Xunit.Abstractions;

namespace AccelSdk.Cluster.Tests;

/// <summary>
/// Split placement on real nodes. The shaped-link test makes its own network namespace, veth pair, tbf qdiscs and CPU
/// cgroup (root only; skipped with the reason elsewhere): a weak node (25% of one core) beside the client and a strong
/// node behind the link. About 2-4 minutes on a loaded 2-core machine.
/// </summary>
[Collection("cluster")]
public sealed class SplitTests(TwoNodeCluster cluster, ITestOutputHelper output)
{
    private static readonly string[] OrtCpu = { "ort-cpu" };

    public static TheoryData<string> Models => new() { "resnet18/ResNet18.onnx", "blazeface/face_detection_front_128x128_barracuda.onnx" };

    [Theory]
    [MemberData(nameof(Models))]
    public async Task A_forced_split_answers_like_the_local_session(string model)
    {
        var path = RepoPaths.Model(model);
        await using var session = await cluster.Client.SelectAsync(path, new ClusterSelectOptions
        {
            Candidates = OrtCpu, Placement = ClusterPlacement.Split, MeasuredRuns = 2, SplitCandidates = 1,
        });
        var kept = session.Selection.KeptSplit ?? throw new Xunit.Sdk.XunitException("no split kept: " + string.Join("; ", session.Selection.Splits.Select(s => s.Error)));
        Assert.Equal(ClusterPlacement.Split, session.Selection.Placement);
        Assert.NotEqual(kept.Front, kept.Back);
        Assert.True(kept.MeasuredMs > 0 && kept.PredictedMs > 0);
        Assert.NotEmpty(session.Selection.Links);

        using var local = LocalReference.Open(path);
        for (var seed = 1; seed <= 2; seed++)
        {
            var inputs = LocalReference.Inputs(path, seed);
            var remote = await session.RunAsync(inputs);
            Assert.Equal($"{kept.Front}>{kept.Back}", remote.Node);
            // Same backend, but each stage is its own graph: ONNX Runtime cannot fuse across the cut, so within 1e-5.
            LocalReference.AssertClose(local.Run(inputs), remote, $"{model} seed {seed} split at layer {kept.Cut} over {remote.Node}");
        }

        // A stream pipelines: the front stage runs item i+1 while the back stage runs item i (node-side run times and
        // counters), answers stay in input order and equal the local session's. Then, with pipelining off, the front
        // stage waits for the back one before each item, so no run of it starts while the back stage holds an item.
        const int items = 12;
        // Made before the stream: making one reads the model (ResNet18: 45 MB), which would hold the stream back so that
        // each item reached the front stage only after the previous one had left the back stage.
        var stream = Enumerable.Range(0, items).Select(i => LocalReference.Inputs(path, 100 + i)).ToList();
        var before = await session.GetStageStatsAsync();
        var streamed = await StreamAsync(session, stream);
        for (var i = 0; i < items; i++)
            LocalReference.AssertClose(local.Run(stream[i]), streamed[i], $"{model} streamed item {i} over {streamed[i].Node}");
        var pipelined = await session.GetStageStatsAsync();
        Assert.Equal(2, pipelined.Count);
        var (front, back) = (pipelined[0], pipelined[1]);
        output.WriteLine($"{model} pipelined: {Describe(before, pipelined)}");
        Assert.Equal(items, back.Runs - before[1].Runs);
        Assert.True(front.RunsWhileDownstreamBusy > before[0].RunsWhileDownstreamBusy, $"{model}: the front stage never ran while the back stage held an item: {Describe(before, pipelined)}");
        Assert.True(Overlaps(front, back), $"{model}: no run of the front stage overlapped a run of the back stage: {Describe(before, pipelined)}");
        Assert.InRange(front.MostAwaitingDownstream, 1, new ClusterSelectOptions().QueueCapacityPerNode);

        session.PipelineSplit = false;
        await StreamAsync(session, stream);
        var sequential = await session.GetStageStatsAsync();
        output.WriteLine($"{model} sequential: {Describe(pipelined, sequential)}");
        Assert.Equal(pipelined[0].RunsWhileDownstreamBusy, sequential[0].RunsWhileDownstreamBusy);
    }

    private static async Task<List<ClusterRunResult>> StreamAsync(ClusterSession session, IReadOnlyList<IReadOnlyDictionary<string, AccelSdk.Ir.AccelTensor>> inputs)
    {
        var answers = new List<ClusterRunResult>();
        await foreach (var answer in session.RunManyAsync(Enumerate(inputs))) answers.Add(answer);
        Assert.Equal(inputs.Count, answers.Count);
        return answers;
    }

    private static async IAsyncEnumerable<IReadOnlyDictionary<string, AccelSdk.Ir.AccelTensor>> Enumerate(IReadOnlyList<IReadOnlyDictionary<string, AccelSdk.Ir.AccelTensor>> inputs)
    {
        foreach (var input in inputs) yield return input;
        await Task.CompletedTask;
    }

    /// <summary>True when some run of <paramref name="a"/> and some run of <paramref name="b"/> were in progress at the same moment (one machine, one clock).</summary>
    private static bool Overlaps(Wire.StageStats a, Wire.StageStats b) =>
        a.RecentRunStartsUtcTicks.Zip(a.RecentRunEndsUtcTicks).Any(x =>
            b.RecentRunStartsUtcTicks.Zip(b.RecentRunEndsUtcTicks).Any(y => x.First < y.Second && y.First < x.Second));

    private static string Describe(IReadOnlyList<Wire.StageStats> before, IReadOnlyList<Wire.StageStats> after) =>
        string.Join("; ", after.Select((s, i) => $"{s.Stage}: {s.Runs - before[i].Runs} runs, {s.RunsWhileDownstreamBusy - before[i].RunsWhileDownstreamBusy} while the next stage held an item, " +
                                                 $"at most {s.MostAwaitingDownstream} awaiting it"));

    [SkippableFact]
    public async Task The_measured_plan_follows_the_link_speed()
    {
        var noLink = ShapedLink.Unavailable();
        Skip.If(noLink is not null, noLink);
        var noCgroup = CpuThrottle.Unavailable();
        Skip.If(noCgroup is not null, noCgroup);
        var clock = Stopwatch.StartNew();
        using var link = ShapedLink.Create();
        using var throttle = CpuThrottle.Create(0.25);
        using var redis = RedisServer.Start(link.HostAddress);
        using var weak = NodeProcess.Start("weak", redis.Connection, place: new NodePlace(Address: link.HostAddress, Throttle: throttle));
        using var strong = NodeProcess.Start("strong", redis.Connection, place: new NodePlace(link.Namespace, link.NamespaceAddress));
        using var connect = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        // The client sits beside the weak node (the device) and reaches the strong one through it, over the link.
        await using var client = await AccelCluster.ConnectAsync(new AccelClusterOptions
        {
            Cluster = ClusterConnection.Parse(redis.Connection), Gateway = new System.Net.IPEndPoint(link.HostAddress, weak.GatewayPort),
        }, connect.Token);
        await TwoNodeCluster.WaitForNodesAsync(client, ["weak", "strong"], TimeSpan.FromSeconds(60));
        var path = RepoPaths.ResNet18;
        var options = new ClusterSelectOptions { Candidates = OrtCpu, ConsiderSplits = true, MeasuredRuns = 9 };
        using var local = LocalReference.Open(path);
        var log = new List<string>();
        var progress = new SynchronousProgress<ClusterProgress>(p => { lock (log) log.Add($"{clock.Elapsed.TotalSeconds,6:F1}s {p.Stage} {p.Node}: {p.Message}"); });

        // Fast link (the veth pair unshaped): the strong node is worth the trip.
        await using (var fast = await client.SelectAsync(path, options, progress))
        {
            var selection = fast.Selection;
            output.WriteLine(Describe("fast link", selection, log));
            Assert.True(selection.Placement == ClusterPlacement.WholeOnBestNode && selection.Weights["strong"] == 1.0, Describe("fast link", selection, log));
            AssertPredicted(selection, log);
            await AssertAnswersAsync(fast, local, path);
        }

        // Slow link (4 Mbit/s both ways): sending the 588 KiB input costs more than the weak node's compute.
        link.SetRate(4);
        var remeasuredBefore = client.LinkRemeasures;
        await using (var slow = await client.SelectAsync(path, options, progress))
        {
            var selection = slow.Selection;
            output.WriteLine(Describe("slow link", selection, log));
            var keptWeak = selection.Placement == ClusterPlacement.WholeOnBestNode && selection.Weights["weak"] == 1.0;
            Assert.True(keptWeak || selection.Placement == ClusterPlacement.Split, Describe("slow link", selection, log));
            Assert.True(client.LinkRemeasures > remeasuredBefore, "the shaped link was not found to have drifted:\n" + string.Join("\n", log));
            Assert.Contains(selection.Links, l => l.From == "weak" && l.To == "strong" && l.MegabitsPerSecond < 20);
            Assert.True(selection.KeptMeasuredMs <= selection.BestWholeMeasuredMs, Describe("slow link: kept slower than the best whole node in the run-off", selection, log));
            AssertPredicted(selection, log);
            await AssertAnswersAsync(slow, local, path);
        }
        Assert.True(clock.Elapsed < TimeSpan.FromMinutes(8), $"took {clock.Elapsed}");
    }

    private sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }

    /// <summary>
    /// The kept plan's measured latency is within 20% of its prediction. Asserted on a machine that is not overloaded
    /// (1-minute load average at most twice the cores, as in CI): on a shared 2-core machine at load 20-70 a node's own
    /// run time swings by 2x between one run and the next, and no prediction holds; there the figures are only printed.
    /// </summary>
    private void AssertPredicted(ClusterSelection selection, List<string> log)
    {
        var (predicted, measured) = (selection.KeptPredictedMs!.Value, selection.KeptMeasuredMs!.Value);
        var load = double.Parse(File.ReadAllText("/proc/loadavg").Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
        output.WriteLine($"kept plan: predicted {predicted:F1} ms, measured {measured:F1} ms ({(measured - predicted) / predicted:P0}); load average {load:F1} on {Environment.ProcessorCount} cores");
        if (load > 2.0 * Environment.ProcessorCount) return;
        Assert.True(Math.Abs(measured - predicted) <= 0.2 * predicted, Describe($"kept plan measured {measured:F1} ms vs predicted {predicted:F1} ms (over 20% apart)", selection, log));
    }

    private static async Task AssertAnswersAsync(ClusterSession session, Execution.AccelSession local, string path)
    {
        var inputs = LocalReference.Inputs(path, 7);
        var remote = await session.RunAsync(inputs);
        var expected = local.Run(inputs);
        if (session.Selection.Placement == ClusterPlacement.Split) LocalReference.AssertClose(expected, remote, $"split over {remote.Node}");
        else LocalReference.AssertSameBits(expected, remote, $"{session.Selection.Placement} on {remote.Node}");
    }

    private static string Describe(string what, ClusterSelection selection, List<string> log)
    {
        lock (log)
        {
            return $"{what}: kept {selection.Placement} ({string.Join(", ", selection.Weights.Select(w => $"{w.Key}={w.Value}"))}), " +
                   $"predicted {selection.KeptPredictedMs:F1} ms, measured {selection.KeptMeasuredMs:F1} ms\n" +
                   string.Join("\n", selection.Nodes.Select(n => $"  {n.Node}: whole {n.EndToEndMedianMs:F1} ms measured, {n.PredictedMs:F1} ms predicted, node {n.NodeMedianMs:F1} ms")) + "\n" +
                   string.Join("\n", selection.Splits.Select(s => $"  split {s.Front}>{s.Back} at {s.Cut}: {s.MeasuredMs:F1} ms measured, {s.PredictedMs:F1} predicted {s.Error}")) + "\n" +
                   string.Join("\n", log);
        }
    }
}
