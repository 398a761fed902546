using AccelSdk.Cluster.Client;
using AccelSdk.TestSupport;

namespace AccelSdk.Cluster.Tests;

/// <summary>
/// Fleet-shared tuning on the two shared nodes, which have the same fingerprint (same machine, same runtimes) but each
/// its own tuning cache: what node a tuned, node b uses without profiling. About 20-60 s (one autotune of BlazeFace's
/// front model on ort-cpu), and 10-30 s for the two one-operator models of the merge test.
/// </summary>
[Collection("cluster")]
public sealed class FleetTuningTests(TwoNodeCluster cluster)
{
    [Fact]
    public async Task A_node_with_the_same_fingerprint_reuses_the_fleets_plan_without_profiling()
    {
        var model = RepoPaths.Model("blazeface/face_detection_front_128x128_barracuda.onnx");
        var options = new ClusterSelectOptions { Autotune = true, Candidates = new[] { "ort-cpu" }, MeasuredRuns = 2 };
        NodeMeasurement tunedOnA;
        await using (var first = await cluster.Client.SelectAsync(model, options with { Nodes = new[] { "a" } }))
            tunedOnA = Assert.Single(first.Selection.Nodes);
        Assert.True(tunedOnA.TuningSource is "measured" or "local cache", tunedOnA.TuningSource);

        await using var second = await cluster.Client.SelectAsync(model, options with { Nodes = new[] { "b" } });
        var onB = Assert.Single(second.Selection.Nodes);
        Assert.Equal("fleet:a", onB.TuningSource);
        Assert.Equal(tunedOnA.Device, onB.Device);

        using var local = LocalReference.Open(model);
        var inputs = LocalReference.Inputs(model, 3);
        var answer = await second.RunAsync(inputs);
        Assert.Equal("b", answer.Node);
        LocalReference.AssertClose(local.Run(inputs), answer, "fleet-tuned plan on b");
    }

    [Fact]
    public async Task Plans_of_two_models_tuned_on_two_nodes_are_both_kept_and_reused()
    {
        // Models no other test tunes on these nodes, so each is first measured where it is first selected.
        var (sigmoid, tanh) = (RepoPaths.OnnxCase("node", "test_sigmoid") + "/model.onnx", RepoPaths.OnnxCase("node", "test_tanh") + "/model.onnx");
        var options = new ClusterSelectOptions { Autotune = true, Candidates = ["ort-cpu"], MeasuredRuns = 1 };
        await using (var first = await cluster.Client.SelectAsync(sigmoid, options with { Nodes = ["a"] }))
            Assert.Equal("measured", Assert.Single(first.Selection.Nodes).TuningSource);
        // b publishes after a: its file holds only tanh's plan, and it must not push sigmoid's out of the fleet's.
        await using (var second = await cluster.Client.SelectAsync(tanh, options with { Nodes = ["b"] }))
            Assert.Equal("measured", Assert.Single(second.Selection.Nodes).TuningSource);

        await using var sigmoidOnB = await cluster.Client.SelectAsync(sigmoid, options with { Nodes = ["b"] });
        Assert.Equal("fleet:a", Assert.Single(sigmoidOnB.Selection.Nodes).TuningSource);
        await using var tanhOnA = await cluster.Client.SelectAsync(tanh, options with { Nodes = ["a"] });
        Assert.Equal("fleet:b", Assert.Single(tanhOnA.Selection.Nodes).TuningSource);

        foreach (var (session, model, node) in new[] { (sigmoidOnB, sigmoid, "b"), (tanhOnA, tanh, "a") })
        {
            using var local = LocalReference.Open(model);
            var inputs = LocalReference.Inputs(model, 5);
            var answer = await session.RunAsync(inputs);
            Assert.Equal(node, answer.Node);
            LocalReference.AssertClose(local.Run(inputs), answer, $"{Path.GetFileName(Path.GetDirectoryName(model))} from the fleet on {node}");
        }
    }
}
