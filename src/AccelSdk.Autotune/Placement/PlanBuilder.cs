using AccelSdk.Backends;
using AccelSdk.Execution;
using AccelSdk.Ir;

namespace AccelSdk.Autotune.Placement;

/// <summary>
/// Turns a placement per node into an <see cref="ExecutionPlan"/>: consecutive nodes (graph order) on one device form a
/// partition. Unlike <see cref="GraphPartitioner.FromPlacements"/> it takes the value types to cut with, so values whose
/// shapes only the sample run revealed can still be cut edges.
/// </summary>
public static class PlanBuilder
{
    /// <summary>Builds the plan.</summary>
    public static ExecutionPlan Build(Model model, IReadOnlyList<Execution.Placement> placements, IReadOnlyDictionary<string, Ir.ValueType> types)
    {
        var nodes = model.Graph.Nodes;
        if (placements.Count != nodes.Count) throw new ArgumentException($"{placements.Count} placements for {nodes.Count} nodes.", nameof(placements));
        var groups = new List<(Execution.Placement Placement, List<int> Nodes)>();
        for (var i = 0; i < nodes.Count; i++)
        {
            if (groups.Count == 0 || groups[^1].Placement.Device != placements[i].Device) groups.Add((placements[i], new List<int>()));
            groups[^1].Nodes.Add(i);
        }
        if (groups.Count <= 1)
        {
            var only = groups.Count == 1 ? groups[0].Placement : placements.FirstOrDefault() ?? throw new ArgumentException("empty model", nameof(model));
            return new ExecutionPlan(model, new[] { new PlannedPartition(0, only.Backend, only.Device, Enumerable.Range(0, nodes.Count).ToArray(), model) });
        }
        var partitions = new List<PlannedPartition>();
        for (var g = 0; g < groups.Count; g++)
        {
            var later = groups.Skip(g + 1).SelectMany(x => x.Nodes).ToHashSet();
            var sub = GraphPartitioner.Extract(model, groups[g].Nodes, types, later, $"partition_{g}");
            partitions.Add(new PlannedPartition(g, groups[g].Placement.Backend, groups[g].Placement.Device, groups[g].Nodes, sub));
        }
        return new ExecutionPlan(model, partitions);
    }

    /// <summary>The whole model on one device.</summary>
    public static ExecutionPlan Single(Model model, IBackend backend, Device device) =>
        new(model, new[] { new PlannedPartition(0, backend, device, Enumerable.Range(0, model.Graph.Nodes.Count).ToArray(), model) });
}
