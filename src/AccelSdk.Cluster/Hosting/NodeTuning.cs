using AccelSdk.Autotune.Cache;
using AccelSdk.Cluster.Grains;
using AccelSdk.Cluster.Wire;
using AccelSdk.Execution;

namespace AccelSdk.Cluster.Hosting;

/// <summary>
/// Autotuning on a node with the fleet's results: the node's own cached plan first, then the fleet's tuning cache of
/// the same fingerprint (a plan any node of it tuned, used without profiling), and only then tuning here, merged into
/// the fleet's file for the others. The tuner checks a shared file as a whole (format, fingerprint, body hash) before
/// using any of it.
/// </summary>
internal static class NodeTuning
{
    /// <summary>How often a node merges again when other nodes published between its read and its publication.</summary>
    private const int MergeAttempts = 8;

    /// <summary>The session and where its plan came from: <c>local cache</c>, <c>fleet:NODE</c> or <c>measured</c>.</summary>
    public static async Task<(AccelSession Session, string Source)> SelectAsync(NodeRuntime node, IGrainFactory grains, string modelPath, SelectOptions options,
        CancellationToken cancellationToken)
    {
        var directory = node.TuningCacheDirectory;
        var cached = await LocalRuntime.TuneAsync(modelPath, options, directory, cachedOnly: true, cancellationToken);
        if (cached.Session is { } local) return (local, "local cache");
        var cachePath = cached.CachePath ?? throw new ClusterException($"node '{node.Name}': the tuner names no cache file for {modelPath}");
        var planKey = cached.PlanKey ?? throw new ClusterException($"node '{node.Name}': the tuner names no plan key for {modelPath}");
        var fleet = grains.GetGrain<IFleetTuningGrain>(Path.GetFileName(cachePath));
        if (await fleet.GetAsync().WaitAsync(cancellationToken) is { } shared && await FromFleetAsync(node, shared, modelPath, options, cancellationToken) is { } reused)
            return (reused, "fleet:" + shared.PlanOwners.GetValueOrDefault(planKey, shared.PublishedBy));
        var tuned = await LocalRuntime.TuneAsync(modelPath, options, directory, cachedOnly: false, cancellationToken);
        var session = tuned.Session ?? throw new ClusterException($"node '{node.Name}': autotuning {modelPath} kept no plan");
        if (!File.Exists(cachePath)) return (session, "measured");
        return await PublishAsync(node, fleet, cachePath, cached.Fingerprint, cancellationToken)
            ? (session, "measured")
            : (session, $"measured (not shared: the fleet's tuning cache changed under each of {MergeAttempts} merges)");
    }

    /// <summary>
    /// A session from the fleet's file, or null when it holds no plan for this model. The file is tried from a scratch
    /// folder of the node's own: the node's own cache file is never overwritten.
    /// </summary>
    private static async Task<AccelSession?> FromFleetAsync(NodeRuntime node, SharedTuning shared, string modelPath, SelectOptions options, CancellationToken cancellationToken)
    {
        var fleetDirectory = node.FleetCacheDirectory;
        Directory.CreateDirectory(fleetDirectory);
        var temporary = Path.Combine(fleetDirectory, $".fleet-{Guid.NewGuid():N}.tmp");
        await File.WriteAllBytesAsync(temporary, shared.Bytes, cancellationToken);
        File.Move(temporary, Path.Combine(fleetDirectory, shared.FileName), overwrite: true);
        var fromFleet = await LocalRuntime.TuneAsync(modelPath, options, fleetDirectory, cachedOnly: true, cancellationToken);
        return fromFleet.Session;
    }

    /// <summary>
    /// Merges the node's own cache file into the fleet's (every plan, node timing and cost of the node's file; the
    /// node's entries win) and publishes it on the version read; read and merged again when another node published
    /// meanwhile. False when that happened on every attempt.
    /// </summary>
    private static async Task<bool> PublishAsync(NodeRuntime node, IFleetTuningGrain fleet, string cachePath, MachineFingerprint fingerprint, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < MergeAttempts; attempt++)
        {
            var current = await fleet.GetAsync().WaitAsync(cancellationToken);
            var (merged, ownPlans) = LocalRuntime.MergeTuningCaches(current?.Bytes, cachePath, fingerprint, node.FleetCacheDirectory);
            var owners = new Dictionary<string, string>(current?.PlanOwners ?? new Dictionary<string, string>(), StringComparer.Ordinal);
            foreach (var key in ownPlans) owners[key] = node.Name;
            var publication = new SharedTuning(Path.GetFileName(cachePath), merged, node.Name) { Version = current?.Version ?? 0, PlanOwners = owners };
            if (await fleet.PublishAsync(publication).WaitAsync(cancellationToken)) return true;
        }
        return false;
    }
}
