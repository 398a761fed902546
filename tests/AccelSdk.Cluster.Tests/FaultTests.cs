using System.Diagnostics;
using AccelSdk.Cluster.Client;
using AccelSdk.Ir;
using AccelSdk.TestSupport;
using Xunit.Abstractions;

namespace AccelSdk.Cluster.Tests;

/// <summary>
/// Membership faults on real processes: a node SIGKILLed mid-stream and a node joining. About 60-90 s on a loaded
/// 2-core machine (three node starts); each loop is bounded in count and time.
/// </summary>
[Collection("cluster")]
public sealed class FaultTests(TwoNodeCluster shared, ITestOutputHelper output)
{
    private static readonly string[] OrtCpu = { "ort-cpu" };
    private static string Relu => RepoPaths.OnnxCase("node", "test_relu") + "/model.onnx";

    [Fact]
    public async Task A_node_killed_with_1000_requests_in_flight_loses_and_duplicates_none()
    {
        using var redis = RedisServer.Start();
        var nodes = new List<NodeProcess>();
        try
        {
            foreach (var name in new[] { "k1", "k2", "k3" }) nodes.Add(NodeProcess.Start(name, redis.Connection));
            using var connect = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            await using var client = await AccelCluster.ConnectAsync(new AccelClusterOptions { Cluster = Hosting.ClusterConnection.Parse(redis.Connection), ResponseTimeout = TimeSpan.FromSeconds(5) }, connect.Token);
            await TwoNodeCluster.WaitForNodesAsync(client, new[] { "k1", "k2", "k3" }, TimeSpan.FromSeconds(60));
            await using var session = await client.SelectAsync(Relu, new ClusterSelectOptions
            {
                Candidates = OrtCpu, Placement = ClusterPlacement.DataParallel, MeasuredRuns = 2, QueueCapacityPerNode = 8,
            });
            Assert.Equal(3, session.Selection.Weights.Count(w => w.Value > 0));

            const int requests = 1000;
            var clock = Stopwatch.StartNew();
            var inputs = Enumerable.Range(0, requests).Select(Input).ToArray();
            var tasks = inputs.Select(x => session.RunAsync(x)).ToArray();
            var victim = nodes[1];
            using (var wait = new CancellationTokenSource(TimeSpan.FromSeconds(60)))
            {
                while (session.CompletedByNode.GetValueOrDefault(victim.Name) < 20 || session.CompletedByNode.Values.Sum() < 100)
                    await Task.Delay(10, wait.Token);
            }
            var answeredBeforeKill = session.CompletedByNode.Values.Sum();
            victim.Kill();

            var outcomes = await Task.WhenAll(tasks.Select(OutcomeAsync)).WaitAsync(TimeSpan.FromSeconds(120));
            clock.Stop();
            Assert.True(answeredBeforeKill < requests, "the kill came after every request was answered: nothing was in flight");
            var verdict = Account(inputs, outcomes, session.CompletedByNode);
            Assert.True(verdict.Lost.Count == 0 && verdict.Duplicated.Count == 0,
                $"{verdict.Lost.Count} lost, {verdict.Duplicated.Count} duplicated ({victim.Name} killed after {answeredBeforeKill} answers, {session.Retries} retried attempts):\n" +
                string.Join("\n", verdict.Lost.Concat(verdict.Duplicated).Take(40)));
            var perNode = string.Join(", ", session.CompletedByNode.Select(kv => $"{kv.Key} {kv.Value}"));
            Assert.False(session.ServingNodes.Contains(victim.Name), $"the killed node {victim.Name} still serves; serving: {string.Join(", ", session.ServingNodes)}");
            Assert.True(session.CompletedByNode.Where(kv => kv.Key != victim.Name).All(kv => kv.Value > 0), $"a living node answered nothing: {perNode}");
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(120), $"took {clock.Elapsed}");
            // The client's direct connection to the dead node is taken out once membership has dropped it (the session
            // reads membership every second); those to the living nodes stay.
            using (var retire = new CancellationTokenSource(TimeSpan.FromSeconds(60)))
            {
                while (client.DirectGateways.Any(g => g.Port == victim.GatewayPort)) await Task.Delay(200, retire.Token);
            }
            Assert.All(nodes.Where(n => n != victim), n => Assert.Contains(n.GatewayPort, client.DirectGateways.Select(g => g.Port)));
            output.WriteLine($"{requests} requests in {clock.Elapsed.TotalSeconds:F1} s, {victim.Name} killed after {answeredBeforeKill} answers; " +
                $"retried attempts {session.Retries}; answers per node: {string.Join(", ", session.CompletedByNode.Select(kv => $"{kv.Key} {kv.Value}"))}");
        }
        finally
        {
            foreach (var node in nodes) node.Dispose();
        }
    }

    [Fact]
    public async Task A_node_that_joins_takes_load_without_restarting_the_client()
    {
        var client = shared.Client;
        await using var session = await client.SelectAsync(Relu, new ClusterSelectOptions
        {
            Candidates = OrtCpu, Placement = ClusterPlacement.DataParallel, Nodes = new[] { "a", "b", "joiner" }, MeasuredRuns = 1, QueueCapacityPerNode = 2,
        });
        Assert.DoesNotContain("joiner", session.ServingNodes);
        using var joiner = NodeProcess.Launch("joiner", shared.Redis.Connection);
        var answered = 0;
        await foreach (var answer in session.RunManyAsync(Stream(session, TimeSpan.FromSeconds(120))))
        {
            answered++;
            Assert.Single(answer);
        }
        output.WriteLine($"{answered} answered; per node: {string.Join(", ", session.CompletedByNode.Select(kv => $"{kv.Key} {kv.Value}"))}");
        Assert.True(session.CompletedByNode.GetValueOrDefault("joiner") > 0,
            $"the joined node answered nothing in {answered} requests; serving: {string.Join(", ", session.ServingNodes)}; node log:\n{joiner.Log}");
    }

    /// <summary>Inputs until the joined node has answered 10 requests, at most 100,000 or <paramref name="limit"/>.</summary>
    private static async IAsyncEnumerable<IReadOnlyDictionary<string, AccelTensor>> Stream(ClusterSession session, TimeSpan limit)
    {
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < 100_000 && clock.Elapsed < limit && session.CompletedByNode.GetValueOrDefault("joiner") < 10; i++)
        {
            yield return new Dictionary<string, AccelTensor> { ["x"] = Input(i) };
            if (i % 50 == 0) await Task.Delay(20);
        }
    }

    /// <summary>What became of one request: its answer or its error.</summary>
    private static async Task<(ClusterRunResult? Answer, Exception? Error)> OutcomeAsync(Task<ClusterRunResult> request)
    {
        try
        {
            return (await request, null);
        }
        catch (Exception e)
        {
            return (null, e);
        }
    }

    /// <summary>
    /// Lost: a request that failed, or whose answer is missing. Duplicated: a request answered with another request's
    /// values, or answers counted by the session per node beyond those the requests received (one answer counted twice).
    /// </summary>
    private static (List<string> Lost, List<string> Duplicated) Account(AccelTensor[] inputs, (ClusterRunResult? Answer, Exception? Error)[] outcomes,
        IReadOnlyDictionary<string, long> countedByNode)
    {
        var (lost, duplicated) = (new List<string>(), new List<string>());
        for (var i = 0; i < outcomes.Length; i++)
        {
            var (answer, error) = outcomes[i];
            if (error is not null) lost.Add($"request {i}: {error.GetType().FullName}: {error.Message}");
            else if (answer is null || answer.Count == 0) lost.Add($"request {i}: no outputs");
            else if (!inputs[i].ToArray<float>().Select(v => Math.Max(v, 0f)).SequenceEqual(answer[0].ToArray<float>()))
                duplicated.Add($"request {i}: answered by {answer.Node} with values that are not its own (first: {string.Join(", ", answer[0].ToArray<float>().Take(4))})");
        }
        var received = outcomes.Where(o => o.Answer is not null).GroupBy(o => o.Answer!.Node).ToDictionary(g => g.Key, g => (long)g.Count(), StringComparer.Ordinal);
        foreach (var node in received.Keys.Union(countedByNode.Keys))
        {
            var (got, counted) = (received.GetValueOrDefault(node), countedByNode.GetValueOrDefault(node));
            if (counted > got) duplicated.Add($"node {node}: the session counted {counted} answers, the requests received {got}");
            else if (counted < got) lost.Add($"node {node}: the requests received {got} answers, the session counted only {counted}");
        }
        return (lost, duplicated);
    }

    /// <summary>Request <paramref name="i"/>'s own input: negative and positive values that differ per request.</summary>
    private static AccelTensor Input(int i) =>
        AccelTensor.Create(Enumerable.Range(0, 60).Select(j => (float)((i * 61 + j * 7) % 97 - 48) / 8f).ToArray(), 3, 4, 5);
}
