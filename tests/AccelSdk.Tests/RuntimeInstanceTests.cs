using System.Diagnostics;
using System.Diagnostics.Metrics;
using AccelSdk.Backends;
using AccelSdk.Diagnostics;
using AccelSdk.Ir;
using AccelSdk.Tests.Fakes;
using AccelSdk.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AccelSdk.Tests;

/// <summary>Runtimes as instances: building, DI, side by side, disposal, device resolution, telemetry. Well under a second each.</summary>
public sealed class RuntimeInstanceTests
{
    private static readonly SelectOptions Quick = RuntimeSelectionTests.Quick;

    [Fact]
    public void Two_runtimes_with_different_backends_live_side_by_side_and_dispose_only_their_own()
    {
        var left = new FakeBackend("left", new FakeDevice("left-cpu"));
        var right = new FakeBackend("right", new FakeDevice("right-gpu", DeviceKind.Gpu));
        var leftRuntime = new AccelRuntimeBuilder().AddBackend(new FakeBackendProvider(left)).Build();
        using var rightRuntime = new AccelRuntimeBuilder().AddBackend(new FakeBackendProvider(right)).Build();

        Assert.Equal(new[] { "left-cpu" }, leftRuntime.Devices.Select(d => d.Id));
        Assert.Equal(new[] { "right-gpu" }, rightRuntime.Devices.Select(d => d.Id));
        using (var a = leftRuntime.Select(RuntimeSelectionTests.Relu(), Quick))
        using (var b = rightRuntime.Select(RuntimeSelectionTests.Relu(), Quick))
        {
            Assert.Equal("left-cpu", a.Selection!.Chosen.Id);
            Assert.Equal("right-gpu", b.Selection!.Chosen.Id);
        }
        leftRuntime.Dispose();
        Assert.True(left.IsDisposed);
        Assert.False(right.IsDisposed);
        Assert.Throws<ObjectDisposedException>(() => leftRuntime.Select(RuntimeSelectionTests.Relu(), Quick));
        using var again = rightRuntime.Select(RuntimeSelectionTests.Relu(), Quick);
        Assert.Equal("right-gpu", again.Selection!.Chosen.Id);
    }

    [Fact]
    public void A_provider_that_throws_is_left_out_logged_and_listed()
    {
        var logger = new CollectingLogger();
        using var runtime = new AccelRuntimeBuilder()
            .AddBackend(new FakeBackendProvider(null, "broken"))
            .AddBackend(new FakeBackendProvider(new FakeBackend("fake", new FakeDevice("ok"))))
            .UseLogger(logger)
            .Build();
        Assert.Equal(new[] { "fake" }, runtime.Backends.Select(b => b.Name));
        var fallback = Assert.Single(runtime.StartupFallbacks);
        Assert.Equal((FallbackKind.BackendUnavailable, "broken"), (fallback.Kind, fallback.Subject));
        Assert.Contains("the fake runtime library is missing", fallback.Reason);
        Assert.Contains(logger.Messages, m => m.Contains("backend 'broken' could not start", StringComparison.Ordinal));
    }

    [Fact]
    public void Resolve_and_SelectDevice_return_device_targets_and_name_what_is_unknown()
    {
        var fake = new FakeBackend("fake", new FakeDevice("fake-cpu"), new FakeDevice("fake-gpu", DeviceKind.Gpu), new FakeDevice("fake-off") { UnavailableReason = "unplugged" });
        using var runtime = new AccelRuntimeBuilder().AddBackend(new FakeBackendProvider(fake)).Build();

        var (backend, device) = runtime.Resolve("FAKE-CPU");
        Assert.Same(fake, backend);
        Assert.Equal("fake-cpu", device.Id);
        Assert.Equal("fake-cpu", runtime.Resolve("fake").Device.Id);
        Assert.Equal("fake-gpu", runtime.SelectDevice().Device.Id);
        Assert.Equal("fake-cpu", runtime.SelectDevice(SelectionPolicy.PreferCpu).Device.Id);
        Assert.Contains("unplugged", Assert.Throws<AccelSdkException>(() => runtime.Resolve("fake-off")).Message);
        Assert.Contains("unknown backend or device 'nope' (known: fake, fake-cpu", Assert.Throws<AccelSdkException>(() => runtime.Resolve("nope")).Message);

        using var session = runtime.SelectDevice(SelectionPolicy.PreferCpu).Load(RuntimeSelectionTests.Relu());
        Assert.Equal(new[] { 1f, 0f, 0f, 0f }, session.Run(AccelTensor.Create(new[] { 1f, -1f, -2f, 0f }, 4))[0].AsSpan<float>().ToArray());
    }

