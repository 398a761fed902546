using AccelSdk.Ir;

namespace AccelSdk.Cluster.Client;

/// <summary>
/// What the split planner needs to know of a model at its sample input shapes: its layers in graph order, and for
/// each cut position k (layers before k on one node, from k on on another) the values that cross and their bytes.
/// </summary>
internal sealed class SplitGraph
{
    private readonly List<string>[] _crossing;

    private SplitGraph(IReadOnlyList<string> layerNames, List<string>[] crossing, long[] cutBytes, long inputBytes, long outputBytes)
    {
        LayerNames = layerNames;
        _crossing = crossing;
        CutBytes = cutBytes;
        InputBytes = inputBytes;
        OutputBytes = outputBytes;
    }

    /// <summary>Layer (node) names in graph order.</summary>
    public IReadOnlyList<string> LayerNames { get; }

    /// <summary>Layers.</summary>
    public int Count => LayerNames.Count;

    /// <summary>Bytes crossing cut k (0..Count); -1 where a crossing value's size is unknown (the cut is not offered).</summary>
    public long[] CutBytes { get; }

    /// <summary>Bytes of the model's inputs (what the client sends).</summary>
    public long InputBytes { get; }

    /// <summary>Bytes of the model's outputs (what comes back).</summary>
    public long OutputBytes { get; }

    /// <summary>Names of the values crossing cut k: what the stage starting at k is sent.</summary>
    public IReadOnlyList<string> Crossing(int k) => _crossing[k];

    /// <summary>Analyses <paramref name="model"/> at the shapes of <paramref name="sample"/>.</summary>
    public static SplitGraph Of(Model model, IReadOnlyDictionary<string, AccelTensor> sample)
    {
        var shaped = model.WithInputShapes(sample);
        var types = ShapeInference.Infer(shaped);
        var graph = shaped.Graph;
        var nodes = graph.Nodes;
        var constants = graph.Initializers.Select(t => t.Name!).Concat(graph.SparseInitializers.Select(s => s.Values.Name!)).ToHashSet(StringComparer.Ordinal);
        var producer = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var input in graph.Inputs.Where(i => !constants.Contains(i.Name))) producer[input.Name] = -1;
        var lastReader = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < nodes.Count; i++)
        {
            foreach (var read in nodes[i].Inputs.Concat(nodes[i].Subgraphs.SelectMany(g => g.OuterScopeReferences())))
            {
                if (read.Length > 0) lastReader[read] = i;
            }
            foreach (var output in nodes[i].Outputs.Where(o => o.Length > 0)) producer[output] = i;
        }
        var crossing = new List<string>[nodes.Count + 1];
        var cutBytes = new long[nodes.Count + 1];
        for (var k = 0; k <= nodes.Count; k++)
        {
            crossing[k] = producer.Where(p => p.Value < k && lastReader.TryGetValue(p.Key, out var last) && last >= k).Select(p => p.Key).Order(StringComparer.Ordinal).ToList();
            cutBytes[k] = crossing[k].Aggregate(0L, (sum, v) => sum < 0 || BytesOf(types, v) is not { } b ? -1 : sum + b);
        }
        var inputBytes = sample.Values.Sum(t => t.ByteLength);
        var outputBytes = graph.Outputs.Sum(o => BytesOf(types, o.Name) ?? 0);
        var names = nodes.Select((n, i) => n.Name.Length > 0 ? n.Name : n.Outputs.FirstOrDefault() ?? $"#{i}").ToList();
        return new SplitGraph(names, crossing, cutBytes, inputBytes, outputBytes);
    }

    private static long? BytesOf(IReadOnlyDictionary<string, Ir.ValueType> types, string value) =>
        types.GetValueOrDefault(value) is TensorType { Shape.ElementCount: { } count } tensor && tensor.ElementType.SizeInBytes() > 0
            ? count * tensor.ElementType.SizeInBytes() : null;
}
