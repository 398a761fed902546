using AccelSdk.Ir;

namespace AccelSdk.Optimize.Pruning;

/// <summary>
/// Which channels must be removed together (dependency-graph pruning, the idea of Torch-Pruning's DepGraph). Every
/// channel of every value a prunable op writes is a slot; ops that tie channels union slots: BatchNormalization,
/// activations, pooling and Pad pass a channel through, elementwise Add/Sub/Mul/... tie the channels of all their
/// operands (a residual Add makes all its producers drop the same channels), Concat places its inputs at offsets,
/// a depthwise Conv ties its input and output channel, a Flatten of a 1x1 map turns channels into columns. A
/// connected set of slots is an atom: one channel removed from every value it spans at once. Atoms that share a
/// value form a dependency group, the unit the sparsity applies to. A slot that reaches an op this class does not
/// understand, a graph output, or a constant it cannot slice, is blocked, and its atom stays.
/// </summary>
internal sealed class ChannelDependencies
{
    private static readonly HashSet<string> ChannelwiseUnary = new(StringComparer.Ordinal)
    {
        "Relu", "LeakyRelu", "Clip", "Sigmoid", "Tanh", "HardSigmoid", "HardSwish", "Elu", "Selu", "Softplus", "Erf",
        "Gelu", "Mish", "Identity", "Dropout", "Neg", "Abs", "Sqrt", "Exp", "Celu", "Softsign", "ThresholdedRelu",
    };

    private static readonly HashSet<string> SpatialPassThrough = new(StringComparer.Ordinal)
    {
        "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool", "LpPool", "GlobalLpPool",
    };

    private static readonly HashSet<string> Elementwise = new(StringComparer.Ordinal) { "Add", "Sub", "Mul", "Div", "Max", "Min", "Sum" };

    private readonly GraphEditor _editor;
    private readonly Dictionary<string, AccelSdk.Ir.ValueType> _types;
    private readonly Dictionary<string, ValueChannels> _values = new(StringComparer.Ordinal);
    private readonly List<int> _parent = new();
    private readonly HashSet<int> _blocked = new();
    private readonly Dictionary<string, AccelTensor> _scalarConstants = new(StringComparer.Ordinal);

    /// <summary>Where a value's channels live: first slot, channel count and the axis of the channels.</summary>
    internal sealed record ValueChannels(int Start, int Count, int Axis);

    private ChannelDependencies(Model model)
    {
        _editor = new GraphEditor(model.Graph);
        _types = ShapeInference.Infer(model);
        // Constant nodes holding one value (the 0.5, 1 and sqrt(2) of a decomposed Gelu) broadcast like scalars.
        foreach (var node in model.Graph.Nodes.Where(n => n.OpType == "Constant" && n.Domain.Length == 0))
        {
            if (node.Attribute("value") is { Kind: AttributeKind.Tensor } a && a.AsTensor() is { ElementCount: 1 } t) _scalarConstants[node.Outputs[0]] = t;
        }
    }

    /// <summary>Values that have channel slots, with their layout.</summary>
    public IReadOnlyDictionary<string, ValueChannels> Values => _values;

    /// <summary>Builds the channel dependencies of <paramref name="model"/> (BatchNorm folded or not).</summary>
    public static ChannelDependencies Build(Model model)
    {
        var deps = new ChannelDependencies(model);
        var consumers = deps._editor.Consumers();
        foreach (var node in model.Graph.Nodes) deps.Visit(node, consumers);
        foreach (var output in model.Graph.Outputs) deps.Block(output.Name);
        return deps;
    }

    /// <summary>The atom (representative slot) of channel <paramref name="channel"/> of <paramref name="value"/>.</summary>
    public int AtomOf(string value, int channel) => Find(_values[value].Start + channel);

    /// <summary>Atoms that may be removed: none of their slots is blocked.</summary>
    public HashSet<int> FreeAtoms()
    {
        var blockedAtoms = new HashSet<int>(_blocked.Select(Find));
        var all = new HashSet<int>();
        for (var s = 0; s < _parent.Count; s++) all.Add(Find(s));
        all.ExceptWith(blockedAtoms);
        return all;
    }

