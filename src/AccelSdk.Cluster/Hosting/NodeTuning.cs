using AccelSdk.Cluster.Grains;
using AccelSdk.Cluster.Wire;
using AccelSdk.Execution;

namespace AccelSdk.Cluster.Hosting;

/// <summary>
/// Autotuning on a node with the fleet's results: the node's own cached plan first, then the tuning cache another
/// node of the same fingerprint published (used without profiling), and only then tuning here, published for the
/// others. The tuner checks a shared file as a whole (format, fingerprint, body hash) before using any of it.
/// </summary>
internal static class NodeTuning
{
    /// <summary>The session and where its plan came from: <c>local cache</c>, <c>fleet:NODE</c> or <c>measured</c>.</summary>
    public static async Task<(AccelSession Session, string Source)> SelectAsync(NodeRuntime node, IGrainFactory grains, string modelPath, SelectOptions options,
        CancellationToken cancellationToken)
    {
        var directory = node.TuningCacheDirectory;
        var cached = await LocalRuntime.TuneAsync(modelPath, options, directory, cachedOnly: true, cancellationToken);
        if (cached.Session is { } local) return (local, "local cache");
        var cachePath = cached.CachePath ?? throw new ClusterException($"node '{node.Name}': the tuner names no cache file for {modelPath}");
        var fleet = grains.GetGrain<IFleetTuningGrain>(Path.GetFileName(cachePath));
        // A node's own cache file is never overwritten (it may hold plans of other models): the fleet's file is tried
        // from a scratch folder of its own, whether or not the node has a file.
        if (await fleet.GetAsync().WaitAsync(cancellationToken) is { } shared && shared.PublishedBy != node.Name)
        {
            var fleetDirectory = node.FleetCacheDirectory;
            Directory.CreateDirectory(fleetDirectory);
            var temporary = Path.Combine(fleetDirectory, $".fleet-{Guid.NewGuid():N}.tmp");
            await File.WriteAllBytesAsync(temporary, shared.Bytes, cancellationToken);
            File.Move(temporary, Path.Combine(fleetDirectory, Path.GetFileName(cachePath)), overwrite: true);
            var fromFleet = await LocalRuntime.TuneAsync(modelPath, options, fleetDirectory, cachedOnly: true, cancellationToken);
            if (fromFleet.Session is { } reused) return (reused, "fleet:" + shared.PublishedBy);
        }
        var tuned = await LocalRuntime.TuneAsync(modelPath, options, directory, cachedOnly: false, cancellationToken);
        var session = tuned.Session ?? throw new ClusterException($"node '{node.Name}': autotuning {modelPath} kept no plan");
        if (File.Exists(cachePath))
            await fleet.PublishAsync(new SharedTuning(Path.GetFileName(cachePath), await File.ReadAllBytesAsync(cachePath, cancellationToken), node.Name)).WaitAsync(cancellationToken);
        return (session, "measured");
    }
}
