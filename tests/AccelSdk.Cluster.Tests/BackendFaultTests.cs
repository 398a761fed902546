using AccelSdk.Cluster.Client;
using AccelSdk.Cluster.Hosting;
using AccelSdk.Ir;
using AccelSdk.TestSupport;

namespace AccelSdk.Cluster.Tests;

/// <summary>
/// A node whose backend fails at run time (the node's fault-injection test hook, <see cref="NodeFaults"/>) takes itself
/// out: the failed request is retried on another node and answered once, and the node gets no more work. About 20-40 s.
/// </summary>
[Collection("cluster")]
public sealed class BackendFaultTests(TwoNodeCluster cluster)
{
    private static string Relu => RepoPaths.OnnxCase("node", "test_relu") + "/model.onnx";

    private async Task<long> RunsOnNodesAsync(string digest)
    {
        long runs = 0;
        foreach (var node in new[] { "a", "flaky" })
            runs += (await cluster.Client.GetInferenceStatsAsync(node, digest)).Runs;
        return runs;
    }

    [Fact]
    public async Task A_node_whose_backend_fails_takes_itself_out_and_its_request_runs_once_elsewhere()
    {
        // 20 runs get it through selection (measured alone and in data parallel) and into the stream.
        var node = NodeProcess.Start("flaky", cluster.Redis.Connection,
            place: new NodePlace(Environment: new Dictionary<string, string> { [NodeFaults.Variable] = "20" }));
        try
        {
            await TwoNodeCluster.WaitForNodesAsync(cluster.Client, ["flaky"], TimeSpan.FromSeconds(30));
            var options = new ClusterSelectOptions { Nodes = ["a", "flaky"], Placement = ClusterPlacement.DataParallel, MeasuredRuns = 2, QueueCapacityPerNode = 1 };
            await using var session = await cluster.Client.SelectAsync(Relu, options);
            Assert.Equal(ClusterPlacement.DataParallel, session.Selection.Placement);
            var runsBefore = await RunsOnNodesAsync(session.ModelDigest);

            const int items = 60;
            var inputs = Enumerable.Range(0, items).Select(i => (IReadOnlyDictionary<string, AccelTensor>)new Dictionary<string, AccelTensor>
            {
                ["x"] = AccelTensor.Create(Enumerable.Range(0, 60).Select(j => (float)(j - 30 + i)).ToArray(), 3, 4, 5),
            }).ToList();
            var answers = new List<ClusterRunResult>();
            await foreach (var answer in session.RunManyAsync(inputs.ToAsyncEnumerable()))
                answers.Add(answer);

            Assert.Equal(items, answers.Count);
            for (var i = 0; i < items; i++)
                Assert.Equal(inputs[i]["x"].ToArray<float>().Select(v => Math.Max(0, v)), answers[i][0].ToArray<float>());
            Assert.True(session.Retries >= 1, "the injected failure was never hit: no request was retried");
            Assert.DoesNotContain("flaky", session.ServingNodes);
            var flakyDone = session.CompletedByNode.GetValueOrDefault("flaky");
            Assert.True(flakyDone > 0, "the flaky node never served before failing");
            // Exactly once: the nodes ran the stream's items once each in all (the failed attempt did not run).
            Assert.Equal(items, await RunsOnNodesAsync(session.ModelDigest) - runsBefore);
            Assert.Equal(items, session.CompletedByNode.Values.Sum());

            for (var i = 0; i < 6; i++)
                Assert.Equal("a", (await session.RunAsync(inputs[i])).Node);
            Assert.Equal(flakyDone, session.CompletedByNode.GetValueOrDefault("flaky"));

            var info = (await cluster.Client.GetNodesAsync()).Single(n => n.Name == "flaky");
            Assert.Contains("backend failed at run time", info.UnavailableReason);
            await using var again = await cluster.Client.SelectAsync(Relu, options with { Placement = null });
            Assert.Contains("backend failed at run time", again.Selection.Nodes.Single(n => n.Node == "flaky").Error);
            Assert.Equal("a", (await again.RunAsync(inputs[0])).Node);
        }
        finally
        {
            node.Dispose();
            await TwoNodeCluster.WaitForNodesGoneAsync(cluster.Client, ["flaky"], TimeSpan.FromSeconds(30));
        }
    }
}
