using AccelSdk.Cluster.Hosting;
using AccelSdk.Cluster.Wire;
using Orleans.Placement;

namespace AccelSdk.Cluster.Grains;

/// <summary>What a fleet tuning grain keeps in grain storage.</summary>
[GenerateSerializer]
internal sealed class FleetTuningState
{
    [Id(0)]
    public SharedTuning? Tuning { get; set; }
}

/// <summary>
/// Holds the fleet's tuning cache file of one machine fingerprint, in grain storage (Redis with Redis clustering), so
/// that it outlives the node that published it and the silo the grain was active on. Nodes merge their plans into it
/// (<c>NodeTuning</c>); a publication that does not build on the stored version is refused, and the node merges
/// again. Activated where it is first called (the publishing node, usually); after that node dies it activates on
/// another and reads the file back.
/// </summary>
[PreferLocalPlacement]
internal sealed class FleetTuningGrain([PersistentState("tuning", ClusterConnection.FleetStorage)] IPersistentState<FleetTuningState> state) : Grain, IFleetTuningGrain
{
    /// <summary>The tuner's own cap on a cache file.</summary>
    private const int MaxBytes = 64 << 20;

    public Task<SharedTuning?> GetAsync() => Task.FromResult(state.State.Tuning);

    public async Task<bool> PublishAsync(SharedTuning tuning)
    {
        if (tuning.FileName != this.GetPrimaryKeyString())
            throw new ClusterException($"tuning cache {tuning.FileName} published under the key {this.GetPrimaryKeyString()}");
        if (tuning.Bytes.Length is 0 or > MaxBytes)
            throw new ClusterException($"tuning cache {tuning.FileName} from node '{tuning.PublishedBy}' has {tuning.Bytes.Length:N0} bytes, outside 1..{MaxBytes:N0}");
        var stored = state.State.Tuning?.Version ?? 0;
        if (tuning.Version != stored) return false;
        state.State.Tuning = tuning with { Version = stored + 1 };
        await state.WriteStateAsync();
        return true;
    }
}
