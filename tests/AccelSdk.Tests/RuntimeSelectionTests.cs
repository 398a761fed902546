using AccelSdk.Backends;
using AccelSdk.Ir;
using AccelSdk.Tests.Fakes;
using AccelSdk.TestSupport;

namespace AccelSdk.Tests;

/// <summary>
/// Whole-model selection, fallbacks, memory caps, policies, progress and cancellation on a runtime whose backends are
/// fakes (no native runtime); AccelSdk.OnnxRuntime.Tests and AccelSdk.Autotune.Tests run the same paths on ONNX Runtime
/// and ILGPU. Each test takes well under a second.
/// </summary>
public sealed class RuntimeSelectionTests
{
    internal static Model Relu()
    {
        var g = new Graph { Name = "relu" };
        g.Inputs.Add(new ValueInfo("x", new TensorType(ElementType.Float32, new TensorShape(4))));
        g.Outputs.Add(new ValueInfo("y", new TensorType(ElementType.Float32, new TensorShape(4))));
        g.Nodes.Add(new Node("Relu", new[] { "x" }, new[] { "y" }, "relu"));
        var model = new Model(g) { IrVersion = 8 };
        model.OpsetImports[""] = 17;
        return model;
    }

    internal static readonly SelectOptions Quick = new() { WarmupRuns = 1, MeasuredRuns = 3 };

    private static AccelRuntime Runtime(FakeBackend backend, CollectingLogger? logger = null)
    {
        var builder = new AccelRuntimeBuilder().AddBackend(new FakeBackendProvider(backend));
        if (logger is not null) builder.UseLogger(logger);
        return builder.Build();
    }

    [Fact]
    public void The_fastest_device_wins_and_each_loser_is_disposed_as_soon_as_it_loses()
    {
        var fake = new FakeBackend("fake", new FakeDevice("slow", RunDelayMs: 20), new FakeDevice("fast"), new FakeDevice("middle", RunDelayMs: 10));
        using var runtime = Runtime(fake);
        using (var session = runtime.Select(Relu(), Quick))
        {
            Assert.Equal("fast", session.Selection!.Chosen.Id);
            Assert.Equal(new[] { "slow", "fast", "middle" }, session.Selection.Candidates.Select(c => c.Device.Id));
            Assert.All(session.Selection.Candidates, c => Assert.NotNull(c.MedianMs));
            Assert.Equal(1, fake.LiveCompiled);
            Assert.Equal(new[] { 0f, 0f, 2f, 3f }, session.Run(AccelTensor.Create(new[] { -1f, 0f, 2f, 3f }, 4))[0].AsSpan<float>().ToArray());
        }
        Assert.Equal(3, fake.Compiles);
        // The best so far plus the one being measured, never all three.
        Assert.Equal(2, fake.MaxLiveCompiled);
        Assert.Equal(0, fake.LiveCompiled);
    }

    [Theory]
    [InlineData(SelectionPolicy.PreferGpu, "gpu")]
    [InlineData(SelectionPolicy.PreferCpu, "cpu")]
    [InlineData(SelectionPolicy.LowestLatency, "cpu")]
    public void Prefer_policies_keep_the_preferred_kind_even_when_it_is_slower(SelectionPolicy policy, string expected)
    {
        var fake = new FakeBackend("fake", new FakeDevice("cpu"), new FakeDevice("gpu", DeviceKind.Gpu, RunDelayMs: 10));
        using var runtime = Runtime(fake);
        using var session = runtime.Select(Relu(), Quick with { Policy = policy });
        Assert.Equal(expected, session.Selection!.Chosen.Id);
    }

    [Fact]
    public void Every_device_left_out_is_logged_with_its_reason_and_kept_on_the_session()
    {
        var fake = new FakeBackend("fake",
            new FakeDevice("gone") { UnavailableReason = "driver 0.0 missing" },
            new FakeDevice("broken") { CompileFailure = "kernel compiler crashed" },
            new FakeDevice("picky") { UnsupportedReason = "no float32" },
            new FakeDevice("good"));
        var logger = new CollectingLogger();
        using var runtime = Runtime(fake, logger);
        using var session = runtime.Select(Relu(), Quick);

        Assert.Equal("good", session.Selection!.Chosen.Id);
        Assert.Collection(session.Fallbacks,
            f => Assert.Equal((FallbackKind.DeviceUnavailable, "gone"), (f.Kind, f.Subject)),
            f => Assert.Equal((FallbackKind.CandidateExcluded, "broken"), (f.Kind, f.Subject)),
            f => Assert.Equal((FallbackKind.CandidateExcluded, "picky"), (f.Kind, f.Subject)));
        Assert.Contains("driver 0.0 missing", session.Fallbacks[0].Reason);
        Assert.Contains("kernel compiler crashed", session.Fallbacks[1].Reason);
        Assert.Contains("relu [Relu]: no float32", session.Fallbacks[2].Reason);
        Assert.Contains(logger.Messages, m => m.Contains("broken excluded for", StringComparison.Ordinal) && m.Contains("kernel compiler crashed", StringComparison.Ordinal));
        Assert.Contains(logger.Messages, m => m.Contains("picky excluded for", StringComparison.Ordinal));
        Assert.Equal(1, fake.LiveCompiled);
    }

