using System.Diagnostics;
using System.Globalization;
using AccelSdk;
using AccelSdk.Cluster.Client;
using AccelSdk.Cluster.Hosting;
using AccelSdk.Cluster.Tests;
using AccelSdk.Ir;

// Data parallel on the cluster against one node, side by side in one run: two real node processes, each pinned to its
// own core with taskset, serve a ResNet18 stream together; the same stream on one of them alone is the baseline. The
// two set-ups alternate (one, two, one, two, ...) so that load from other processes falls on both alike, and the
// median items/s of each is compared. Usage: AccelSdk.Cluster.Bench [items per round] [rounds]; Cake's Bench target
// passes BenchmarkDotNet's options, which are ignored. Run on a quiet machine: the load average is printed with it.
var numbers = args.Where(a => int.TryParse(a, NumberStyles.Integer, CultureInfo.InvariantCulture, out _)).Select(a => int.Parse(a, CultureInfo.InvariantCulture)).ToArray();
var items = numbers.Length > 0 ? numbers[0] : 40;
var rounds = numbers.Length > 1 ? numbers[1] : 3;
if (Environment.ProcessorCount < 2)
{
    Console.Error.WriteLine("cluster bench: needs 2 cores to pin two nodes to one core each");
    return 1;
}
var model = AccelSdk.TestSupport.RepoPaths.ResNet18;
Console.WriteLine($"ResNet18 on ort-cpu, {items} items per round, {rounds} rounds per set-up, nodes pinned to cpu 0 and cpu 1");
Console.WriteLine($"load average before: {File.ReadAllText("/proc/loadavg").Trim()}");
using var redis = RedisServer.Start();
using var one = NodeProcess.Start("core0", redis.Connection, cpuList: "0");
using var two = NodeProcess.Start("core1", redis.Connection, cpuList: "1");
using var connect = new CancellationTokenSource(TimeSpan.FromSeconds(60));
await using var cluster = await AccelCluster.ConnectAsync(new AccelClusterOptions { Cluster = ClusterConnection.Parse(redis.Connection) }, connect.Token);
while (!(await cluster.GetActiveNodesAsync()).Contains("core1")) await Task.Delay(200);

var candidates = new[] { "ort-cpu" };
await using var alone = await cluster.SelectAsync(model, new ClusterSelectOptions { Nodes = new[] { "core0" }, Candidates = candidates, MeasuredRuns = 3, QueueCapacityPerNode = 2 });
await using var both = await cluster.SelectAsync(model, new ClusterSelectOptions
{
    Nodes = new[] { "core0", "core1" }, Candidates = candidates, Placement = ClusterPlacement.DataParallel, MeasuredRuns = 3, QueueCapacityPerNode = 2,
});
Console.WriteLine($"data parallel shares: {string.Join(", ", both.Selection.Weights.Select(w => $"{w.Key} {w.Value:P0}"))}");
var inputs = Enumerable.Range(0, items).Select(i => AccelSdk.Execution.SampleInputs.Random(Model.Load(model), seed: i)).ToList();
var oneRates = new List<double>();
var twoRates = new List<double>();
for (var round = 0; round < rounds; round++)
{
    oneRates.Add(await RateAsync(alone, inputs));
    twoRates.Add(await RateAsync(both, inputs));
    Console.WriteLine($"round {round + 1}: one node {oneRates[^1]:F2} items/s, two nodes {twoRates[^1]:F2} items/s");
}
var (oneMedian, twoMedian) = (Median(oneRates), Median(twoRates));
Console.WriteLine($"median: one node {oneMedian:F2} items/s, two nodes {twoMedian:F2} items/s, ratio {twoMedian / oneMedian:F2}x (target >= 1.7x)");
Console.WriteLine($"answers per node (two-node session): {string.Join(", ", both.CompletedByNode.Select(kv => $"{kv.Key} {kv.Value}"))}");
Console.WriteLine($"load average after: {File.ReadAllText("/proc/loadavg").Trim()}");
return 0;

static async Task<double> RateAsync(ClusterSession session, IReadOnlyList<IReadOnlyDictionary<string, AccelTensor>> inputs)
{
    var clock = Stopwatch.StartNew();
    var count = 0;
    await foreach (var _ in session.RunManyAsync(Stream(inputs))) count++;
    return count / clock.Elapsed.TotalSeconds;
}

static async IAsyncEnumerable<IReadOnlyDictionary<string, AccelTensor>> Stream(IReadOnlyList<IReadOnlyDictionary<string, AccelTensor>> inputs)
{
    foreach (var input in inputs) yield return input;
    await Task.CompletedTask;
}

static double Median(List<double> values)
{
    var sorted = values.Order().ToArray();
    return sorted[sorted.Length / 2];
}
