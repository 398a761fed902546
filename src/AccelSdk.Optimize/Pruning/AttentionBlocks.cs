using AccelSdk.Ir;

namespace AccelSdk.Optimize.Pruning;

/// <summary>A Q, K or V projection: x MatMul W [hidden, heads x headSize], then an optional Add of a bias constant.</summary>
/// <param name="MatMul">The projection MatMul (its weight is input 1).</param>
/// <param name="BiasAdd">The Add of the bias, or null.</param>
/// <param name="BiasSlot">Input slot of the bias constant on <paramref name="BiasAdd"/>.</param>
internal sealed record Projection(Node MatMul, Node? BiasAdd, int BiasSlot)
{
    /// <summary>The value the head-splitting Reshape reads.</summary>
    public string Output => BiasAdd?.Outputs[0] ?? MatMul.Outputs[0];
}

/// <summary>
/// One element of a Reshape's constant target shape: input <paramref name="Slot"/> of <paramref name="Reader"/> (the
/// Reshape, or the Concat that assembles the shape) holds it at <paramref name="Index"/> of <paramref name="Value"/>.
/// </summary>
internal sealed record ShapeElement(Node Reader, int Slot, int Index, AccelTensor Value);

/// <summary>
/// One self-attention block of a transformer encoder as BERT-family exports write it: Q, K and V projections, each
/// reshaped to [batch, sequence, heads, headSize] and transposed; Softmax(Q K^T ...) V; transposed back, reshaped to
/// [batch, sequence, heads x headSize] and projected by the output MatMul. A head is the same <see cref="HeadSize"/>
/// columns of Q, K and V and rows of the output weight, so removing it means slicing those four weights (and the
/// biases) and lowering the head count in the three split Reshapes and the width in the merging one.
/// </summary>
internal sealed record AttentionBlock(string Label, int Heads, int HeadSize, Projection Query, Projection Key, Projection Value,
    IReadOnlyList<ShapeElement> HeadCounts, ShapeElement? MergedWidth, Node Output, Node Softmax, IReadOnlyList<string> Internal)
{
    /// <summary>The value the output projection reads: the heads' outputs side by side, [.., heads x headSize].</summary>
    public string Context => Output.Inputs[0];

    /// <summary>Columns of the projections (rows of the output weight) that belong to the heads <paramref name="kept"/>.</summary>
    public int[] Columns(IEnumerable<int> kept) => kept.SelectMany(h => Enumerable.Range(h * HeadSize, HeadSize)).ToArray();
}

/// <summary>Finds the self-attention blocks of a model by following each Softmax to its projections.</summary>
internal sealed class AttentionBlocks
{
    private readonly GraphEditor _editor;
    private readonly Dictionary<string, Node> _producers;
    private readonly Dictionary<string, List<(Node Node, int Slot)>> _consumers;
    private readonly Dictionary<string, AccelTensor> _constantNodes = new(StringComparer.Ordinal);

    private AttentionBlocks(Model model)
    {
        _editor = new GraphEditor(model.Graph);
        _producers = _editor.Producers();
        _consumers = _editor.Consumers();
        foreach (var node in model.Graph.Nodes.Where(n => n.OpType == "Constant" && n.Domain.Length == 0))
        {
            if (node.Attribute("value") is { Kind: AttributeKind.Tensor } value) _constantNodes[node.Outputs[0]] = value.AsTensor();
        }
    }

    /// <summary>The blocks found, in graph order, and for every other Softmax why it is not one.</summary>
    public static (List<AttentionBlock> Blocks, List<(string Node, string Reason)> Skipped) Find(Model model)
    {
        var finder = new AttentionBlocks(model);
        var blocks = new List<AttentionBlock>();
        var skipped = new List<(string, string)>();
        foreach (var softmax in model.Graph.Nodes.Where(n => n.OpType == "Softmax" && n.Domain.Length == 0))
        {
            var (block, reason) = finder.Match(softmax);
            if (block is not null) blocks.Add(block);
            else skipped.Add((ChannelPruner.Label(softmax), $"not a prunable attention block: {reason}"));
        }
        return (blocks, skipped);
    }

    /// <summary>The constant int64/float tensor behind <paramref name="value"/> (initializer or Constant node), or null.</summary>
    public AccelTensor? Constant(string value) => _editor.Initializer(value) ?? _constantNodes.GetValueOrDefault(value);

