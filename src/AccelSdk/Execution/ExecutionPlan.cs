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

/// <summary>An explicit copy of a value between two devices in different memory spaces.</summary>
/// <param name="ValueName">The value moved.</param>
/// <param name="From">Producing device (the host for model inputs).</param>
/// <param name="To">Consuming device.</param>
/// <param name="BeforePartition">The partition that needs it.</param>
public sealed record PlannedTransfer(string ValueName, Device From, Device To, int BeforePartition);

/// <summary>How a model runs: partitions on devices and the transfers between them.</summary>
public sealed class ExecutionPlan
{
    /// <summary>Creates a plan.</summary>
    public ExecutionPlan(Model model, IReadOnlyList<PlannedPartition> partitions)
    {
        Model = model;
        Partitions = partitions;
        Transfers = ComputeTransfers(model, partitions);
    }

    /// <summary>The whole model.</summary>
    public Model Model { get; }

    /// <summary>Partitions in execution order.</summary>
    public IReadOnlyList<PlannedPartition> Partitions { get; }

    /// <summary>Transfers the session performs between memory spaces.</summary>
    public IReadOnlyList<PlannedTransfer> Transfers { get; }

    /// <summary>The distinct devices used.</summary>
    public IReadOnlyList<Device> Devices => Partitions.Select(p => p.Device).Distinct().ToArray();

    /// <summary>A readable one-line-per-partition description.</summary>
    public string Describe()
    {
        var lines = Partitions.Select(p =>
            $"partition {p.Index}: {p.Device.Id}, {p.NodeIndices.Count} node(s), inputs [{string.Join(", ", p.InputNames)}] -> outputs [{string.Join(", ", p.OutputNames)}]");
        var transfers = Transfers.Select(t => $"transfer '{t.ValueName}': {t.From.Id} -> {t.To.Id} before partition {t.BeforePartition}");
        return string.Join(Environment.NewLine, lines.Concat(transfers));
    }

    private static IReadOnlyList<PlannedTransfer> ComputeTransfers(Model model, IReadOnlyList<PlannedPartition> partitions)
    {
        var producer = new Dictionary<string, Device>(StringComparer.Ordinal);
        foreach (var input in model.Graph.Inputs) producer[input.Name] = Device.Host;
        var transfers = new List<PlannedTransfer>();
        foreach (var p in partitions)
        {
            foreach (var name in p.InputNames)
            {
                var from = producer.GetValueOrDefault(name, Device.Host);
                if (from.MemorySpace != p.Device.MemorySpace) transfers.Add(new PlannedTransfer(name, from, p.Device, p.Index));
            }
            foreach (var name in p.OutputNames) producer[name] = p.Device;
        }
        return transfers;
    }
}