    [Fact]
    public void A_runtime_with_no_format_names_what_to_add_when_loading_a_file()
    {
        using var runtime = new AccelRuntimeBuilder().Build();
        var path = Path.Combine(Path.GetTempPath(), $"accelsdk-noformat-{Guid.NewGuid():N}.onnx");
        File.WriteAllBytes(path, new byte[] { 8, 1 });
        try
        {
            Assert.Contains("no model format is registered", Assert.Throws<ModelLoadException>(() => runtime.LoadModel(path)).Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void AddAccelSdk_registers_one_runtime_that_logs_through_the_container_and_is_disposed_with_it()
    {
        var fake = new FakeBackend("fake", new FakeDevice("good"), new FakeDevice("broken") { CompileFailure = "no kernels" });
        var logger = new CollectingLogger();
        var services = new ServiceCollection();
        services.AddSingleton<ILoggerFactory>(new SingleLoggerFactory(logger));
        services.AddAccelSdk(b => b.AddBackend(new FakeBackendProvider(fake)));
        using (var provider = services.BuildServiceProvider())
        {
            var runtime = provider.GetRequiredService<AccelRuntime>();
            Assert.Same(runtime, provider.GetRequiredService<AccelRuntime>());
            using var session = runtime.Select(RuntimeSelectionTests.Relu(), Quick);
            Assert.Equal("good", session.Selection!.Chosen.Id);
            Assert.Contains(logger.Messages, m => m.Contains("no kernels", StringComparison.Ordinal));
        }
        Assert.True(fake.IsDisposed);
    }

    [Fact]
    public void Runs_transfers_and_fallbacks_are_measured_and_select_and_run_are_traced()
    {
        var id = "metered-" + Guid.NewGuid().ToString("N")[..8];
        var fake = new FakeBackend("fake", new FakeDevice(id), new FakeDevice(id + "-broken") { CompileFailure = "no" });
        using var runtime = new AccelRuntimeBuilder().AddBackend(new FakeBackendProvider(fake)).Build();
        var runs = new List<double>();
        var fallbackKinds = new List<string>();
        using var meters = new MeterListener();
        meters.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == AccelSdkTelemetry.Name) listener.EnableMeasurementEvents(instrument);
        };
        meters.SetMeasurementEventCallback<double>((instrument, value, tags, _) =>
        {
            if (instrument.Name == AccelSdkTelemetry.RunDurationName && HasTag(tags, "device", id)) lock (runs) runs.Add(value);
        });
        meters.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            if (instrument.Name == AccelSdkTelemetry.FallbacksName) lock (fallbackKinds) fallbackKinds.AddRange(tags.ToArray().Select(t => (string)t.Value!));
        });
        meters.Start();
        var activities = new List<Activity>();
        using var tracing = new ActivityListener
        {
            ShouldListenTo = source => source.Name == AccelSdkTelemetry.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = a => { lock (activities) activities.Add(a); },
        };
        ActivitySource.AddActivityListener(tracing);

        using (var session = runtime.Select(RuntimeSelectionTests.Relu(), Quick with { Candidates = new[] { id, id + "-broken" } }))
        {
            session.Run(AccelTensor.Create(new[] { 1f, 2f, 3f, 4f }, 4));
        }

        lock (runs) Assert.Equal(1 + Quick.WarmupRuns + Quick.MeasuredRuns, runs.Count);
        lock (fallbackKinds) Assert.Contains(nameof(FallbackKind.CandidateExcluded), fallbackKinds);
        lock (activities)
        {
            var select = Assert.Single(activities, a => a.OperationName == "AccelSdk.Select" && (string?)a.GetTagItem("accelsdk.device") == id);
            Assert.Equal(1, select.GetTagItem("accelsdk.fallbacks"));
            Assert.Contains(activities, a => a.OperationName == "AccelSdk.Run" && (string?)a.GetTagItem("device") == id);
        }
    }

    private static bool HasTag(ReadOnlySpan<KeyValuePair<string, object?>> tags, string key, string value)
    {
        foreach (var tag in tags)
        {
            if (tag.Key == key && (string?)tag.Value == value) return true;
        }
        return false;
    }

    private sealed class SingleLoggerFactory(ILogger logger) : ILoggerFactory
    {
        public ILogger CreateLogger(string categoryName) => logger;

        public void AddProvider(ILoggerProvider provider) => throw new NotSupportedException();

        public void Dispose()
        {
        }
    }
}