    private (AttentionBlock? Block, string Reason) Match(Node softmax)
    {
        var scores = BackToActivationMatMul(softmax.Inputs[0], depth: 4);
        if (scores is null) return (null, "no MatMul of two computed values (Q K^T) before it");
        if (Single(softmax.Outputs[0]) is not { Node.OpType: "MatMul", Slot: 0 } weighted) return (null, "its output is not multiplied by V");
        var query = SplitHeads(scores.Inputs[0], 0, 2, 1, 3);
        var key = SplitHeads(scores.Inputs[1], 0, 2, 3, 1);
        var value = SplitHeads(weighted.Node.Inputs[1], 0, 2, 1, 3);
        if (query is null || key is null || value is null) return (null, "Q, K or V is not a projection reshaped to heads and transposed (0, 2, 1, 3)");
        if (Single(weighted.Node.Outputs[0]) is not { Node.OpType: "Transpose" } back || !Perm(back.Node, 0, 2, 1, 3)) return (null, "the heads are not transposed back");
        if (Single(back.Node.Outputs[0]) is not { Node.OpType: "Reshape", Slot: 0 } merge) return (null, "the heads are not merged by a Reshape");
        if (Single(merge.Node.Outputs[0]) is not { Node.OpType: "MatMul", Slot: 0 } output || _editor.Initializer(output.Node.Inputs[1]) is not { Rank: 2, ElementType: ElementType.Float32 } wo)
        {
            return (null, "the merged heads do not feed a constant output projection");
        }
        var (heads, headSize) = (query.Value.Heads, query.Value.HeadSize);
        var width = heads * headSize;
        if (key.Value.Heads != heads || value.Value.Heads != heads || key.Value.HeadSize != headSize || value.Value.HeadSize != headSize || wo.Shape[0] != width)
        {
            return (null, "Q, K, V and the output projection disagree on heads x head size");
        }
        var projections = new[] { query.Value.Projection, key.Value.Projection, value.Value.Projection };
        if (projections.Any(p => _editor.Initializer(p.MatMul.Inputs[1]) is not { Rank: 2 } w || w.Shape[1] != width)) return (null, $"a projection weight is not [hidden, {width}]");
        var mergedWidth = ShapeElementHolding(merge.Node, 2, width, out var mergeFree);
        if (mergedWidth is null && !mergeFree) return (null, $"the merging Reshape's width {width} is not a constant it can change");
        var internalValues = new List<string>();
        foreach (var p in projections) internalValues.AddRange(new[] { p.MatMul.Outputs[0], p.Output });
        internalValues.AddRange(new[] { query.Value.Split, key.Value.Split, value.Value.Split, scores.Outputs[0], softmax.Outputs[0], weighted.Node.Outputs[0], back.Node.Outputs[0], merge.Node.Outputs[0] });
        var label = output.Node.Name.Length > 0 ? output.Node.Name : ChannelPruner.Label(softmax);
        return (new AttentionBlock(label, heads, headSize, query.Value.Projection, key.Value.Projection, value.Value.Projection,
            new[] { query.Value.HeadCount, key.Value.HeadCount, value.Value.HeadCount }, mergedWidth, output.Node, softmax, internalValues), "");
    }

    /// <summary>The batched MatMul of two computed values behind the scores, through at most <paramref name="depth"/> elementwise ops (scale, mask).</summary>
    private Node? BackToActivationMatMul(string value, int depth)
    {
        if (!_producers.TryGetValue(value, out var node)) return null;
        if (node.OpType == "MatMul") return Constant(node.Inputs[0]) is null && Constant(node.Inputs[1]) is null ? node : null;
        if (depth == 0 || node.OpType is not ("Add" or "Sub" or "Mul" or "Div")) return null;
        return node.Inputs.Select(i => BackToActivationMatMul(i, depth - 1)).FirstOrDefault(n => n is not null);
    }

    /// <summary>Transpose(perm) of Reshape(projection, [.., .., heads, headSize]).</summary>
    private (Projection Projection, int Heads, int HeadSize, ShapeElement HeadCount, string Split)? SplitHeads(string value, params long[] perm)
    {
        if (!_producers.TryGetValue(value, out var transpose) || transpose.OpType != "Transpose" || !Perm(transpose, perm)) return null;
        if (!_producers.TryGetValue(transpose.Inputs[0], out var reshape) || reshape.OpType != "Reshape" || Single(reshape.Outputs[0]) is null) return null;
        if (ShapeValues(reshape.Inputs[1]) is not { Length: 4 } shape || shape[2] is not { } heads || shape[3] is not { } headSize || heads < 2 || headSize < 1) return null;
        var headCount = ShapeElementHolding(reshape, 2, heads, out _);
        if (headCount is null || ProjectionOf(reshape.Inputs[0]) is not { } projection) return null;
        return (projection, (int)heads, (int)headSize, headCount, reshape.Outputs[0]);
    }