    /// <summary>The atoms of each value, channel by channel.</summary>
    public int[] AtomsOf(string value)
    {
        var v = _values[value];
        return Enumerable.Range(0, v.Count).Select(c => Find(v.Start + c)).ToArray();
    }

    private void Visit(Node node, Dictionary<string, List<(Node Node, int Slot)>> consumers)
    {
        if (node.Domain.Length > 0 && node.Domain != "ai.onnx")
        {
            BlockInputs(node);
            return;
        }
        switch (node.OpType)
        {
            case "Conv":
                VisitConv(node);
                break;
            case "Gemm":
                VisitGemm(node);
                break;
            case "MatMul":
                VisitMatMul(node);
                break;
            case "BatchNormalization" or "InstanceNormalization":
                VisitWithChannelParameters(node, node.OpType == "BatchNormalization" ? 5 : 3);
                break;
            case "Pad":
                VisitPad(node);
                break;
            case "Concat":
                VisitConcat(node, consumers);
                break;
            case "Flatten":
                VisitFlatten(node);
                break;
            case "Resize" or "Upsample":
                PassThrough(node, requireAxis: 1);
                break;
            case var op when ChannelwiseUnary.Contains(op):
                VisitUnary(node);
                break;
            case var op when SpatialPassThrough.Contains(op):
                PassThrough(node, requireAxis: 1);
                break;
            case var op when Elementwise.Contains(op):
                VisitElementwise(node);
                break;
            default:
                BlockInputs(node);
                break;
        }
    }

    private void VisitConv(Node node)
    {
        var w = ConstFloat(node, 1);
        if (w is null || w.Rank < 3 || !BiasFits(node, 2, w.Shape[0]))
        {
            BlockInputs(node);
            return;
        }
        var group = node.GetInt("group", 1);
        var outChannels = (int)w.Shape[0];
        if (group == 1)
        {
            if (_values.TryGetValue(node.Inputs[0], out var input) && (input.Axis != 1 || input.Count != w.Shape[1])) Block(node.Inputs[0]);
            Declare(node.Outputs[0], outChannels, 1);
            return;
        }
        // Depthwise (one filter per channel): the input channel and the output channel are removed together.
        if (group == outChannels && w.Shape[1] == 1 && _values.TryGetValue(node.Inputs[0], out var x) && x.Count == group && x.Axis == 1)
        {
            Declare(node.Outputs[0], outChannels, 1);
            UnionValues(node.Inputs[0], node.Outputs[0]);
            return;
        }
        BlockInputs(node);
    }

    private void VisitGemm(Node node)
    {
        var w = ConstFloat(node, 1);
        if (w is null || w.Rank != 2 || node.GetInt("transA", 0) != 0)
        {
            BlockInputs(node);
            return;
        }
        var transB = node.GetInt("transB", 0) != 0;
        var (inCount, outCount) = transB ? (w.Shape[1], w.Shape[0]) : (w.Shape[0], w.Shape[1]);
        if (node.Inputs.Count > 2 && node.Inputs[2].Length > 0 && !BiasFits(node, 2, outCount))
        {
            BlockInputs(node);
            return;
        }
        if (_values.TryGetValue(node.Inputs[0], out var input) && (input.Axis != 1 || input.Count != inCount)) Block(node.Inputs[0]);
        Declare(node.Outputs[0], (int)outCount, 1);
    }

    private void VisitMatMul(Node node)
    {
        var w = ConstFloat(node, 1);
        var rank = RankOf(node.Inputs[0]);
        if (w is null || w.Rank != 2 || rank is null or < 2)
        {
            BlockInputs(node);
            return;
        }
        if (_values.TryGetValue(node.Inputs[0], out var input) && (input.Axis != rank - 1 || input.Count != w.Shape[0])) Block(node.Inputs[0]);
        Declare(node.Outputs[0], (int)w.Shape[1], rank.Value - 1);
    }

