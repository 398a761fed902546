using System.Diagnostics.CodeAnalysis;
using AccelSdk.Backends;
using AccelSdk.Diagnostics;
using AccelSdk.Execution;
using AccelSdk.Ir;
using AccelSdk.Selection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace AccelSdk;

/// <summary>
/// One configuration of AccelSdk: the backends it created (and disposes), the model formats it reads, the machine
/// probe, the plan tuner and the logger it reports through. Build one with <see cref="AccelRuntimeBuilder"/> or
/// <c>services.AddAccelSdk(b =&gt; b.AddOnnxRuntime().AddIlgpu())</c>; several may live side by side in one process.
/// <code>
/// using var runtime = new AccelRuntimeBuilder().AddOnnxRuntime().AddIlgpu().Build();
/// using var session = runtime.Select("model.onnx");
/// </code>
/// </summary>
public sealed partial class AccelRuntime : IDisposable
{
    private static readonly object DefaultGate = new();
    private static AccelRuntime? _default;

    private readonly Lazy<StartedBackends> _started;
    private int _disposed;

    internal AccelRuntime(Func<StartedBackends> startBackends, IModelFormat[] formats, IMachineProbe[] probes, IPlanTuner? planTuner, ILogger logger)
    {
        _started = new Lazy<StartedBackends>(startBackends, LazyThreadSafetyMode.ExecutionAndPublication);
        ModelFormats = formats;
        MachineProbes = probes;
        PlanTuner = planTuner;
        Logger = logger;
    }

    /// <summary>The backends the providers created and what failed to start; the default runtime starts them on first use.</summary>
    internal sealed record StartedBackends(IBackend[] Backends, Fallback[] Fallbacks);

    private IBackend[] CreatedBackends
    {
        get
        {
            ObjectDisposedException.ThrowIf(_disposed != 0 && !_started.IsValueCreated, this);
            return _started.Value.Backends;
        }
    }

    private Fallback[] StartedFallbacks => _started.Value.Fallbacks;

    /// <summary>
    /// The process-wide instance behind <see cref="Accel"/>: every AccelSdk extension among the loaded assemblies and
    /// the <c>AccelSdk.*.dll</c> files beside the application (<see cref="AccelRuntimeBuilder.AddDiscoveredExtensions"/>),
    /// created on first use (its backends only when first needed, so loading a model starts none), logging nowhere,
    /// and disposed when the process exits.
    /// </summary>
    public static AccelRuntime Default
    {
        [RequiresUnreferencedCode(ExtensionDiscovery.TrimMessage)]
        [RequiresDynamicCode(ExtensionDiscovery.TrimMessage)]
        get
        {
            if (Volatile.Read(ref _default) is { } created) return created;
            lock (DefaultGate)
            {
                return _default ??= new AccelRuntimeBuilder().AddDiscoveredExtensions().Build(defaultRuntime: true);
            }
        }
    }

    /// <summary>The backends this runtime created, in the order they were added. A backend that failed to start is absent (see <see cref="StartupFallbacks"/>).</summary>
    public IReadOnlyList<IBackend> Backends => CreatedBackends;

    /// <summary>Every device of every backend, unavailable ones included with their reason.</summary>
    public IReadOnlyList<Device> Devices => CreatedBackends.SelectMany(b => b.Devices).ToArray();

    /// <summary>The model formats, tried in order by <see cref="LoadModel"/>.</summary>
    public IReadOnlyList<IModelFormat> ModelFormats { get; }

    /// <summary>The machine probes added.</summary>
    public IReadOnlyList<IMachineProbe> MachineProbes { get; }

    /// <summary>The first available machine probe (AccelSdk.Native's device probe when added), or null.</summary>
    public IMachineProbe? Machine => MachineProbes.FirstOrDefault(p => p.IsAvailable);

    /// <summary>The plan tuner behind <see cref="SelectOptions.Autotune"/> (AccelSdk.Autotune's <c>AddAutotune()</c>), or null.</summary>
    public IPlanTuner? PlanTuner { get; }

    /// <summary>Where warnings (every <see cref="Fallback"/>) and progress are logged; <see cref="NullLogger"/> unless one was given.</summary>
    public ILogger Logger { get; }

    /// <summary>Backends that could not start and devices that are unavailable, with their reasons.</summary>
    public IReadOnlyList<Fallback> StartupFallbacks => StartedFallbacks;

