using System.Diagnostics.CodeAnalysis;
using AccelSdk.Backends;
using AccelSdk.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace AccelSdk;

/// <summary>
/// Configures an <see cref="AccelRuntime"/>: which backends it creates, which model formats it reads, its machine probe,
/// plan tuner and logger. Each backend package adds an extension method (<c>AddOnnxRuntime()</c>, <c>AddIlgpu()</c>,
/// <c>AddTfLite()</c>, <c>AddAutotune()</c>, <c>AddDeviceProbe()</c>); nothing is created by reflection on this path.
/// </summary>
public sealed class AccelRuntimeBuilder
{
    private readonly List<IBackendProvider> _providers = new();
    private readonly List<IModelFormat> _formats = new();
    private readonly List<IMachineProbe> _probes = new();
    private IPlanTuner? _planTuner;
    private ILoggerFactory? _loggerFactory;
    private ILogger? _logger;

    /// <summary>Adds a backend provider; the runtime creates its backend at <see cref="Build()"/>. A second provider of the same name is ignored.</summary>
    public AccelRuntimeBuilder AddBackend(IBackendProvider provider)
    {
        ArgumentNullException.ThrowIfNull(provider);
        if (_providers.All(p => !string.Equals(p.Name, provider.Name, StringComparison.OrdinalIgnoreCase))) _providers.Add(provider);
        return this;
    }

    /// <summary>Adds a model format (a second of the same name is ignored).</summary>
    public AccelRuntimeBuilder AddModelFormat(IModelFormat format)
    {
        ArgumentNullException.ThrowIfNull(format);
        if (_formats.All(f => f.Name != format.Name)) _formats.Add(format);
        return this;
    }

    /// <summary>Adds a machine probe (a second of the same type is ignored).</summary>
    public AccelRuntimeBuilder AddMachineProbe(IMachineProbe probe)
    {
        ArgumentNullException.ThrowIfNull(probe);
        if (_probes.All(p => p.GetType() != probe.GetType())) _probes.Add(probe);
        return this;
    }

    /// <summary>Sets the plan tuner behind <see cref="SelectOptions.Autotune"/>.</summary>
    public AccelRuntimeBuilder UsePlanTuner(IPlanTuner planTuner)
    {
        _planTuner = planTuner ?? throw new ArgumentNullException(nameof(planTuner));
        return this;
    }

    /// <summary>Logs through a logger of category <c>AccelSdk</c> from <paramref name="loggerFactory"/> (backends get their own categories).</summary>
    public AccelRuntimeBuilder UseLoggerFactory(ILoggerFactory loggerFactory)
    {
        _loggerFactory = loggerFactory ?? throw new ArgumentNullException(nameof(loggerFactory));
        return this;
    }

    /// <summary>Logs everything through <paramref name="logger"/>.</summary>
    public AccelRuntimeBuilder UseLogger(ILogger logger)
    {
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
        return this;
    }

    /// <summary>
    /// Adds every AccelSdk extension found among the loaded assemblies and the <c>AccelSdk.*.dll</c> files beside the
    /// application (each marked with <see cref="AccelSdkExtensionAttribute"/>). A convenience for applications that
    /// drop backends beside themselves; it uses reflection, so trimmed or AOT-published applications add what they use
    /// explicitly instead.
    /// </summary>
    [RequiresUnreferencedCode(ExtensionDiscovery.TrimMessage)]
    [RequiresDynamicCode(ExtensionDiscovery.TrimMessage)]
    public AccelRuntimeBuilder AddDiscoveredExtensions()
    {
        var discovered = ExtensionDiscovery.Discover(message => (_logger ?? _loggerFactory?.CreateLogger("AccelSdk"))?.LogWarning("{Message}", message));
        foreach (var extension in discovered)
        {
            if (extension is IBackendProvider p) AddBackend(p);
            if (extension is IModelFormat f) AddModelFormat(f);
            if (extension is IMachineProbe m) AddMachineProbe(m);
            if (extension is IPlanTuner t && _planTuner is null) _planTuner = t;
        }
        return this;
    }

    /// <summary>
    /// Creates the runtime and its backends. A provider that throws is left out: logged, and listed in
    /// <see cref="AccelRuntime.StartupFallbacks"/> with every unavailable device.
    /// </summary>
    public AccelRuntime Build() => Build(defaultRuntime: false);

    /// <summary>The default runtime starts its backends on first use and is disposed at process exit; others start them here.</summary>
    internal AccelRuntime Build(bool defaultRuntime)
    {
        var logger = _logger ?? _loggerFactory?.CreateLogger("AccelSdk") ?? NullLogger.Instance;
        var providers = _providers.ToArray();
        var backendLogger = _logger;
        var loggerFactory = _loggerFactory;
        var runtime = new AccelRuntime(() => StartBackends(providers, logger, backendLogger, loggerFactory), _formats.ToArray(), _probes.ToArray(), _planTuner, logger);
        if (defaultRuntime) AppDomain.CurrentDomain.ProcessExit += (_, _) => runtime.Dispose();
        else _ = runtime.Backends;
        return runtime;
    }

    private static AccelRuntime.StartedBackends StartBackends(IBackendProvider[] providers, ILogger logger, ILogger? backendLogger, ILoggerFactory? loggerFactory)
    {
        var fallbacks = new List<Fallback>();
        var backends = new List<IBackend>();
        foreach (var provider in providers)
        {
            try
            {
                backends.Add(provider.Create(new BackendContext(backendLogger ?? loggerFactory?.CreateLogger("AccelSdk." + provider.Name) ?? NullLogger.Instance)));
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                fallbacks.Add(new Fallback(FallbackKind.BackendUnavailable, provider.Name, $"backend '{provider.Name}' could not start and is excluded: {e.Message}"));
            }
        }
        fallbacks.AddRange(backends.SelectMany(b => b.Devices).Where(d => !d.IsAvailable)
            .Select(d => new Fallback(FallbackKind.DeviceUnavailable, d.Id, $"{d.Id} is unavailable: {d.UnavailableReason}")));
        foreach (var f in fallbacks.Where(f => f.Kind == FallbackKind.BackendUnavailable))
        {
            logger.LogWarning("{Warning}", f.Reason);
            AccelSdkTelemetry.Fallbacks.Add(1, new KeyValuePair<string, object?>("kind", f.Kind.ToString()));
        }
        return new AccelRuntime.StartedBackends(backends.ToArray(), fallbacks.ToArray());
    }
}
