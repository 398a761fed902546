using AccelSdk.Backends;
using System.Collections.Concurrent;
using AccelSdk.Cluster.Wire;
using AccelSdk.Execution;

namespace AccelSdk.Cluster.Hosting;

/// <summary>The node process's own state shared by its grains: its name, its model store, how each model was prepared.</summary>
public sealed class NodeRuntime(string name, NodeModelStore store, IReadOnlyList<string>? offeredDevices = null, NodeFaults? faults = null)
{
    private volatile string? _unavailableReason;

    /// <summary>The fault-injection test hook (<see cref="NodeFaults"/>); inactive unless its variable is set.</summary>
    public NodeFaults Faults { get; } = faults ?? new NodeFaults(null);

    /// <summary>Why this node took itself out (its backend failed at run time), or null while it serves.</summary>
    public string? UnavailableReason => _unavailableReason;

    /// <summary>
    /// Takes the node out after its backend failed at run time: from now on it refuses runs and preparations with
    /// <see cref="NodeUnavailableException"/>, which clients treat as a node fault (retried elsewhere, node left out).
    /// </summary>
    public NodeUnavailableException MarkUnavailable(BackendException failure)
    {
        _unavailableReason ??= "its backend failed at run time: " + failure.Message;
        return new NodeUnavailableException(Name, _unavailableReason);
    }

    /// <summary>
    /// Runs <paramref name="session"/> on this node through the fault hook; a <see cref="BackendException"/> takes the
    /// node out (<see cref="MarkUnavailable"/>) and is rethrown as the resulting <see cref="NodeUnavailableException"/>.
    /// </summary>
    internal async Task<RunResult> RunAsync(AccelSession session, IEnumerable<TensorPayload> inputs, CancellationToken cancellationToken)
    {
        try
        {
            Faults.BeforeRun(Name);
            return await LocalRuntime.RunAsync(session, TensorPayload.ToInputs(inputs), cancellationToken);
        }
        catch (BackendException e)
        {
            throw MarkUnavailable(e);
        }
    }

    /// <summary>Throws <see cref="NodeUnavailableException"/> once the node has taken itself out.</summary>
    public void ThrowIfUnavailable()
    {
        if (_unavailableReason is { } reason) throw new NodeUnavailableException(Name, reason);
    }

    /// <summary>Device ids or backend names this node offers to the cluster; null offers every available device.</summary>
    public IReadOnlyList<string>? OfferedDevices { get; } = offeredDevices;

    /// <summary>True when <paramref name="deviceId"/> of <paramref name="backend"/> is offered.</summary>
    public bool Offers(string deviceId, string backend) =>
        OfferedDevices is null || OfferedDevices.Any(o => string.Equals(o, deviceId, StringComparison.OrdinalIgnoreCase) || string.Equals(o, backend, StringComparison.OrdinalIgnoreCase));

    /// <summary>
    /// The candidates a preparation may use here: the client's, narrowed to what the node offers. A node that offers
    /// none of them, or whose offered devices are all unavailable, refuses with <see cref="NodeUnavailableException"/>
    /// and so gets no work.
    /// </summary>
    public IReadOnlyList<string>? Candidates(IReadOnlyList<string>? requested)
    {
        ThrowIfUnavailable();
        var available = LocalRuntime.AvailableDevices().Where(d => Offers(d.Id, d.Backend)).ToList();
        if (available.Count == 0)
            throw new NodeUnavailableException(Name, "none of its devices is available" + (OfferedDevices is null ? "" : $" (it offers {string.Join(", ", OfferedDevices)})") +
                ": " + LocalRuntime.DescribeUnavailable(OfferedDevices));
        if (requested is null) return OfferedDevices is null ? null : available.Select(d => d.Id).ToList();
        var usable = available.Where(d => requested.Any(r => string.Equals(r, d.Id, StringComparison.OrdinalIgnoreCase) || string.Equals(r, d.Backend, StringComparison.OrdinalIgnoreCase)))
            .Select(d => d.Id).ToList();
        return usable.Count > 0 ? usable
            : throw new NodeUnavailableException(Name, $"it has none of the requested devices {string.Join(", ", requested)} available; it offers {string.Join(", ", available.Select(d => d.Id))}");
    }

    /// <summary>How every session of this node is compiled (intra-op threads, backend settings); see <see cref="NodeOptions.IntraOpThreads"/>.</summary>
    public CompileOptions Compile { get; init; } = new();

    /// <summary><paramref name="options"/> with this node's <see cref="Compile"/> options.</summary>
    internal SelectOptions Local(SelectOptions options) => options with { Compile = Compile };

    /// <summary>The node (silo) name.</summary>
    public string Name { get; } = name;

    /// <summary>The node's own tuning cache (beside its model store, so that nodes on one machine do not share one by accident).</summary>
    public string TuningCacheDirectory => Path.Combine(Store.Directory, "autotune");

    /// <summary>Scratch folder for the fleet's tuning cache file of this fingerprint (never the node's own cache).</summary>
    public string FleetCacheDirectory => Path.Combine(Store.Directory, "autotune-fleet");

    /// <summary>
    /// The split planner's per-layer profiles (autotuner node timings on one device), kept apart from the node's tuning
    /// cache so that a profile is never taken for a tuned plan.
    /// </summary>
    public string ProfileCacheDirectory => Path.Combine(Store.Directory, "profile");

    /// <summary>The node's model store.</summary>
    public NodeModelStore Store { get; } = store;

    /// <summary>
    /// The last preparation asked for each model digest, so that an inference grain re-activated after idle collection
    /// prepares its session the same way without the client asking again.
    /// </summary>
    public ConcurrentDictionary<string, PrepareRequest> Preparations { get; } = new(StringComparer.Ordinal);
}
