using AccelSdk.Autotune;
using AccelSdk.Ir;

namespace AccelSdk.TfLite.Tests;

/// <summary>The autotuner treats TFLite through the backend contract: whole source models only, one whole-model plan.</summary>
public sealed class AutotuneTests
{
    public AutotuneTests() => TestEnvironment.RequireRuntime();

    private static AutotuneOptions Options => new()
    {
        Candidates = new[] { "tflite-cpu", "ort-cpu" },
        NoCache = true,
        PlanRuns = 3,
        NodeTiming = new TimingRules { MinRuns = 3, MaxRuns = 5, BudgetPerCandidate = TimeSpan.FromMilliseconds(10) },
    };

    [Fact]
    public void Tflite_is_measured_as_a_whole_model_plan_and_never_placed_per_node()
    {
        var model = Model.Load(TestEnvironment.Model("face_detection_short_range.tflite"));
        var result = Autotuner.Tune(model, Options);
        using var session = result.Session!;
        Assert.True(AccelRuntime.Default.Resolve("tflite-cpu").Backend.CompilesWholeSourceModelsOnly);
        Assert.DoesNotContain("tflite-cpu", result.ExcludedDevices.Keys);
        var tflite = result.Devices.Select(d => d.Device.Id).ToList().IndexOf("tflite-cpu");
        Assert.All(result.Nodes, n =>
        {
            Assert.Equal(CandidateStatus.Skipped, n.Candidates[tflite].Status);
            Assert.Contains("compiles only whole source models", n.Candidates[tflite].Note);
            Assert.NotEqual("tflite-cpu", n.Autotuned);
        });
        var single = result.SingleBackend.Single(s => s.Label == "tflite-cpu");
        Assert.Null(single.Error);
        Assert.True(single.MeasuredMs > 0);
        Assert.Null(single.PredictedMs);
        // The kept plan is one of the measured ones, all on one device when it is TFLite's.
        if (result.Chosen!.Label == "tflite-cpu") Assert.All(result.Nodes, n => Assert.Equal("tflite-cpu", n.Assigned));
    }

    [Fact]
    public void Pinning_a_node_to_tflite_is_refused_with_the_reason()
    {
        var model = Model.Load(TestEnvironment.Model("face_detection_short_range.tflite"));
        var e = Assert.Throws<AccelSdkException>(() => Autotuner.Tune(model, Options with { Pins = new Dictionary<string, string> { [model.Graph.Nodes[0].OpType] = "tflite-cpu" } }));
        Assert.Contains("compiles only whole source models", e.Message);
    }
}
