using AccelSdk.Cluster.Grains;
using Orleans.Placement;
using Orleans.Runtime;
using Orleans.Runtime.Placement;

namespace AccelSdk.Cluster.Hosting;

/// <summary>Places a grain on the node its key names (<see cref="NodeKeys"/>), never elsewhere.</summary>
[Serializable, GenerateSerializer, Immutable, SuppressReferenceTracking]
public sealed class NodePlacementStrategy : PlacementStrategy
{
}

/// <summary>Marks a grain class as living on the node its key names.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class NodePlacementAttribute : PlacementAttribute
{
    /// <summary>Creates the attribute.</summary>
    public NodePlacementAttribute() : base(new NodePlacementStrategy()) { }
}

/// <summary>
/// Finds the active silo whose name is the node named by the grain key. A node that left (or was killed) has no
/// silo: activating its grain fails with <see cref="NodeUnavailableException"/> instead of moving it to another node.
/// </summary>
public sealed class NodePlacementDirector(IClusterMembershipService membership) : IPlacementDirector
{
    /// <inheritdoc />
    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        var node = NodeKeys.NodeOf(target.GrainIdentity.Key.ToString() ?? "");
        var compatible = context.GetCompatibleSilos(target);
        foreach (var member in membership.CurrentSnapshot.Members.Values)
        {
            if (member.Status == SiloStatus.Active && string.Equals(member.Name, node, StringComparison.Ordinal) && compatible.Contains(member.SiloAddress))
                return Task.FromResult(member.SiloAddress);
        }
        throw new NodeUnavailableException(node, "no active silo of that name in the cluster");
    }
}
