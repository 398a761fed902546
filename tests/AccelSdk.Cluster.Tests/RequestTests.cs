using AccelSdk.Cluster.Client;
using AccelSdk.Ir;
using AccelSdk.TestSupport;

namespace AccelSdk.Cluster.Tests;

/// <summary>Node facts, request errors, cancellation and deadlines on two real nodes.</summary>
[Collection("cluster")]
public sealed class RequestTests(TwoNodeCluster cluster)
{
    private static readonly string[] OrtCpu = { "ort-cpu" };

    [Fact]
    public async Task Each_node_publishes_its_process_devices_runtimes_and_memory()
    {
        var nodes = await cluster.Client.GetNodesAsync();
        Assert.Equal(new[] { "a", "b" }, nodes.Select(n => n.Name).Where(n => n is "a" or "b").Order());
        foreach (var process in cluster.Nodes)
        {
            var info = nodes.Single(n => n.Name == process.Name);
            Assert.Equal(process.ProcessId, info.ProcessId);
            Assert.Contains(info.Devices, d => d.Id == "ort-cpu" && d.IsAvailable);
            Assert.False(string.IsNullOrEmpty(info.BackendVersions["ort"]));
            Assert.True(info.AvailableMemoryBytes > 0);
            Assert.True(info.ProcessorCount > 0);
        }
        // Same machine, same probe: a fingerprint the fleet can key shared tuning by.
        Assert.Single(nodes.Select(n => n.MachineFingerprint).Distinct());
    }

    [Fact]
    public async Task A_bad_input_is_a_typed_error_from_the_node_and_is_not_retried()
    {
        await using var session = await cluster.Client.SelectAsync(Relu, new ClusterSelectOptions { Candidates = OrtCpu, MeasuredRuns = 1 });
        var wrong = AccelTensor.Create(new float[6], 2, 3);
        var e = await Assert.ThrowsAsync<NodeException>(() => session.RunAsync(wrong));
        Assert.Equal("AccelSdk.InputMismatchException", e.RemoteType);
        Assert.Contains("'x'", e.Message);
        Assert.Equal(0, session.Retries);
    }

    [Fact]
    public async Task Cancelled_requests_do_not_run_on_the_node()
    {
        var path = RepoPaths.ResNet18;
        await using var session = await cluster.Client.SelectAsync(path, new ClusterSelectOptions
        {
            Candidates = OrtCpu, Nodes = new[] { "a" }, MeasuredRuns = 1, WarmupRuns = 0, QueueCapacityPerNode = 8,
        });
        var before = (await session.GetNodeStatsAsync()).Single().Runs;
        var inputs = LocalReference.Inputs(path, 7);
        using var cancel = new CancellationTokenSource();
        var requests = Enumerable.Range(0, 8).Select(_ => session.RunAsync(inputs, cancel.Token)).ToList();
        await Task.WhenAny(requests);
        await cancel.CancelAsync();
        var outcomes = await Task.WhenAll(requests.Select(async r =>
        {
            try
            {
                await r;
                return "ran";
            }
            catch (OperationCanceledException)
            {
                return "cancelled";
            }
        })).WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Contains("cancelled", outcomes);
        var ran = (await session.GetNodeStatsAsync()).Single().Runs - before;
        Assert.True(ran < 8, $"all 8 requests ran on the node although {outcomes.Count(o => o == "cancelled")} were cancelled");
        Assert.True(ran >= outcomes.Count(o => o == "ran"));
    }

    [Fact]
    public async Task A_request_past_its_deadline_fails_with_a_deadline_error_and_does_not_run()
    {
        var path = RepoPaths.ResNet18;
        await using var session = await cluster.Client.SelectAsync(path, new ClusterSelectOptions
        {
            Candidates = OrtCpu, Nodes = new[] { "b" }, MeasuredRuns = 1, WarmupRuns = 0, QueueCapacityPerNode = 8,
            RequestDeadline = TimeSpan.FromMilliseconds(1),
        });
        var before = (await session.GetNodeStatsAsync()).Single().Runs;
        var inputs = LocalReference.Inputs(path, 8);
        var failures = 0;
        for (var i = 0; i < 4; i++)
        {
            var e = await Assert.ThrowsAsync<ClusterDeadlineException>(() => session.RunAsync(inputs));
            Assert.Contains("deadline", e.Message);
            failures++;
        }
        Assert.Equal(4, failures);
        var stats = (await session.GetNodeStatsAsync()).Single();
        Assert.True(stats.Runs - before < 4, $"{stats.Runs - before} of 4 requests past their 1 ms deadline ran");
    }

    [Fact]
    public async Task A_node_without_a_usable_device_says_so_and_gets_no_work()
    {
        // ort-cuda does not exist with the CPU build of ONNX Runtime: the node offers nothing that runs.
        var node = NodeProcess.Start("no-device", cluster.Redis.Connection, device: "ort-cuda");
        try
        {
            await TwoNodeCluster.WaitForNodesAsync(cluster.Client, new[] { "no-device" }, TimeSpan.FromSeconds(30));
            var info = (await cluster.Client.GetNodesAsync()).Single(n => n.Name == "no-device");
            Assert.DoesNotContain(info.Devices, d => d.IsAvailable);
            Assert.Contains(info.Devices, d => d.Id == "ort-cpu" && d.UnavailableReason!.Contains("not offered", StringComparison.Ordinal));

            await using var session = await cluster.Client.SelectAsync(Relu, new ClusterSelectOptions { Nodes = new[] { "a", "no-device" }, MeasuredRuns = 1 });
            var refused = session.Selection.Nodes.Single(n => n.Node == "no-device");
            Assert.Contains("none of its devices is available", refused.Error);
            Assert.DoesNotContain("no-device", session.Selection.Weights.Keys);
            for (var i = 0; i < 3; i++)
                Assert.Equal("a", (await session.RunAsync(AccelTensor.Create(new float[60], 3, 4, 5))).Node);
            Assert.DoesNotContain("no-device", session.CompletedByNode.Keys);
        }
        finally
        {
            // The collection's cluster is shared: a node left behind would be measured (and fail) in later tests.
            node.Dispose();
            await TwoNodeCluster.WaitForNodesGoneAsync(cluster.Client, new[] { "no-device" }, TimeSpan.FromSeconds(30));
        }
    }

    private static string Relu => RepoPaths.OnnxCase("node", "test_relu") + "/model.onnx";
}