    /// <summary>The backend called <paramref name="name"/> (case-insensitive), or null.</summary>
    public IBackend? FindBackend(string name) =>
        CreatedBackends.FirstOrDefault(b => string.Equals(b.Name, name, StringComparison.OrdinalIgnoreCase));

    /// <summary>The backend that owns <paramref name="device"/>.</summary>
    public IBackend OwnerOf(Device device) =>
        FindBackend(device.Backend) ?? throw new AccelSdkException($"no backend '{device.Backend}' is registered for device {device.Id}");

    /// <summary>
    /// Resolves a command-line style name: a device id (<c>ort-cpu</c>, <c>ilgpu-cpu</c>) or a backend name (<c>ort</c>:
    /// its first available device). An unknown or unavailable name throws <see cref="AccelSdkException"/> naming it.
    /// </summary>
    public DeviceTarget Resolve(string nameOrDeviceId)
    {
        foreach (var backend in CreatedBackends)
        {
            var device = backend.Devices.FirstOrDefault(d => string.Equals(d.Id, nameOrDeviceId, StringComparison.OrdinalIgnoreCase));
            if (device is null) continue;
            if (!device.IsAvailable) throw new AccelSdkException($"device {device.Id} is unavailable: {device.UnavailableReason}");
            return new DeviceTarget(backend, device);
        }
        if (FindBackend(nameOrDeviceId) is { } named)
        {
            var device = named.Devices.FirstOrDefault(d => d.IsAvailable)
                ?? throw new AccelSdkException($"backend '{named.Name}' has no available device: " +
                    string.Join("; ", named.Devices.Select(d => $"{d.Id}: {d.UnavailableReason}")));
            return new DeviceTarget(named, device);
        }
        var known = string.Join(", ", CreatedBackends.Select(b => b.Name).Concat(Devices.Select(d => d.Id)).Distinct());
        throw new AccelSdkException($"unknown backend or device '{nameOrDeviceId}' (known: {(known.Length == 0 ? "none: no backend was added" : known)})");
    }

    /// <summary>
    /// The best general device with no model to measure: an available GPU first (unless the policy prefers CPU), then
    /// other accelerators, then CPUs; among equals, backends in the order they were added.
    /// </summary>
    public DeviceTarget SelectDevice(SelectionPolicy policy = SelectionPolicy.LowestLatency) =>
        CandidateRules.Candidates(CreatedBackends, null).OrderBy(c => RankKind(c.Device.Kind, policy)).FirstOrDefault()
        ?? throw new AccelSdkException("no backend has an available device: " + DescribeDevices());

    /// <summary>Loads <paramref name="path"/> with the first of <see cref="ModelFormats"/> that recognises it.</summary>
    public Model LoadModel(string path) => ModelFileLoader.Load(path, ModelFormats);

    /// <summary>Disposes the backends this runtime created.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0 || !_started.IsValueCreated) return;
        foreach (var backend in _started.Value.Backends) backend.Dispose();
    }

    /// <summary>Logs <paramref name="fallback"/> as a warning, counts it and adds it to <paramref name="sink"/>.</summary>
    internal void ReportFallback(ICollection<Fallback> sink, Fallback fallback)
    {
        lock (sink) sink.Add(fallback);
        AccelSdkTelemetry.Fallbacks.Add(1, new KeyValuePair<string, object?>("kind", fallback.Kind.ToString()));
        Logger.LogWarning("{Warning}", fallback.Reason);
    }

    /// <summary>Startup fallbacks that concern the devices <paramref name="filter"/> admits (null: all).</summary>
    internal IEnumerable<Fallback> UnavailableFallbacks(IReadOnlyList<string>? filter) =>
        StartedFallbacks.Where(f => filter is null || filter.Any(c =>
            string.Equals(c, f.Subject, StringComparison.OrdinalIgnoreCase) || f.Subject.StartsWith(c + "-", StringComparison.OrdinalIgnoreCase)));

    internal string DescribeDevices()
    {
        var devices = Devices;
        return devices.Count == 0
            ? "no backend is registered (add AccelSdk.OnnxRuntime or another backend: AccelRuntimeBuilder.AddOnnxRuntime())"
            : string.Join("; ", devices.Select(d => $"{d.Id}: {d.UnavailableReason ?? "available"}"));
    }

    private static int RankKind(DeviceKind kind, SelectionPolicy policy) => policy == SelectionPolicy.PreferCpu
        ? (kind == DeviceKind.Cpu ? 0 : 1)
        : kind switch { DeviceKind.Gpu => 0, DeviceKind.Accelerator => 1, _ => 2 };
}
