using AccelSdk.Cluster.Hosting;
using AccelSdk.Cluster.Wire;
using Orleans.Concurrency;

namespace AccelSdk.Cluster.Grains;

/// <summary>
/// One per node (keyed by node name, placed on that node): answers probe messages and measures the link from its node
/// to another. Reentrant, so that two nodes probing each other at once do not wait on each other.
/// </summary>
public interface ILinkGrain : IGrainWithStringKey
{
    /// <summary>Receives a probe payload; returns its length (a 4-byte answer, so the call costs the payload one way).</summary>
    Task<int> EchoAsync(byte[] payload);

    /// <summary>Measures the link from this node to <paramref name="target"/> with probes of the given sizes.</summary>
    [ResponseTimeout("00:02:00")]
    Task<LinkFit> MeasureToAsync(string target, long[] sizes, int repeats);

    /// <summary>One probe of <paramref name="bytes"/> to <paramref name="target"/>: the median of <paramref name="repeats"/> calls (ms).</summary>
    [ResponseTimeout("00:01:00")]
    Task<double> ProbeToAsync(string target, long bytes, int repeats);
}

[NodePlacement, Reentrant]
internal sealed class LinkGrain(NodeRuntime node) : Grain, ILinkGrain
{
    public Task<int> EchoAsync(byte[] payload) => Task.FromResult(payload.Length);

    public Task<LinkFit> MeasureToAsync(string target, long[] sizes, int repeats) =>
        LinkProbe.MeasureAsync(node.Name, target, Echo(target), sizes, repeats, CancellationToken.None);

    public Task<double> ProbeToAsync(string target, long bytes, int repeats) =>
        LinkProbe.MedianCallMsAsync(Echo(target), bytes, repeats, CancellationToken.None);

    private Func<byte[], Task> Echo(string target)
    {
        var peer = GrainFactory.GetGrain<ILinkGrain>(target);
        return payload => peer.EchoAsync(payload);
    }
}
