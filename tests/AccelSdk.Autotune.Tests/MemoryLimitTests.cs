using AccelSdk.Autotune.Placement;
using AccelSdk.Backends;
using AccelSdk.Execution;
using AccelSdk.Ir;

namespace AccelSdk.Autotune.Tests;

public sealed class MemoryLimitTests
{
    private const long Activation = 64 * 32 * 32 * 4; // one [1,64,32,32] float value of the chain

    private static AutotuneOptions Options(IReadOnlyDictionary<string, long> limits) => new()
    {
        Candidates = new[] { "ort-cpu", "ilgpu-cpu" },
        NoCache = true,
        NodeTiming = TestModels.QuickTiming,
        PlanRuns = 5,
        MemoryLimits = limits,
    };

    [Fact]
    public void The_estimate_counts_weights_once_and_the_peak_of_live_values()
    {
        var model = TestModels.Chain();
        var (backend, device) = AccelRuntime.Default.Resolve("ort-cpu");
        var footprint = MemoryEstimate.Of(PlanBuilder.Single(model, backend, device), MemoryEstimate.FromTypes(ShapeInference.Infer(model))).Single();
        Assert.Equal(4, footprint.WeightBytes);
        // x is read by Add, so x, r and a are live together when Add runs.
        Assert.Equal(3 * Activation, footprint.PeakActivationBytes);
    }

    [Fact]
    public void A_cap_below_the_whole_model_moves_layers_off_the_capped_device()
    {
        var cap = 2 * Activation + 1024;
        var result = Autotuner.Tune(TestModels.Chain(), Options(new Dictionary<string, long> { ["ort-cpu"] = cap }));
        using var session = result.Session!;
        var ort = result.SingleBackend.Single(s => s.Label == "ort-cpu");
        Assert.Contains("over the memory cap", ort.Error);
        Assert.Contains(result.Nodes, n => n.Assigned != "ort-cpu");
        Assert.All(result.MemoryFootprint.Where(f => f.DeviceId == "ort-cpu"), f => Assert.True(f.TotalBytes <= cap, $"{f.TotalBytes} > {cap}"));
        // The plan still computes the model: compare with ORT alone (uncapped).
        var x = SampleInputs.Random(TestModels.Chain());
        using var reference = new AccelSession(PlanBuilder.Single(TestModels.Chain(), AccelRuntime.Default.Resolve("ort-cpu").Backend, AccelRuntime.Default.Resolve("ort-cpu").Device));
        Assert.True(Autotuner.MaxRelativeDifference(session.Run(x), reference.Run(x)) < 1e-5);
    }

    [Fact]
    public void When_nothing_fits_a_typed_error_names_the_device_and_the_bytes()
    {
        var e = Assert.Throws<MemoryLimitException>(() => Autotuner.Tune(TestModels.Chain(), Options(new Dictionary<string, long> { ["ort-cpu"] = 1000, ["ilgpu"] = 1000 })));
        Assert.Contains(e.DeviceId, new[] { "ort-cpu", "ilgpu-cpu" });
        Assert.Equal(1000, e.AllowedBytes);
        Assert.True(e.NeededBytes > 1000);
        Assert.Contains($"{e.NeededBytes:N0} bytes", e.Message);

        var whole = Assert.Throws<MemoryLimitException>(() => Accel.Select(TestModels.Chain(),
            new SelectOptions { Candidates = new[] { "ort-cpu" }, MemoryLimits = new Dictionary<string, long> { ["ort-cpu"] = 1000 } }));
        Assert.Equal("ort-cpu", whole.DeviceId);
        Assert.Equal(3 * Activation + 4, whole.NeededBytes);
    }
}
