using AccelSdk.Cluster.Wire;

namespace AccelSdk.Cluster.Grains;

/// <summary>Holds the last tuning cache file published for one machine fingerprint.</summary>
internal sealed class FleetTuningGrain : Grain, IFleetTuningGrain
{
    /// <summary>The tuner's own cap on a cache file.</summary>
    private const int MaxBytes = 64 << 20;

    private SharedTuning? _tuning;

    public Task<SharedTuning?> GetAsync() => Task.FromResult(_tuning);

    public Task PublishAsync(SharedTuning tuning)
    {
        if (tuning.FileName != this.GetPrimaryKeyString())
            throw new ClusterException($"tuning cache {tuning.FileName} published under the key {this.GetPrimaryKeyString()}");
        if (tuning.Bytes.Length is 0 or > MaxBytes)
            throw new ClusterException($"tuning cache {tuning.FileName} from node '{tuning.PublishedBy}' has {tuning.Bytes.Length:N0} bytes, outside 1..{MaxBytes:N0}");
        _tuning = tuning;
        return Task.CompletedTask;
    }
}
