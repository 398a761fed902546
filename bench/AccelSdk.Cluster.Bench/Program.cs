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
// median items/s of each is compared. Each set-up also reports the CPU time per item of the client (this process) and
// of each node process, which says what the two cores allow.
// Usage: AccelSdk.Cluster.Bench [items per round] [rounds] [--queue N] [--node-arg ARG ...] [--through-any-gateway]
// [--same-session] [--autogroup-nice N], or AccelSdk.Cluster.Bench split [items per round] [rounds] [--queue N]
// (SplitBench: a split stream pipelined against not pipelined); --queue sets ClusterSelectOptions.QueueCapacityPerNode (default 2); --node-arg
// passes ARG to both nodes (e.g. --node-arg --threads --node-arg 0: let each backend pick its thread count, as nodes
// did before); --through-any-gateway turns AccelClusterOptions.DirectToNodes off (as clients did before);
// --same-session starts the nodes in the bench's own session (by default each node gets a session of its own, as a
// node started as a service has: with autogroup scheduling a session's processes share one share of a busy CPU, so
// two nodes in one session get no more CPU together than one alone); --autogroup-nice N sets the nice value of the
// nodes' and the bench's autogroups (e.g. -10: on a machine busy with other sessions' work, the nodes' cores are
// nearly theirs, as on a dedicated machine; root only). Cake's Bench
// target passes BenchmarkDotNet's options, which are ignored. Run on a quiet machine: the load average is printed with it.
var nodeArguments = new List<string>();
var direct = true;
var ownSessions = true;
int? autogroupNice = null;
var queue = 2;
var numbers = new List<int>();
for (var i = 0; i < args.Length; i++)
{
    if (args[i] == "--node-arg" && i + 1 < args.Length) nodeArguments.Add(args[++i]);
    else if (args[i] == "--through-any-gateway") direct = false;
    else if (args[i] == "--same-session") ownSessions = false;
    else if (args[i] == "--queue" && i + 1 < args.Length) queue = int.Parse(args[++i], CultureInfo.InvariantCulture);
    else if (args[i] == "--autogroup-nice" && i + 1 < args.Length) autogroupNice = int.Parse(args[++i], CultureInfo.InvariantCulture);
    else if (int.TryParse(args[i], NumberStyles.Integer, CultureInfo.InvariantCulture, out var number)) numbers.Add(number);
}
var items = numbers.Count > 0 ? numbers[0] : 40;
var rounds = numbers.Count > 1 ? numbers[1] : 3;
if (args.Contains("split")) return await AccelSdk.Cluster.Bench.SplitBench.RunAsync(items, rounds, queue);
if (Environment.ProcessorCount < 2)
{
    Console.Error.WriteLine("cluster bench: needs 2 cores to pin two nodes to one core each");
    return 1;
}
var model = AccelSdk.TestSupport.RepoPaths.ResNet18;
Console.WriteLine($"ResNet18 on ort-cpu, {items} items per round, {rounds} rounds per set-up, nodes pinned to cpu 0 and cpu 1, {queue} requests per node queue" +
                  (nodeArguments.Count > 0 ? $", node arguments: {string.Join(' ', nodeArguments)}" : "") +
                  (direct ? ", each node's requests through its own gateway" : ", requests through any gateway (Orleans' default)") +
                  (ownSessions ? ", each node in a session of its own" : ", nodes in the bench's session"));
Console.WriteLine($"autogroup scheduling: {File.ReadAllText("/proc/sys/kernel/sched_autogroup_enabled").Trim()}" +
                  (autogroupNice is { } nice ? $", the nodes' and the bench's autogroups at nice {nice}" : ""));
Console.WriteLine($"load average before: {File.ReadAllText("/proc/loadavg").Trim()}");
using var redis = RedisServer.Start();
using var one = NodeProcess.Start("core0", redis.Connection, cpuList: "0", extraArguments: nodeArguments, ownSession: ownSessions);
using var two = NodeProcess.Start("core1", redis.Connection, cpuList: "1", extraArguments: nodeArguments, ownSession: ownSessions);
// "/autogroup-N nice V": the bench's own group is its caller's session, given back its nice value at the end.
var callerNice = File.ReadAllText("/proc/self/autogroup").Trim().Split(' ')[^1];
if (autogroupNice is { } groupNice)
{
    // Each node has a session (so an autogroup) of its own; the bench's is its caller's. Root only for nice < 0.
    foreach (var pid in new[] { one.ProcessId, two.ProcessId, Environment.ProcessId })
        File.WriteAllText($"/proc/{pid}/autogroup", groupNice.ToString(CultureInfo.InvariantCulture));
}
using var connect = new CancellationTokenSource(TimeSpan.FromSeconds(60));
await using var cluster = await AccelCluster.ConnectAsync(new AccelClusterOptions { Cluster = ClusterConnection.Parse(redis.Connection), DirectToNodes = direct }, connect.Token);
while (!(await cluster.GetActiveNodesAsync()).Contains("core1")) await Task.Delay(200);

