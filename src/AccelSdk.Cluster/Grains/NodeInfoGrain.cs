using AccelSdk.Cluster.Hosting;
using AccelSdk.Cluster.Wire;

namespace AccelSdk.Cluster.Grains;

/// <summary>Publishes what its node has; lives on that node.</summary>
[NodePlacement]
internal sealed class NodeInfoGrain(NodeRuntime node) : Grain, INodeInfoGrain
{
    public Task<NodeInfo> GetInfoAsync() => Task.FromResult(LocalRuntime.Describe(node.Name, node.Store.Stats().Digests, d => node.Offers(d.Id, d.Backend)) with
    {
        UnavailableReason = node.UnavailableReason,
    });
}
