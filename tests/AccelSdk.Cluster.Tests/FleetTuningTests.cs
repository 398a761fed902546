using AccelSdk.Cluster.Client;
using AccelSdk.TestSupport;

namespace AccelSdk.Cluster.Tests;

/// <summary>
/// Fleet-shared tuning on the two shared nodes, which have the same fingerprint (same machine, same runtimes) but each
/// its own tuning cache: what node a tuned, node b uses without profiling. About 20-60 s (one autotune of BlazeFace's
/// front model on ort-cpu).
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
}