var candidates = new[] { "ort-cpu" };
await using var alone = await cluster.SelectAsync(model, new ClusterSelectOptions { Nodes = new[] { "core0" }, Candidates = candidates, MeasuredRuns = 3, QueueCapacityPerNode = queue });
await using var both = await cluster.SelectAsync(model, new ClusterSelectOptions
{
    Nodes = new[] { "core0", "core1" }, Candidates = candidates, Placement = ClusterPlacement.DataParallel, MeasuredRuns = 3, QueueCapacityPerNode = queue,
});
Console.WriteLine($"data parallel shares: {string.Join(", ", both.Selection.Weights.Select(w => $"{w.Key} {w.Value:P0}"))}");
Console.WriteLine($"node threads: core0 {Threads(one.ProcessId)}, core1 {Threads(two.ProcessId)}");
var inputs = Enumerable.Range(0, items).Select(i => AccelSdk.Execution.SampleInputs.Random(Model.Load(model), seed: i)).ToList();
var oneRounds = new List<Round>();
var twoRounds = new List<Round>();
for (var round = 0; round < rounds; round++)
{
    oneRounds.Add(await RoundAsync(alone, inputs, one, two));
    twoRounds.Add(await RoundAsync(both, inputs, one, two));
    Console.WriteLine($"round {round + 1}: one node {oneRounds[^1].Rate:F2} items/s, two nodes {twoRounds[^1].Rate:F2} items/s");
}
var (oneMedian, twoMedian) = (Median(oneRounds.Select(r => r.Rate)), Median(twoRounds.Select(r => r.Rate)));
Console.WriteLine($"median: one node {oneMedian:F2} items/s, two nodes {twoMedian:F2} items/s, ratio {twoMedian / oneMedian:F2}x (target >= 1.7x)");
Describe("one node ", oneRounds);
Describe("two nodes", twoRounds);
// What the cores allow: a node never uses more than its core, the client shares the two cores with the nodes.
var nodeMs = Median(oneRounds.Select(r => r.Core0Ms));
var clientMs = Median(twoRounds.Select(r => r.ClientMs));
Console.WriteLine($"CPU bound: a node needs {nodeMs:F1} ms of its core per item and the client {clientMs:F2} ms per item; two cores allow at most " +
                  $"{2000 / (nodeMs + clientMs):F2} items/s with two nodes, {2 * nodeMs / (nodeMs + clientMs):F2}x one node that has its core to itself");
Console.WriteLine($"answers per node (two-node session): {string.Join(", ", both.CompletedByNode.Select(kv => $"{kv.Key} {kv.Value}"))}");
Console.WriteLine($"load average after: {File.ReadAllText("/proc/loadavg").Trim()}");
if (autogroupNice is not null) File.WriteAllText("/proc/self/autogroup", callerNice);
return 0;

static async Task<Round> RoundAsync(ClusterSession session, IReadOnlyList<IReadOnlyDictionary<string, AccelTensor>> inputs, NodeProcess core0, NodeProcess core1)
{
    var (client0, node0, node1) = (Process.GetCurrentProcess().TotalProcessorTime, core0.CpuTime, core1.CpuTime);
    var (wait0, wait1, clientWait) = (core0.RunQueueWait, core1.RunQueueWait, ProcessCpu.RunQueueWait(Environment.ProcessId));
    var clock = Stopwatch.StartNew();
    var count = 0;
    await foreach (var _ in session.RunManyAsync(Stream(inputs))) count++;
    var seconds = clock.Elapsed.TotalSeconds;
    var perItem = (TimeSpan spent) => spent.TotalMilliseconds / count;
    return new Round(count / seconds, seconds, perItem(Process.GetCurrentProcess().TotalProcessorTime - client0), perItem(core0.CpuTime - node0), perItem(core1.CpuTime - node1),
        perItem(ProcessCpu.RunQueueWait(Environment.ProcessId) - clientWait), perItem(core0.RunQueueWait - wait0), perItem(core1.RunQueueWait - wait1));
}

static void Describe(string label, List<Round> rounds)
{
    var wall = rounds.Sum(r => r.Seconds);
    Console.WriteLine($"{label}: CPU ms per item (median of rounds): client {Median(rounds.Select(r => r.ClientMs)):F2}, core0 node {Median(rounds.Select(r => r.Core0Ms)):F1}, " +
                      $"core1 node {Median(rounds.Select(r => r.Core1Ms)):F1}; waiting for a CPU, ms per item: client {Median(rounds.Select(r => r.ClientWaitMs)):F1}, " +
                      $"core0 node {Median(rounds.Select(r => r.Core0WaitMs)):F1}, core1 node {Median(rounds.Select(r => r.Core1WaitMs)):F1}; wall {wall:F1} s");
}

static async IAsyncEnumerable<IReadOnlyDictionary<string, AccelTensor>> Stream(IReadOnlyList<IReadOnlyDictionary<string, AccelTensor>> inputs)
{
    foreach (var input in inputs) yield return input;
    await Task.CompletedTask;
}

// The thread count and how many threads may run on which CPUs (a backend may set its threads' affinity itself).
static string Threads(int pid)
{
    var allowed = Directory.GetDirectories($"/proc/{pid}/task")
        .Select(task => File.ReadLines(Path.Combine(task, "status")).FirstOrDefault(l => l.StartsWith("Cpus_allowed_list:", StringComparison.Ordinal))?["Cpus_allowed_list:".Length..].Trim() ?? "?")
        .GroupBy(cpus => cpus)
        .Select(g => $"{g.Count()} on cpu {g.Key}");
    return string.Join(", ", allowed);
}

static double Median(IEnumerable<double> values)
{
    var sorted = values.Order().ToArray();
    return sorted[sorted.Length / 2];
}

/// <summary>One round of one set-up: items/s, its wall time and the CPU ms per item of the client and of each node process.</summary>
internal sealed record Round(double Rate, double Seconds, double ClientMs, double Core0Ms, double Core1Ms, double ClientWaitMs, double Core0WaitMs, double Core1WaitMs);