    /// <summary>MatMul(x, W) or Add(bias, MatMul(x, W)) in either operand order, each read only on the way to the heads.</summary>
    private Projection? ProjectionOf(string value)
    {
        if (!_producers.TryGetValue(value, out var node) || Single(value) is null) return null;
        if (node.OpType == "MatMul") return _editor.Initializer(node.Inputs[1]) is { ElementType: ElementType.Float32 } ? new Projection(node, null, 0) : null;
        if (node.OpType != "Add" || node.Inputs.Count != 2) return null;
        for (var slot = 0; slot < 2; slot++)
        {
            var other = node.Inputs[1 - slot];
            if (_editor.Initializer(node.Inputs[slot]) is not { Rank: 1, ElementType: ElementType.Float32 }) continue;
            if (_producers.TryGetValue(other, out var matMul) && matMul.OpType == "MatMul" && Single(other) is not null
                && _editor.Initializer(matMul.Inputs[1]) is { ElementType: ElementType.Float32 })
            {
                return new Projection(matMul, node, slot);
            }
        }
        return null;
    }

    /// <summary>The elements of a shape value that are constant (null where computed), following a Concat of pieces.</summary>
    private long?[]? ShapeValues(string shape)
    {
        if (Constant(shape) is { ElementType: ElementType.Int64 } whole) return whole.ToArray<long>().Select(v => (long?)v).ToArray();
        if (!_producers.TryGetValue(shape, out var concat) || concat.OpType != "Concat") return null;
        var values = new List<long?>();
        foreach (var piece in concat.Inputs)
        {
            if (Constant(piece) is { ElementType: ElementType.Int64 } c) values.AddRange(c.ToArray<long>().Select(v => (long?)v));
            else if (_producers.TryGetValue(piece, out var unsqueeze) && unsqueeze.OpType == "Unsqueeze") values.Add(null);
            else return null;
        }
        return values.ToArray();
    }

    /// <summary>
    /// Where element <paramref name="index"/> of the target shape of <paramref name="reshape"/> (equal to
    /// <paramref name="expected"/>) is stored; <paramref name="free"/> is true when it is -1 and follows the data by itself.
    /// </summary>
    private ShapeElement? ShapeElementHolding(Node reshape, int index, long expected, out bool free)
    {
        free = false;
        var shape = reshape.Inputs[1];
        var values = ShapeValues(shape);
        if (values is null || index >= values.Length) return null;
        if (values[index] == -1)
        {
            free = true;
            return null;
        }
        if (values[index] != expected) return null;
        if (Constant(shape) is { } whole) return new ShapeElement(reshape, 1, index, whole);
        var concat = _producers[shape];
        var offset = 0;
        for (var slot = 0; slot < concat.Inputs.Count; slot++)
        {
            var length = Constant(concat.Inputs[slot]) is { } c ? (int)c.ElementCount : 1;
            if (index < offset + length) return Constant(concat.Inputs[slot]) is { } piece ? new ShapeElement(concat, slot, index - offset, piece) : null;
            offset += length;
        }
        return null;
    }

    /// <summary>
    /// The one real reader of <paramref name="value"/>, besides Shape nodes whose result is only indexed at the batch and
    /// sequence dimensions (0, 1: exports compute the Reshape targets that way), which the width does not change.
    /// </summary>
    private (Node Node, int Slot)? Single(string value)
    {
        if (!_consumers.TryGetValue(value, out var list)) return null;
        var readers = list.Where(c => !ReadsOnlyLeadingDimensions(c.Node)).ToList();
        return readers.Count == 1 ? readers[0] : null;
    }

    private bool ReadsOnlyLeadingDimensions(Node node) =>
        node.OpType == "Shape" && _consumers.TryGetValue(node.Outputs[0], out var readers) && readers.All(r =>
            r.Node.OpType == "Gather" && r.Slot == 0 && Constant(r.Node.Inputs[1]) is { ElementType: ElementType.Int64, ElementCount: 1 } index
            && index.ToArray<long>()[0] is 0 or 1);

    private static bool Perm(Node transpose, params long[] expected) => transpose.GetInts("perm") is { } perm && perm.SequenceEqual(expected);
}
