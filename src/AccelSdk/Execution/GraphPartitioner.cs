using AccelSdk.Backends;
using AccelSdk.Ir;

namespace AccelSdk.Execution;

/// <summary>A choice of backend and device for one node.</summary>
public sealed record Placement(IBackend Backend, Device Device);

/// <summary>
/// Capability queries and partitioning, kept apart from every backend's code: which device can run which node,
/// and how a per-node placement becomes partitions with explicit cut edges.
/// </summary>
public static class GraphPartitioner
{
    /// <summary>Asks <paramref name="backend"/> about every node; returns the ones it refuses with reasons.</summary>
    public static IReadOnlyList<UnsupportedNode> Unsupported(Model model, IBackend backend, Device device, IReadOnlyDictionary<string, Ir.ValueType>? types = null)
    {
        var context = new NodeContext(model, types ?? ShapeInference.Infer(model));
        var result = new List<UnsupportedNode>();
        foreach (var node in model.Graph.Nodes)
        {
            var support = backend.Supports(device, node, context);
            if (!support.IsSupported) result.Add(new UnsupportedNode(node.Name.Length > 0 ? node.Name : node.Outputs.FirstOrDefault() ?? "?", node.OpType, support.Reason ?? "not supported"));
        }
        return result;
    }

    /// <summary>A plan that runs the whole model as one partition on one device.</summary>
    public static ExecutionPlan WholeModel(Model model, IBackend backend, Device device)
    {
        var unsupported = Unsupported(model, backend, device);
        if (unsupported.Count > 0) throw new UnsupportedOperatorException($"{model.Label} on {device.Id}", unsupported);
        var partition = new PlannedPartition(0, backend, device, Enumerable.Range(0, model.Graph.Nodes.Count).ToArray(), model);
        return new ExecutionPlan(model, new[] { partition });
    }

    /// <summary>
    /// A plan from a placement per node (in graph order): consecutive nodes on the same device form one partition,
    /// and each partition becomes a self-contained sub-model whose inputs and outputs are the cut edges.
    /// </summary>
    public static ExecutionPlan FromPlacements(Model model, IReadOnlyList<Placement> placements)
    {
        var nodes = model.Graph.Nodes;
        if (placements.Count != nodes.Count) throw new ArgumentException($"{placements.Count} placements for {nodes.Count} nodes.");
        var types = ShapeInference.Infer(model);
        var groups = new List<(Placement Placement, List<int> Nodes)>();
        for (var i = 0; i < nodes.Count; i++)
        {
            if (groups.Count == 0 || groups[^1].Placement.Device != placements[i].Device) groups.Add((placements[i], new List<int>()));
            groups[^1].Nodes.Add(i);
        }
        if (groups.Count == 1) return WholeModel(model, groups[0].Placement.Backend, groups[0].Placement.Device);
        var partitions = new List<PlannedPartition>();
        for (var g = 0; g < groups.Count; g++)
        {
            var later = groups.Skip(g + 1).SelectMany(x => x.Nodes).ToHashSet();
            var sub = Extract(model, groups[g].Nodes, types, later, $"partition_{g}");
            partitions.Add(new PlannedPartition(g, groups[g].Placement.Backend, groups[g].Placement.Device, groups[g].Nodes, sub));
        }
        return new ExecutionPlan(model, partitions);
    }

    /// <summary>
    /// Extracts the nodes <paramref name="nodeIndices"/> as a self-contained model. Its inputs are the values they read
    /// from outside (outer-scope reads of nested subgraphs included), its outputs are the values they produce that
    /// graph outputs or the nodes in <paramref name="consumers"/> read (all produced values when null).
    /// </summary>
    public static Model Extract(Model model, IReadOnlyList<int> nodeIndices, IReadOnlyDictionary<string, Ir.ValueType> types,
        IReadOnlySet<int>? consumers = null, string? name = null)
    {
        var graph = model.Graph;
        var selected = nodeIndices.Select(i => graph.Nodes[i]).ToList();
        var produced = new HashSet<string>(StringComparer.Ordinal);
        var initializers = graph.Initializers.ToDictionary(t => t.Name!, StringComparer.Ordinal);
        var sparse = graph.SparseInitializers.ToDictionary(s => s.Values.Name!, StringComparer.Ordinal);
        var sub = new Graph { Name = name ?? graph.Name };
        var seenInputs = new HashSet<string>(StringComparer.Ordinal);

        void Read(string value, Node node)
        {
            if (value.Length == 0 || produced.Contains(value) || !seenInputs.Add(value)) return;
            if (initializers.TryGetValue(value, out var init))
            {
                sub.Initializers.Add(init);
                var declared = graph.Inputs.Find(i => i.Name == value);
                if (declared is not null) sub.Inputs.Add(declared);
                return;
            }
            if (sparse.TryGetValue(value, out var s))
            {
                sub.SparseInitializers.Add(s);
                return;
            }
            var type = types.GetValueOrDefault(value)
                ?? throw new InvalidModelException($"{model.Label}: cannot cut before {node.Describe()}: the type of value '{value}' is unknown; declare it in value_info", node.Name, node.OpType);
            sub.Inputs.Add(new ValueInfo(value, type));
        }

        foreach (var node in selected)
        {
            foreach (var input in node.Inputs) Read(input, node);
            foreach (var g in node.Subgraphs)
            {
                foreach (var outer in g.OuterScopeReferences()) Read(outer, node);
            }
            foreach (var output in node.Outputs)
            {
                if (output.Length > 0) produced.Add(output);
            }
            sub.Nodes.Add(node);
        }

        var graphOutputs = graph.Outputs.Select(o => o.Name).ToHashSet(StringComparer.Ordinal);
        var readLater = new HashSet<string>(StringComparer.Ordinal);
        var consumerNodes = consumers is null ? Enumerable.Empty<Node>() : consumers.Select(i => graph.Nodes[i]);
        foreach (var node in consumerNodes)
        {
            foreach (var i in node.Inputs) readLater.Add(i);
            foreach (var g in node.Subgraphs) readLater.UnionWith(g.OuterScopeReferences());
        }
        foreach (var node in selected)
        {
            foreach (var output in node.Outputs)
            {
                if (output.Length == 0) continue;
                if (consumers is not null && !graphOutputs.Contains(output) && !readLater.Contains(output)) continue;
                var declared = graph.Outputs.Find(o => o.Name == output);
                sub.Outputs.Add(declared ?? new ValueInfo(output, types.GetValueOrDefault(output)
                    ?? throw new InvalidModelException($"{model.Label}: cannot cut after {node.Describe()}: the type of value '{output}' is unknown; declare it in value_info", node.Name, node.OpType)));
            }
        }
        foreach (var vi in graph.ValueInfos)
        {
            if (produced.Contains(vi.Name) && sub.Outputs.All(o => o.Name != vi.Name)) sub.ValueInfos.Add(vi);
        }

        var result = new Model(sub)
        {
            IrVersion = model.IrVersion,
            ProducerName = "AccelSdk",
            ProducerVersion = typeof(GraphPartitioner).Assembly.GetName().Version?.ToString() ?? "",
            SourcePath = model.SourcePath,
        };
        foreach (var kv in model.OpsetImports) result.OpsetImports[kv.Key] = kv.Value;
        result.Functions.AddRange(model.Functions);
        return result;
    }
}
