using AccelSdk.Cluster.Client;
using AccelSdk.Cluster.Hosting;
using AccelSdk.Ir;
using AccelSdk.TestSupport;

namespace AccelSdk.Cluster.Tests;

/// <summary>
/// Fleet tuning results are kept in Redis grain storage: on a cluster of its own (its own redis-server), the only node
/// tunes and publishes, is SIGKILLed (with it goes the silo that held the fleet grain), and a node that joins afterwards
/// with the same fingerprint and an empty store still reuses that plan without profiling. About 30-60 s.
/// </summary>
[Collection("cluster")]
public sealed class FleetPersistenceTests
{
    private static string Relu => RepoPaths.OnnxCase("node", "test_relu") + "/model.onnx";

    [Fact]
    public async Task A_published_plan_survives_the_death_of_the_node_that_published_it()
    {
        using var redis = RedisServer.Start();
        var connection = ClusterConnection.Parse(redis.Connection);
        var options = new ClusterSelectOptions { Autotune = true, Candidates = ["ort-cpu"], MeasuredRuns = 1 };
        using var publisher = NodeProcess.Start("publisher", redis.Connection);
        await using (var client = await ConnectAsync(connection))
        {
            await TwoNodeCluster.WaitForNodesAsync(client, ["publisher"], TimeSpan.FromSeconds(60));
            await using var tuned = await client.SelectAsync(Relu, options);
            Assert.Equal("measured", Assert.Single(tuned.Selection.Nodes).TuningSource);
        }
        publisher.Kill();

        using var heir = NodeProcess.Start("heir", redis.Connection);
        await using var later = await ConnectAsync(connection);
        await TwoNodeCluster.WaitForNodesAsync(later, ["heir"], TimeSpan.FromSeconds(60));
        await TwoNodeCluster.WaitForNodesGoneAsync(later, ["publisher"], TimeSpan.FromSeconds(60));
        await using var reused = await later.SelectAsync(Relu, options with { Nodes = ["heir"] });
        var onHeir = Assert.Single(reused.Selection.Nodes);
        Assert.Equal("fleet:publisher", onHeir.TuningSource);

        var input = AccelTensor.Create(Enumerable.Range(0, 60).Select(i => (float)(i - 30)).ToArray(), 3, 4, 5);
        var answer = await reused.RunAsync(input);
        Assert.Equal("heir", answer.Node);
        Assert.Equal(input.ToArray<float>().Select(v => Math.Max(0, v)), answer[0].ToArray<float>());
    }

    private static async Task<AccelCluster> ConnectAsync(ClusterConnection connection)
    {
        using var connect = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        return await AccelCluster.ConnectAsync(new AccelClusterOptions { Cluster = connection }, connect.Token);
    }
}
