using AccelSdk.Cluster.Client;
using AccelSdk.TestSupport;

namespace AccelSdk.Cluster.Tests;

/// <summary>
/// Placements on two real nodes: answers equal the local session's bit for bit (both on ort-cpu), whatever node ran them.
/// About 60-120 s on a loaded 2-core machine (ResNet18 is selected and measured on each node).
/// </summary>
[Collection("cluster")]
public sealed class PlacementTests(TwoNodeCluster cluster)
{
    private static readonly string[] OrtCpu = { "ort-cpu" };

    public static TheoryData<string> Models => new() { "resnet18/ResNet18.onnx", "blazeface/face_detection_front_128x128_barracuda.onnx" };

    [Theory]
    [MemberData(nameof(Models))]
    public async Task Whole_model_on_the_best_node_answers_like_the_local_session(string model)
    {
        var path = RepoPaths.Model(model);
        var progress = new List<ClusterProgress>();
        await using var session = await cluster.Client.SelectAsync(path, new ClusterSelectOptions { Candidates = OrtCpu, MeasuredRuns = 3 },
            new SynchronousProgress(progress));
        Assert.Equal(ClusterPlacement.WholeOnBestNode, session.Selection.Placement);
        Assert.All(session.Selection.Nodes, n => Assert.True(n.EndToEndMedianMs > 0, $"{n.Node} was not measured end to end: {n.Error}"));
        var best = session.Selection.Nodes.MinBy(n => n.EndToEndMedianMs)!.Node;
        Assert.Equal(1.0, session.Selection.Weights[best]);
        Assert.Contains(progress, p => p.Stage == "measure" && p.Node == best);

        using var local = LocalReference.Open(path);
        for (var seed = 1; seed <= 2; seed++)
        {
            var inputs = LocalReference.Inputs(path, seed);
            var remote = await session.RunAsync(inputs);
            Assert.Equal(best, remote.Node);
            LocalReference.AssertSameBits(local.Run(inputs), remote, $"{model} seed {seed} on {remote.Node}");
        }
    }

    [Fact]
    public async Task Data_parallel_spreads_a_stream_over_both_nodes_and_keeps_the_order()
    {
        var path = RepoPaths.ResNet18;
        await using var session = await cluster.Client.SelectAsync(path, new ClusterSelectOptions
        {
            Candidates = OrtCpu, Placement = ClusterPlacement.DataParallel, MeasuredRuns = 2, QueueCapacityPerNode = 2,
        });
        Assert.Equal(ClusterPlacement.DataParallel, session.Selection.Placement);
        Assert.Equal(2, session.Selection.Weights.Count(w => w.Value > 0));
        Assert.NotNull(session.Selection.DataParallelItemsPerSecond);

        const int items = 12;
        var inputs = Enumerable.Range(100, items).Select(seed => LocalReference.Inputs(path, seed)).ToList();
        var answers = new List<ClusterRunResult>();
        await foreach (var answer in session.RunManyAsync(inputs.ToAsyncEnumerable()))
            answers.Add(answer);

        Assert.Equal(items, answers.Count);
        using var local = LocalReference.Open(path);
        for (var i = 0; i < items; i++)
            LocalReference.AssertSameBits(local.Run(inputs[i]), answers[i], $"item {i} on {answers[i].Node}");
        Assert.Equal(new[] { "a", "b" }, answers.Select(a => a.Node).Distinct().Order());
        Assert.Equal(items, session.CompletedByNode.Values.Sum());
        // Each node's requests entered through that node's own gateway (no node passed another's on).
        var direct = cluster.Client.DirectGateways.Select(g => g.Port).ToList();
        foreach (var node in cluster.Nodes) Assert.Contains(node.GatewayPort, direct);
    }

    [Fact]
    public async Task The_throughput_policy_keeps_what_measured_faster()
    {
        var path = RepoPaths.Model("blazeface/face_detection_front_128x128_barracuda.onnx");
        await using var session = await cluster.Client.SelectAsync(path, new ClusterSelectOptions
        {
            Candidates = OrtCpu, Policy = SelectionPolicy.HighestThroughput, MeasuredRuns = 3, QueueCapacityPerNode = 2,
        });
        var selection = session.Selection;
        Assert.NotNull(selection.DataParallelItemsPerSecond);
        Assert.NotNull(selection.BestNodeItemsPerSecond);
        Assert.All(selection.Nodes, n => Assert.True(n.ItemsPerSecond > 0));
        var expected = selection.DataParallelItemsPerSecond > selection.BestNodeItemsPerSecond ? ClusterPlacement.DataParallel : ClusterPlacement.WholeOnBestNode;
        Assert.Equal(expected, selection.Placement);
    }

    private sealed class SynchronousProgress(List<ClusterProgress> sink) : IProgress<ClusterProgress>
    {
        public void Report(ClusterProgress value)
        {
            lock (sink) sink.Add(value);
        }
    }
}
