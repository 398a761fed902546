using System.Diagnostics;
using AccelSdk.Cluster.Client;
using AccelSdk.Cluster.Hosting;
using AccelSdk.Cluster.Tests;
using AccelSdk.Cluster.Wire;
using AccelSdk.Ir;

namespace AccelSdk.Cluster.Bench;

/// <summary>
/// <c>split</c> mode: ResNet18 cut over two real nodes (each pinned to its own core, each in a session of its own), a
/// stream through <see cref="ClusterSession.RunManyAsync"/> with the stages pipelined (the front stage takes item i+1
/// while the back stage runs item i) against the same split run as before pipelining (each stage waits for the later
/// one to answer before it takes the next item), alternating rounds in one run; for two cuts, the latency policy's and
/// the throughput policy's. Prints the median items/s of each, their ratio, and what the stages counted on their nodes.
/// </summary>
internal static class SplitBench
{
    public static async Task<int> RunAsync(int items, int rounds, int queue)
    {
        var model = AccelSdk.TestSupport.RepoPaths.ResNet18;
        Console.WriteLine($"split: ResNet18 on ort-cpu over two nodes pinned to cpu 0 and cpu 1, {items} items per round, {rounds} rounds per set-up, " +
                          $"{queue} requests in the route at most");
        Console.WriteLine($"load average before: {File.ReadAllText("/proc/loadavg").Trim()}");
        using var redis = RedisServer.Start();
        using var front = NodeProcess.Start("core0", redis.Connection, cpuList: "0", ownSession: true);
        using var back = NodeProcess.Start("core1", redis.Connection, cpuList: "1", ownSession: true);
        using var connect = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await using var cluster = await AccelCluster.ConnectAsync(new AccelClusterOptions { Cluster = ClusterConnection.Parse(redis.Connection) }, connect.Token);
        using (var wait = new CancellationTokenSource(TimeSpan.FromSeconds(60)))
        {
            while (!(await cluster.GetActiveNodesAsync(wait.Token)).Contains("core1")) await Task.Delay(200, wait.Token);
        }
        // Two cuts: the latency policy's (the shortest single request) and the throughput policy's (the most even stages).
        var sessions = new List<(string Name, ClusterSession Session)>();
        try
        {
            foreach (var policy in new[] { SelectionPolicy.LowestLatency, SelectionPolicy.HighestThroughput })
            {
                var session = await cluster.SelectAsync(model, new ClusterSelectOptions
                {
                    Nodes = ["core0", "core1"], Candidates = ["ort-cpu"], Placement = ClusterPlacement.Split, Policy = policy, SplitCandidates = 1,
                    MeasuredRuns = 3, QueueCapacityPerNode = queue,
                });
                var kept = session.Selection.KeptSplit ?? throw new InvalidOperationException("no split could be prepared: " + string.Join("; ", session.Selection.Splits.Select(s => s.Error)));
                var name = policy == SelectionPolicy.LowestLatency ? "latency cut" : "throughput cut";
                sessions.Add((name, session));
                Console.WriteLine($"{name}: {kept.Front} runs layers 0-{kept.Cut - 1}, {kept.Back} the rest ({kept.CutBytes:N0} bytes cross); stages measured on their nodes " +
                                  $"{kept.FrontStageMs:F1} ms and {kept.BackStageMs:F1} ms, one request end to end {kept.MeasuredMs:F1} ms");
            }
            var inputs = Enumerable.Range(0, items).Select(i => AccelSdk.Execution.SampleInputs.Random(Model.Load(model), seed: i)).ToList();
            var rates = new Dictionary<string, List<double>>();
            var stages = new Dictionary<string, string>();
            for (var round = 0; round < rounds; round++)
            {
                var line = new List<string>();
                foreach (var (name, session) in sessions)
                {
                    foreach (var pipeline in new[] { true, false })
                    {
                        var setup = $"{name}, {(pipeline ? "pipelined" : "not pipelined")}";
                        session.PipelineSplit = pipeline;
                        var before = await session.GetStageStatsAsync();
                        var rate = await RoundAsync(session, inputs);
                        stages[setup] = Describe(before, await session.GetStageStatsAsync());
                        (rates.TryGetValue(setup, out var list) ? list : rates[setup] = new List<double>()).Add(rate);
                        line.Add($"{setup} {rate:F2}");
                    }
                }
                Console.WriteLine($"round {round + 1} (items/s): {string.Join("; ", line)}");
            }
            foreach (var (name, _) in sessions)
            {
                var (p, n) = (Median(rates[$"{name}, pipelined"]), Median(rates[$"{name}, not pipelined"]));
                Console.WriteLine($"{name}: median pipelined {p:F2} items/s, not pipelined {n:F2} items/s, ratio {p / n:F2}x");
                Console.WriteLine($"  stages, last pipelined round: {stages[$"{name}, pipelined"]}");
                Console.WriteLine($"  stages, last round not pipelined: {stages[$"{name}, not pipelined"]}");
            }
        }
        finally
        {
            foreach (var (_, session) in sessions) await session.DisposeAsync();
        }
        Console.WriteLine($"load average after: {File.ReadAllText("/proc/loadavg").Trim()}");
        return 0;
    }

    private static async Task<double> RoundAsync(ClusterSession session, IReadOnlyList<IReadOnlyDictionary<string, AccelTensor>> inputs)
    {
        var clock = Stopwatch.StartNew();
        var count = 0;
        await foreach (var _ in session.RunManyAsync(Stream(inputs))) count++;
        return count / clock.Elapsed.TotalSeconds;
    }

    private static async IAsyncEnumerable<IReadOnlyDictionary<string, AccelTensor>> Stream(IReadOnlyList<IReadOnlyDictionary<string, AccelTensor>> inputs)
    {
        foreach (var input in inputs) yield return input;
        await Task.CompletedTask;
    }

    private static string Describe(IReadOnlyList<StageStats> before, IReadOnlyList<StageStats> after) =>
        string.Join("; ", after.Select((s, i) => $"{s.Node} {s.Runs - before[i].Runs} runs, {s.RunsWhileDownstreamBusy - before[i].RunsWhileDownstreamBusy} " +
                                                 $"while the next stage held an item, busy {BusyShare(before[i], s):P0} of the round"));

    /// <summary>The share of the round's wall time the stage's session was running, from the node's own run times.</summary>
    private static double BusyShare(StageStats before, StageStats after)
    {
        var known = before.RecentRunEndsUtcTicks.Length == 0 ? 0 : before.RecentRunEndsUtcTicks.Max();
        var runs = after.RecentRunStartsUtcTicks.Zip(after.RecentRunEndsUtcTicks).Where(r => r.First > known).ToList();
        if (runs.Count == 0) return 0;
        var span = runs.Max(r => r.Second) - runs.Min(r => r.First);
        return span <= 0 ? 0 : runs.Sum(r => (double)(r.Second - r.First)) / span;
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted[sorted.Length / 2];
    }
}
