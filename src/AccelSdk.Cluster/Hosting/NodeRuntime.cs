using System.Collections.Concurrent;
using AccelSdk.Cluster.Wire;

namespace AccelSdk.Cluster.Hosting;

/// <summary>The node process's own state shared by its grains: its name, its model store, how each model was prepared.</summary>
public sealed class NodeRuntime(string name, NodeModelStore store)
{
    /// <summary>The node (silo) name.</summary>
    public string Name { get; } = name;

    /// <summary>The node's own tuning cache (beside its model store, so that nodes on one machine do not share one by accident).</summary>
    public string TuningCacheDirectory => Path.Combine(Store.Directory, "autotune");

    /// <summary>The node's model store.</summary>
    public NodeModelStore Store { get; } = store;

    /// <summary>
    /// The last preparation asked for each model digest, so that an inference grain re-activated after idle collection
    /// prepares its session the same way without the client asking again.
    /// </summary>
    public ConcurrentDictionary<string, PrepareRequest> Preparations { get; } = new(StringComparer.Ordinal);
}
