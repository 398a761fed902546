using AccelSdk.Cluster.Client;
using AccelSdk.TestSupport;

namespace AccelSdk.Cluster.Tests;

/// <summary>
/// A .tflite model through the cluster: sent by content, stored under its digest, selected on the nodes' tflite-cpu
/// (TFLite's C library beside the CLI, loaded in the ordinary dotnet host) and answered like the local session. Skipped
/// with the reason where this machine's TFLite runtime is unavailable. About 20-40 s each.
/// </summary>
[Collection("cluster")]
public sealed class TfLiteTests(TwoNodeCluster cluster)
{
    private static string FaceDetector => RepoPaths.Model("tflite/face_detection_short_range.tflite");

    [SkippableFact]
    public async Task A_tflite_model_runs_on_a_nodes_tflite_cpu_like_the_local_session()
    {
        var tflite = AccelRuntime.Default.Devices.FirstOrDefault(d => d.Id == "tflite-cpu");
        Skip.If(tflite is not { IsAvailable: true }, "tflite-cpu is unavailable here: " + (tflite?.UnavailableReason ?? "no TFLite backend beside the tests"));

        await using var session = await cluster.Client.SelectAsync(FaceDetector, new ClusterSelectOptions { Candidates = ["tflite-cpu"], MeasuredRuns = 2 });
        Assert.All(session.Selection.Nodes, n => Assert.Equal("tflite-cpu", n.Device));
        foreach (var node in cluster.Nodes)
            Assert.Contains(session.ModelDigest, (await cluster.Client.GetStoreStatsAsync(node.Name)).Digests);

        using var local = LocalReference.Open(FaceDetector, "tflite-cpu");
        foreach (var seed in new[] { 1, 2 })
        {
            var inputs = LocalReference.Inputs(FaceDetector, seed);
            var answer = await session.RunAsync(inputs);
            LocalReference.AssertSameBits(local.Run(inputs), answer, $"face detector seed {seed} on {answer.Node}");
        }
    }

    [SkippableFact]
    public async Task A_tflite_model_runs_data_parallel_on_both_nodes_like_the_local_session()
    {
        var tflite = AccelRuntime.Default.Devices.FirstOrDefault(d => d.Id == "tflite-cpu");
        Skip.If(tflite is not { IsAvailable: true }, "tflite-cpu is unavailable here: " + (tflite?.UnavailableReason ?? "no TFLite backend beside the tests"));

        await using var session = await cluster.Client.SelectAsync(FaceDetector, new ClusterSelectOptions
        {
            Candidates = ["tflite-cpu"], Placement = ClusterPlacement.DataParallel, MeasuredRuns = 2, QueueCapacityPerNode = 2,
        });
        const int items = 8;
        var inputs = Enumerable.Range(20, items).Select(seed => LocalReference.Inputs(FaceDetector, seed)).ToList();
        var answers = new List<ClusterRunResult>();
        await foreach (var answer in session.RunManyAsync(inputs.ToAsyncEnumerable())) answers.Add(answer);

        Assert.Equal(items, answers.Count);
        Assert.Equal(new[] { "a", "b" }, answers.Select(a => a.Node).Distinct().Order());
        using var local = LocalReference.Open(FaceDetector, "tflite-cpu");
        for (var i = 0; i < items; i++)
            LocalReference.AssertSameBits(local.Run(inputs[i]), answers[i], $"face detector item {i} on {answers[i].Node}");
    }
}
