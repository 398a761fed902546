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

            var results = await Task.WhenAll(tasks).WaitAsync(TimeSpan.FromSeconds(120));
            clock.Stop();
            Assert.True(answeredBeforeKill < requests, "the kill came after every request was answered: nothing was in flight");
            Assert.Equal(requests, results.Length);
            for (var i = 0; i < requests; i++)
            {
                var expected = inputs[i].ToArray<float>().Select(v => Math.Max(v, 0f)).ToArray();
                Assert.Equal(expected, results[i][0].ToArray<float>());
            }
            // Every answer the client took is counted once per node; a duplicate answer would push the total past 1000.
            Assert.Equal(requests, session.CompletedByNode.Values.Sum());
            Assert.DoesNotContain(victim.Name, session.ServingNodes);
            Assert.True(session.CompletedByNode.Where(kv => kv.Key != victim.Name).All(kv => kv.Value > 0));
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

    /// <summary>Request <paramref name="i"/>'s own input: negative and positive values that differ per request.</summary>
    private static AccelTensor Input(int i) =>
        AccelTensor.Create(Enumerable.Range(0, 60).Select(j => (float)((i * 61 + j * 7) % 97 - 48) / 8f).ToArray(), 3, 4, 5);
}