    private void VisitUnary(Node node)
    {
        // Clip's min/max and the like are scalars; any other extra input is a per-channel tensor we do not slice.
        for (var i = 1; i < node.Inputs.Count; i++)
        {
            if (node.Inputs[i].Length > 0 && _editor.Initializer(node.Inputs[i]) is not { ElementCount: 1 })
            {
                BlockInputs(node);
                return;
            }
        }
        PassThrough(node, requireAxis: null);
    }

    private void PassThrough(Node node, int? requireAxis)
    {
        if (!_values.TryGetValue(node.Inputs[0], out var input)) return;
        if (requireAxis is { } axis && input.Axis != axis)
        {
            BlockInputs(node);
            return;
        }
        for (var i = 1; i < node.Inputs.Count; i++)
        {
            if (_values.ContainsKey(node.Inputs[i])) Block(node.Inputs[i]);
        }
        Declare(node.Outputs[0], input.Count, input.Axis);
        UnionValues(node.Inputs[0], node.Outputs[0]);
    }

    private void VisitWithChannelParameters(Node node, int inputCount)
    {
        if (!_values.TryGetValue(node.Inputs[0], out var input)) return;
        for (var i = 1; i < Math.Min(inputCount, node.Inputs.Count); i++)
        {
            if (ConstFloat(node, i) is not { Rank: 1 } p || p.Shape[0] != input.Count)
            {
                BlockInputs(node);
                return;
            }
        }
        PassThrough(node, requireAxis: 1);
    }

    private void VisitPad(Node node)
    {
        if (!_values.TryGetValue(node.Inputs[0], out var input)) return;
        var pads = node.GetInts("pads")?.ToArray()
                   ?? (node.Inputs.Count > 1 && _editor.Initializer(node.Inputs[1]) is { ElementType: ElementType.Int64 } p ? p.ToArray<long>() : null);
        var rank = RankOf(node.Inputs[0]);
        var axesGiven = node.Inputs.Count > 3 && node.Inputs[3].Length > 0;
        if (pads is null || rank is null || axesGiven || pads.Length != 2 * rank || pads[input.Axis] != 0 || pads[input.Axis + rank.Value] != 0)
        {
            BlockInputs(node);
            return;
        }
        PassThrough(node, requireAxis: null);
    }

    private void VisitFlatten(Node node)
    {
        if (!_values.TryGetValue(node.Inputs[0], out var input)) return;
        var shape = ShapeOf(node.Inputs[0]);
        var spatialIsOne = shape is { Rank: >= 2 } s && Enumerable.Range(2, s.Rank - 2).All(d => s[d].Value == 1);
        if (node.GetInt("axis", 1) != 1 || input.Axis != 1 || !spatialIsOne)
        {
            BlockInputs(node);
            return;
        }
        Declare(node.Outputs[0], input.Count, 1);
        UnionValues(node.Inputs[0], node.Outputs[0]);
    }

    private void VisitElementwise(Node node)
    {
        var withSlots = node.Inputs.Where(_values.ContainsKey).ToList();
        if (withSlots.Count == 0) return;
        var first = _values[withSlots[0]];
        var rank = RankOf(node.Outputs[0]) ?? RankOf(withSlots[0]);
        var fits = rank is not null && withSlots.All(v => _values[v].Count == first.Count && _values[v].Axis == first.Axis && RankOf(v) == rank);
        foreach (var input in node.Inputs.Where(i => i.Length > 0 && !_values.ContainsKey(i)))
        {
            fits &= _scalarConstants.ContainsKey(input) || _editor.Initializer(input) is { } c && ConstantChannelAxis(c, rank ?? 0, first.Axis, first.Count) is not null;
        }
        if (!fits)
        {
            BlockInputs(node);
            return;
        }
        Declare(node.Outputs[0], first.Count, first.Axis);
        foreach (var v in withSlots) UnionValues(v, node.Outputs[0]);
    }

    /// <summary>
    /// For a constant operand of an elementwise op on values of rank <paramref name="rank"/> with channels at
    /// <paramref name="axis"/>: -1 when it is a broadcast scalar (nothing to slice), its own channel axis when it
    /// holds one value per channel, null when it cannot follow a channel removal.
    /// </summary>
    internal static int? ConstantChannelAxis(AccelTensor c, int rank, int axis, int count)
    {
        if (c.ElementCount == 1) return -1;
        if (c.Rank > rank) return null;
        var ownAxis = axis - (rank - c.Rank);
        if (ownAxis < 0 || c.Shape[ownAxis] != count) return null;
        for (var d = 0; d < c.Rank; d++)
        {
            if (d != ownAxis && c.Shape[d] != 1) return null;
        }
        return ownAxis;
    }

