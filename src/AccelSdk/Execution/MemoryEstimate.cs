using AccelSdk.Backends;
using AccelSdk.Ir;

namespace AccelSdk.Execution;

/// <summary>The estimated memory a plan needs on one device.</summary>
/// <param name="DeviceId">The device.</param>
/// <param name="WeightBytes">Initializers its partitions read (each counted once per device).</param>
/// <param name="PeakActivationBytes">The largest, over its partitions, of the bytes of values live at once while one runs.</param>
public sealed record DeviceFootprint(string DeviceId, long WeightBytes, long PeakActivationBytes)
{
    /// <summary>Weights plus peak activations.</summary>
    public long TotalBytes => WeightBytes + PeakActivationBytes;
}

/// <summary>
/// Estimates each device's footprint for a plan: the bytes of the initializers its partitions read, plus the peak of
/// the values live at once while one of its partitions runs (its inputs, then each node's outputs until their last
/// reader in the partition, or the end when other partitions or the graph outputs need them), with partitions of one
/// device running one after another. Runtime workspaces, pre-packed weight copies, allocator rounding and the
/// runtime's own code are not counted, so a cap should keep some headroom; values of unknown size count 0.
/// </summary>
public static class MemoryEstimate
{
    /// <summary>Per device of <paramref name="plan"/>; <paramref name="bytesOf"/> gives a value's size (0 when unknown).</summary>
    public static IReadOnlyList<DeviceFootprint> Of(ExecutionPlan plan, Func<string, long> bytesOf)
    {
        var result = new List<DeviceFootprint>();
        foreach (var group in plan.Partitions.GroupBy(p => p.Device.Id))
        {
            var weights = new HashSet<string>(StringComparer.Ordinal);
            long weightBytes = 0, peak = 0;
            foreach (var p in group)
            {
                foreach (var t in p.SubModel.Graph.Initializers)
                {
                    if (weights.Add(t.Name ?? "")) weightBytes += t.IsString ? t.ElementCount * 16 : t.ByteLength;
                }
                peak = Math.Max(peak, PeakActivations(p.SubModel.Graph, bytesOf));
            }
            result.Add(new DeviceFootprint(group.Key, weightBytes, peak));
        }
        return result;
    }

    /// <summary>Sizes from the static shapes in <paramref name="types"/>.</summary>
    public static Func<string, long> FromTypes(IReadOnlyDictionary<string, Ir.ValueType> types) => name =>
        types.TryGetValue(name, out var t) && t is TensorType { Shape: { } shape } tt && shape.ElementCount is { } n ? n * Math.Max(1, tt.ElementType.SizeInBytes()) : 0;

    private static long PeakActivations(Graph graph, Func<string, long> bytesOf)
    {
        var initializers = graph.Initializers.Select(t => t.Name ?? "").ToHashSet(StringComparer.Ordinal);
        var lastUse = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < graph.Nodes.Count; i++)
        {
            foreach (var v in graph.Nodes[i].Inputs) if (v.Length > 0) lastUse[v] = i;
        }
        foreach (var o in graph.Outputs) lastUse[o.Name] = int.MaxValue;
        var live = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var input in graph.Inputs)
        {
            if (!initializers.Contains(input.Name)) live[input.Name] = bytesOf(input.Name);
        }
        long current = live.Values.Sum(), peak = current;
        for (var i = 0; i < graph.Nodes.Count; i++)
        {
            foreach (var o in graph.Nodes[i].Outputs)
            {
                if (o.Length == 0 || live.ContainsKey(o)) continue;
                live[o] = bytesOf(o);
                current += live[o];
            }
            peak = Math.Max(peak, current);
            foreach (var v in live.Keys.Where(v => lastUse.GetValueOrDefault(v, -1) <= i).ToList())
            {
                current -= live[v];
                live.Remove(v);
            }
        }
        return peak;
    }
}
