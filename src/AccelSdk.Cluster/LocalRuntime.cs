using AccelSdk.Autotune;
using AccelSdk.Backends;
using AccelSdk.Cluster.Wire;
using AccelSdk.Execution;
using AccelSdk.Ir;

namespace AccelSdk.Cluster;

/// <summary>
/// Every use of the local (single-process) AccelSdk API by the cluster, in one place: loading and digesting models,
/// selecting a device, running a session and describing the machine, all through the process's
/// <see cref="AccelRuntime.Default"/>.
/// </summary>
internal static class LocalRuntime
{
    /// <summary>The content digest of the model file at <paramref name="path"/>.</summary>
    public static string DigestOf(string path) => ModelDigest.Of(Model.Load(path));

    /// <summary>Selects where the model file runs best on this machine, on a worker thread.</summary>
    public static Task<AccelSession> SelectAsync(string path, SelectOptions options, CancellationToken cancellationToken) =>
        AccelRuntime.Default.SelectAsync(path, options, progress: null, cancellationToken);

    /// <summary>
    /// Autotunes the model file with the tuning cache in <paramref name="cacheDirectory"/>, on a worker thread; with
    /// <paramref name="cachedOnly"/> it only takes a plan already cached (no profiling; Session null on a miss).
    /// </summary>
    public static Task<AutotuneResult> TuneAsync(string path, SelectOptions options, string cacheDirectory, bool cachedOnly, CancellationToken cancellationToken) =>
        Task.Run(() => Autotuner.Tune(AccelRuntime.Default, Model.Load(path), AutotuneOptions.From(options) with { CacheDirectory = cacheDirectory, CachedPlanOnly = cachedOnly },
            cancellationToken), cancellationToken);

    /// <summary>Runs one request.</summary>
    public static Task<RunResult> RunAsync(AccelSession session, IReadOnlyDictionary<string, AccelTensor> inputs, CancellationToken cancellationToken) =>
        session.RunAsync(inputs, cancellationToken);

    /// <summary>Fixed-seed sample inputs from the model's declared input types.</summary>
    public static IReadOnlyDictionary<string, AccelTensor> SampleInputs(string path) => Execution.SampleInputs.Random(Model.Load(path));

    /// <summary>Every available device of this machine.</summary>
    public static IReadOnlyList<Device> AvailableDevices() => AccelRuntime.Default.Devices.Where(d => d.IsAvailable).ToList();

    /// <summary>Why the devices named (all when null) are unavailable.</summary>
    public static string DescribeUnavailable(IReadOnlyList<string>? names) => string.Join("; ", AccelRuntime.Default.Devices
        .Where(d => !d.IsAvailable && (names is null || names.Any(n => string.Equals(n, d.Id, StringComparison.OrdinalIgnoreCase) || string.Equals(n, d.Backend, StringComparison.OrdinalIgnoreCase))))
        .Select(d => $"{d.Id}: {d.UnavailableReason}")
        .DefaultIfEmpty("no such device on this machine"));

    /// <summary>What this process's node publishes.</summary>
    public static NodeInfo Describe(string node, IReadOnlyList<string> storedModels, Func<Device, bool> offered)
    {
        var probe = AccelRuntime.Default.Machine;
        var devices = AccelRuntime.Default.Devices
            .Select(d => offered(d)
                ? new NodeDevice(d.Id, d.Backend, d.Name, d.Kind.ToString(), d.IsAvailable, d.UnavailableReason)
                : new NodeDevice(d.Id, d.Backend, d.Name, d.Kind.ToString(), false, "not offered by this node (accelsdk node --device)"))
            .ToList();
        var versions = AccelRuntime.Default.Backends.ToDictionary(b => b.Name, b => b.Version, StringComparer.Ordinal);
        return new NodeInfo(node, Environment.ProcessId, probe?.Fingerprint,
            probe?.Facts.ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal) ?? new Dictionary<string, string>(),
            devices, versions, ProcessMemory.AvailableBytes, Environment.ProcessorCount, storedModels);
    }
}