    private void VisitConcat(Node node, Dictionary<string, List<(Node Node, int Slot)>> consumers)
    {
        var rank = RankOf(node.Outputs[0]);
        var axis = node.GetInt("axis", 0);
        if (rank is { } r && axis < 0) axis += r;
        var counts = new List<int>();
        foreach (var input in node.Inputs)
        {
            if (_values.TryGetValue(input, out var v) && v.Axis == axis) counts.Add(v.Count);
            else if (ZeroFillChannels(input, (int)axis, consumers) is { } zeros) counts.Add(zeros);
            else
            {
                BlockInputs(node);
                return;
            }
        }
        Declare(node.Outputs[0], counts.Sum(), (int)axis);
        var output = _values[node.Outputs[0]];
        var offset = 0;
        for (var i = 0; i < node.Inputs.Count; i++)
        {
            var v = _values[node.Inputs[i]];
            for (var c = 0; c < v.Count; c++) Union(v.Start + c, output.Start + offset + c);
            offset += v.Count;
        }
    }

    /// <summary>
    /// A ConstantOfShape with a constant shape read only by this Concat (channel padding, as TensorFlow exports of
    /// BlazeFace do): its channels can be removed by shrinking the shape.
    /// </summary>
    private int? ZeroFillChannels(string value, int axis, Dictionary<string, List<(Node Node, int Slot)>> consumers)
    {
        var producer = _editor.Graph.Nodes.FirstOrDefault(n => n.Outputs.Contains(value));
        if (producer is not { OpType: "ConstantOfShape" } || consumers[value].Count != 1 || _editor.IsGraphOutput(value)) return null;
        if (_editor.Initializer(producer.Inputs[0]) is not { ElementType: ElementType.Int64 } shape || axis >= shape.ElementCount) return null;
        var count = (int)shape.ToArray<long>()[axis];
        Declare(value, count, axis);
        return count;
    }

    private AccelTensor? ConstFloat(Node node, int index) =>
        index < node.Inputs.Count && _editor.Initializer(node.Inputs[index]) is { ElementType: ElementType.Float32 } t ? t : null;

    private bool BiasFits(Node node, int index, long count) =>
        index >= node.Inputs.Count || node.Inputs[index].Length == 0 ||
        ConstFloat(node, index) is { } b && b.ElementCount == count && b.Shape[^1] == count;

    private TensorShape? ShapeOf(string value) => _types.TryGetValue(value, out var t) && t is TensorType { Shape: { } s } ? s : null;

    private int? RankOf(string value) => ShapeOf(value)?.Rank;

    private void Declare(string value, int count, int axis)
    {
        if (_values.ContainsKey(value)) return;
        _values[value] = new ValueChannels(_parent.Count, count, axis);
        for (var c = 0; c < count; c++) _parent.Add(_parent.Count);
    }

    private void BlockInputs(Node node)
    {
        foreach (var input in node.Inputs) Block(input);
    }

    private void Block(string value)
    {
        if (!_values.TryGetValue(value, out var v)) return;
        for (var c = 0; c < v.Count; c++) _blocked.Add(v.Start + c);
    }

    private void UnionValues(string a, string b)
    {
        var (x, y) = (_values[a], _values[b]);
        for (var c = 0; c < x.Count; c++) Union(x.Start + c, y.Start + c);
    }

    private int Find(int slot)
    {
        while (_parent[slot] != slot)
        {
            _parent[slot] = _parent[_parent[slot]];
            slot = _parent[slot];
        }
        return slot;
    }

    private void Union(int a, int b)
    {
        var (ra, rb) = (Find(a), Find(b));
        if (ra != rb) _parent[Math.Max(ra, rb)] = Math.Min(ra, rb);
    }
}
