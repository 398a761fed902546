using AccelSdk.Backends;
using AccelSdk.Ir;

namespace AccelSdk.Execution;

/// <summary>A contiguous group of nodes that runs on one device as one compiled unit.</summary>
/// <param name="Index">Position in execution order.</param>
/// <param name="Backend">The backend that compiles and runs it.</param>
/// <param name="Device">The device it runs on.</param>
/// <param name="NodeIndices">Indices of its nodes in the original graph.</param>
/// <param name="SubModel">A self-contained model: its inputs and outputs are the cut edges.</param>
public sealed record PlannedPartition(int Index, IBackend Backend, Device Device, IReadOnlyList<int> NodeIndices, Model SubModel)
{
    /// <summary>Names of values this partition reads from outside.</summary>
    public IReadOnlyList<string> InputNames => SubModel.Graph.RequiredInputs.Select(i => i.Name).ToArray();

    /// <summary>Names of values this partition produces for others.</summary>
    public IReadOnlyList<string> OutputNames => SubModel.Graph.Outputs.Select(o => o.Name).ToArray();
}

/// <summary>
/// A cut edge of a plan: a value one partition (or the caller, for model inputs) produces and another partition (or the
/// caller, for model outputs) reads, with how it gets there.
/// </summary>
/// <param name="ValueName">The value moved.</param>
/// <param name="From">Producing device (<see cref="Device.Host"/> for model inputs).</param>
/// <param name="To">Consuming device (<see cref="Device.Host"/> for model outputs).</param>
/// <param name="BeforePartition">The partition that needs it; the partition count for model outputs.</param>
public sealed record PlannedTransfer(string ValueName, Device From, Device To, int BeforePartition)
{
    /// <summary>How the value crosses: none within one memory space, else a backend's direct path or staged through host memory.</summary>
    public TransferRoute Route { get; init; } = TransferRoute.ViaHost;

    /// <summary>The backend's copy path when <see cref="Route"/> is <see cref="TransferRoute.Direct"/>, else null.</summary>
    public ITransferPath? Path { get; init; }

    /// <summary>
    /// Memory copies one run makes for this edge: 0 for <see cref="TransferRoute.None"/>, the path's for
    /// <see cref="TransferRoute.Direct"/>, and for <see cref="TransferRoute.ViaHost"/> one download unless the producer is in
    /// host memory plus one upload unless the consumer is.
    /// </summary>
    public int Copies => Route switch
    {
        TransferRoute.None => 0,
        TransferRoute.Direct => Path?.Copies ?? 1,
        _ => (From.MemorySpace.IsHost ? 0 : 1) + (To.MemorySpace.IsHost ? 0 : 1),
    };

    /// <summary>True when the value goes device -> host -> device: staged through host memory between two spaces that are not host memory.</summary>
    public bool IsHostRoundTrip => Route == TransferRoute.ViaHost && !From.MemorySpace.IsHost && !To.MemorySpace.IsHost;

    /// <summary>The route as reports show it: <c>none</c>, <c>direct</c>, <c>via host</c>.</summary>
    public string RouteName => Route switch
    {
        TransferRoute.None => "none",
        TransferRoute.Direct => "direct",
        _ => "via host",
    };
}

/// <summary>How a model runs: partitions on devices and the transfers between them.</summary>
public sealed class ExecutionPlan
{
    /// <summary>Creates a plan.</summary>
    public ExecutionPlan(Model model, IReadOnlyList<PlannedPartition> partitions)
    {
        Model = model;
        Partitions = partitions;
        CutEdges = ComputeCutEdges(model, partitions);
        Transfers = CutEdges.Where(e => e.Route != TransferRoute.None).ToArray();
    }

    /// <summary>The whole model.</summary>
    public Model Model { get; }

    /// <summary>Partitions in execution order.</summary>
    public IReadOnlyList<PlannedPartition> Partitions { get; }

    /// <summary>
    /// Transfers the session performs between memory spaces: the <see cref="CutEdges"/> whose route is not
    /// <see cref="TransferRoute.None"/>, model outputs left outside host memory included.
    /// </summary>
    public IReadOnlyList<PlannedTransfer> Transfers { get; }

    /// <summary>
    /// Every value that enters a partition from outside it (model inputs included) and every model output, with its
    /// route: <see cref="TransferRoute.None"/> where both sides share a memory space.
    /// </summary>
    public IReadOnlyList<PlannedTransfer> CutEdges { get; }

    /// <summary>The distinct devices used.</summary>
    public IReadOnlyList<Device> Devices => Partitions.Select(p => p.Device).Distinct().ToArray();

    /// <summary>A readable one-line-per-partition description.</summary>
    public string Describe()
    {
        var lines = Partitions.Select(p =>
            $"partition {p.Index}: {p.Device.Id}, {p.NodeIndices.Count} node(s), inputs [{string.Join(", ", p.InputNames)}] -> outputs [{string.Join(", ", p.OutputNames)}]");
        var transfers = Transfers.Select(t => $"transfer '{t.ValueName}': {t.From.Id} -> {t.To.Id} {(t.BeforePartition < Partitions.Count ? $"before partition {t.BeforePartition}" : "to the caller")}, {t.RouteName}{(t.Path is { } path ? $" ({path.Description})" : "")}");
        return string.Join(Environment.NewLine, lines.Concat(transfers));
    }

    private static IReadOnlyList<PlannedTransfer> ComputeCutEdges(Model model, IReadOnlyList<PlannedPartition> partitions)
    {
        var producer = new Dictionary<string, (Device Device, IBackend? Backend)>(StringComparer.Ordinal);
        foreach (var input in model.Graph.Inputs) producer[input.Name] = (Device.Host, null);
        var edges = new List<PlannedTransfer>();
        foreach (var p in partitions)
        {
            foreach (var name in p.InputNames)
            {
                var (from, fromBackend) = producer.GetValueOrDefault(name, (Device.Host, null));
                edges.Add(Edge(name, from, fromBackend, p.Device, p.Backend, p.Index));
            }
            foreach (var name in p.OutputNames) producer[name] = (p.Device, p.Backend);
        }
        foreach (var output in model.Graph.Outputs)
        {
            if (producer.TryGetValue(output.Name, out var from) && from.Backend is not null)
            {
                edges.Add(Edge(output.Name, from.Device, from.Backend, Device.Host, null, partitions.Count));
            }
        }
        return edges;
    }

    private static PlannedTransfer Edge(string name, Device from, IBackend? fromBackend, Device to, IBackend? toBackend, int beforePartition)
    {
        var edge = new PlannedTransfer(name, from, to, beforePartition);
        if (from.MemorySpace == to.MemorySpace) return edge with { Route = TransferRoute.None };
        var path = toBackend?.TryGetTransfer(from, to) ?? fromBackend?.TryGetTransfer(from, to);
        return path is null ? edge : edge with { Route = TransferRoute.Direct, Path = path };
    }
}