    [Fact]
    public void A_candidate_filter_keeps_only_the_fallbacks_of_the_devices_it_names()
    {
        var fake = new FakeBackend("fake", new FakeDevice("gone") { UnavailableReason = "absent" }, new FakeDevice("good"));
        using var runtime = Runtime(fake);
        using var session = runtime.Select(Relu(), Quick with { Candidates = new[] { "good" } });
        Assert.Empty(session.Fallbacks);
    }

    [Fact]
    public void Memory_caps_exclude_a_device_and_name_it_when_nothing_fits()
    {
        var fake = new FakeBackend("fake", new FakeDevice("small"), new FakeDevice("large", RunDelayMs: 2));
        using var runtime = Runtime(fake);
        using (var session = runtime.Select(Relu(), Quick with { MemoryLimits = new Dictionary<string, long> { ["small"] = 1 } }))
        {
            Assert.Equal("large", session.Selection!.Chosen.Id);
            Assert.Contains(session.Fallbacks, f => f.Subject == "small" && f.Reason.Contains("over the memory cap", StringComparison.Ordinal));
        }
        var e = Assert.Throws<MemoryLimitException>(() => runtime.Select(Relu(), Quick with { MemoryLimits = new Dictionary<string, long> { ["fake"] = 1 } }));
        Assert.Equal(("small", 1L), (e.DeviceId, e.AllowedBytes));
        Assert.True(e.NeededBytes >= 32, $"needed {e.NeededBytes}: at least the 16-byte input and output");
        Assert.Equal(0, fake.LiveCompiled);
    }

    [Fact]
    public void Nodes_no_device_runs_are_a_typed_error_naming_node_and_op()
    {
        var fake = new FakeBackend("fake", new FakeDevice("picky") { UnsupportedReason = "no float32" });
        using var runtime = Runtime(fake);
        var e = Assert.Throws<UnsupportedOperatorException>(() => runtime.Select(Relu(), Quick));
        Assert.Equal(new UnsupportedNode("relu", "Relu", "picky: no float32"), Assert.Single(e.Unsupported));
    }

    [Fact]
    public void Cancelling_mid_selection_throws_and_releases_every_compiled_candidate()
    {
        using var cancel = new CancellationTokenSource();
        var fake = new FakeBackend("fake", new FakeDevice("first"), new FakeDevice("second") { OnRun = cancel.Cancel }, new FakeDevice("third"));
        using var runtime = Runtime(fake);
        Assert.ThrowsAny<OperationCanceledException>(() => runtime.Select(Relu(), Quick, cancellationToken: cancel.Token));
        Assert.Equal(2, fake.Compiles); // the third candidate was never compiled
        Assert.Equal(0, fake.LiveCompiled);
    }

    [Fact]
    public async Task SelectAsync_reports_progress_and_honours_a_cancelled_token()
    {
        var fake = new FakeBackend("fake", new FakeDevice("a"), new FakeDevice("b"));
        using var runtime = Runtime(fake);
        var steps = new List<SelectionProgress>();
        using (var session = await runtime.SelectAsync(Relu(), Quick, new InlineProgress<SelectionProgress>(steps.Add)))
        {
            Assert.Equal(new[] { "a", "b", "done" }, steps.Select(s => s.Detail));
            Assert.All(steps, s => Assert.Equal(("candidates", 2), (s.Stage, s.Total)));
        }
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => runtime.SelectAsync(Relu(), Quick, cancellationToken: new CancellationToken(canceled: true)));
        Assert.Equal(0, fake.LiveCompiled);
    }

    [Fact]
    public void Autotune_without_a_plan_tuner_says_how_to_add_one()
    {
        using var runtime = Runtime(new FakeBackend("fake", new FakeDevice("a")));
        var e = Assert.Throws<AccelSdkException>(() => runtime.Select(Relu(), Quick with { Autotune = true }));
        Assert.Contains("AddAutotune()", e.Message);
    }
}
