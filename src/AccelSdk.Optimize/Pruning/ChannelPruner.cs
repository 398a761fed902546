using System.Globalization;
using AccelSdk.Ir;

namespace AccelSdk.Optimize.Pruning;

/// <summary>
/// Structured channel pruning over dependency groups: channels that residual Adds, Concats, depthwise convolutions,
/// BatchNorm, activations, pooling and Flatten->Gemm chains tie together are removed together from every layer that
/// writes or reads them (<see cref="ChannelDependencies"/>), so the model really gets smaller and faster. BatchNorm is
/// folded first. Within each dependency group the channels with the lowest importance go: the mean over the coupled
/// weight slices (the filters that write the channel and the weights that read it) of their L2 norm, each relative to
/// its layer's mean. With calibration inputs, every layer after a removal is refitted by least squares to reproduce the
/// original layer's output on them (<see cref="LeastSquaresRecovery"/>), which recovers most of the accuracy without
/// training. In a transformer encoder <see cref="PruningOptions.HeadSparsity"/> also removes whole attention heads
/// (<see cref="AttentionBlocks"/>, <see cref="AttentionHeadPruning"/>), and the refit then covers the output projection
/// and every later layer as well.
/// </summary>
public static class ChannelPruner
{
    /// <summary>
    /// Prunes a copy of <paramref name="model"/>: <see cref="PruningOptions.Sparsity"/> is the share of channels removed
    /// from each dependency group. With <paramref name="calibration"/> samples the layers are refitted on them.
    /// </summary>
    public static OptimizationResult Prune(Model model, PruningOptions options, IReadOnlyList<IReadOnlyDictionary<string, AccelTensor>>? calibration = null)
    {
        options.Validate();
        if (calibration is { Count: 0 }) throw new CalibrationDataException(model.Label, "least-squares recovery needs at least one calibration sample");
        foreach (var sample in calibration ?? Array.Empty<IReadOnlyDictionary<string, AccelTensor>>()) Data.InputSets.Validate(model, sample, "calibration data");
        var copy = ModelPreparation.Clone(model);
        var folded = ModelPreparation.FoldBatchNormalization(copy);
        var reference = calibration is null ? null : ModelPreparation.Clone(copy);
        var refitted = new List<LeastSquaresRecovery.RefittedLayer>();
        var deps = ChannelDependencies.Build(copy);
        var excluded = ExcludedAtoms(copy, deps, options);
        var free = deps.FreeAtoms();
        free.ExceptWith(excluded);
        var rms = calibration is null ? null : ChannelImportance.ActivationRms(copy, deps, calibration, options.Recovery.Runtime, options.Recovery.Device);
        var importance = ChannelImportance.Of(copy, deps, rms);
        var (blocks, notBlocks) = AttentionBlocks.Find(copy);
        var headImportance = options.HeadSparsity > 0
            ? AttentionHeadPruning.Importance(copy, blocks, calibration, options.Recovery.Runtime, options.Recovery.Device)
            : blocks.Select(b => Enumerable.Repeat(1.0, b.Heads).ToArray()).ToList();
        var groups = DependencyGroups(deps, free);
        var removed = new HashSet<int>();
        var (multiple, multipleReason) = options.ChannelMultiple is { } given ? (given, "given") : ConvolutionChannelBlock.OfThisCpu();
        foreach (var group in groups) removed.UnionWith(ChooseRemovals(group, deps, importance, options.Sparsity, multiple));

        var keep = new Dictionary<string, int[]>(StringComparer.Ordinal);
        foreach (var (value, layout) in deps.Values)
        {
            var atoms = deps.AtomsOf(value);
            if (!atoms.Any(removed.Contains)) continue;
            keep[value] = Enumerable.Range(0, layout.Count).Where(c => !removed.Contains(atoms[c])).ToArray();
        }
        var before = LayerWidths(copy);
        var changed = ChannelRemoval.Apply(copy, deps, keep);
        var headChoices = RemoveHeads(copy, blocks, headImportance, options.HeadSparsity, keep, changed);
        var settings = new Dictionary<string, string>
        {
            ["sparsity"] = options.Sparsity.ToString("0.###", CultureInfo.InvariantCulture),
            ["channel_multiple"] = multiple > 1 ? $"{multiple} ({multipleReason})" : $"1, any channel count ({multipleReason})",
            ["channels_removed"] = $"{removed.Count} of {free.Count} in prunable dependency groups ({(free.Count == 0 ? 0 : 100.0 * removed.Count / free.Count).ToString("F1", CultureInfo.InvariantCulture)}%)",
            ["importance"] = rms is null ? "L2 norm of the coupled weights (filters and reader slices)" : "reader weight L2 norm x channel RMS on the calibration samples",
            ["dependency_groups"] = groups.Count.ToString(CultureInfo.InvariantCulture),
            ["batchnorm_folded"] = folded.ToString(CultureInfo.InvariantCulture),
        };
        if (blocks.Count > 0)
        {
            var (heads, removedHeads) = (blocks.Sum(b => b.Heads), blocks.Sum(b => b.Heads) - headChoices.Sum(c => c.Kept));
            settings["heads_removed"] = $"{removedHeads} of {heads} in {blocks.Count} attention block(s) ({(heads == 0 ? 0 : 100.0 * removedHeads / heads).ToString("F1", CultureInfo.InvariantCulture)}%)";
            if (options.HeadSparsity > 0) settings["head_importance"] = rms is null ? "|V columns| x |output projection rows| per head" : "RMS over calibration tokens of each head's output through the output projection";
        }
        if (reference is not null && calibration is not null && keep.Count > 0)
        {
            refitted = LeastSquaresRecovery.Refit(reference, copy, keep, calibration, options.Recovery);
            settings["recovery"] = $"least squares on {calibration.Count} calibration sample(s), {refitted.Count} layer(s) refitted, {RidgeSummary(options.Recovery, refitted)}";
            changed.UnionWith(refitted.Select(r => r.Label));
        }
        else
        {
            settings["recovery"] = "none (no calibration data; the accuracy cost is before any refit or retraining)";
        }
        new GraphEditor(copy.Graph).RemoveUnusedInitializers();
        copy.ProducerName = "AccelSdk.Optimize";
        copy.MetadataProps.Add(new("accelsdk.optimization", "prune-structured"));
        RemoveUnreadConstantNodes(copy.Graph);
        var skipped = BlockedLayers(copy, deps, free, blocks);
        skipped.AddRange(notBlocks);
        var order = copy.Graph.Nodes.Select(Label).ToList();
        var after = LayerWidths(copy);
        var ridgeOf = refitted.ToDictionary(r => r.Label, r => r.Ridge, StringComparer.Ordinal);
        var layers = after.Select(kv => new Reports.LayerChoice(kv.Key, kv.Value.Op, Widths(before[kv.Key], kv.Value),
            Detail: ridgeOf.TryGetValue(kv.Key, out var ridge) ? $"refitted by least squares, ridge {ridge.ToString("G3", CultureInfo.InvariantCulture)}" : null)).ToList();
        layers.AddRange(TransformerGroups(copy, blocks, headChoices, before, after));
        return new OptimizationResult("prune-structured", copy, order.Where(changed.Contains).ToList(), skipped, settings) { Layers = layers };
    }

    /// <summary>A block's heads that stay and the report row saying so.</summary>
    private sealed record HeadChoice(int Kept, Reports.LayerChoice Choice);

    /// <summary>Removes the least important heads of every block; adds the values that lost columns to <paramref name="keep"/>.</summary>
    private static List<HeadChoice> RemoveHeads(Model model, List<AttentionBlock> blocks, List<double[]> importance, double sparsity,
        Dictionary<string, int[]> keep, HashSet<string> changed)
    {
        var editor = new GraphEditor(model.Graph);
        var uses = model.Graph.Nodes.SelectMany(n => n.Inputs).Where(i => i.Length > 0)
            .GroupBy(i => i, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        var choices = new List<HeadChoice>();
        for (var b = 0; b < blocks.Count; b++)
        {
            var block = blocks[b];
            var kept = AttentionHeadPruning.Kept(importance[b], sparsity);
            var label = Label(block.Softmax);
            choices.Add(new HeadChoice(kept.Length, new Reports.LayerChoice(label, "Attention", $"heads {block.Heads} -> {kept.Length}",
                Detail: AttentionHeadPruning.Describe(block, kept, importance[b]))));
            if (kept.Length == block.Heads) continue;
            foreach (var (value, columns) in AttentionHeadPruning.Remove(editor, uses, block, kept)) keep[value] = columns;
            foreach (var node in new[] { block.Query.MatMul, block.Key.MatMul, block.Value.MatMul, block.Output }) changed.Add(Label(node));
        }
        return choices;
    }

    /// <summary>
    /// Per transformer block, for the report: its attention heads and the FFN width of the MatMuls between its output
    /// projection and the next block (the intermediate MatMul whose output columns the FFN group removed).
    /// </summary>
    private static IEnumerable<Reports.LayerChoice> TransformerGroups(Model model, List<AttentionBlock> blocks, List<HeadChoice> heads,
        Dictionary<string, (string Op, long Out, long In)> before, Dictionary<string, (string Op, long Out, long In)> after)
    {
        var nodes = model.Graph.Nodes;
        for (var b = 0; b < blocks.Count; b++)
        {
            yield return heads[b].Choice;
            var (start, end) = (nodes.IndexOf(blocks[b].Output) + 1, b + 1 < blocks.Count ? nodes.IndexOf(blocks[b + 1].Softmax) : nodes.Count);
            foreach (var node in nodes.Skip(start).Take(Math.Max(0, end - start)).Where(n => n.OpType is "MatMul" or "Gemm"))
            {
                var label = Label(node);
                if (!before.TryGetValue(label, out var was) || !after.TryGetValue(label, out var now) || was.Out <= was.In) continue;
                yield return new Reports.LayerChoice(label, "FFN", was.Out == now.Out ? $"width {now.Out}" : $"width {was.Out} -> {now.Out}",
                    Detail: $"after {Label(blocks[b].Softmax)}: intermediate {node.OpType}, its bias and activation, and the next MatMul's input rows");
                break;
            }
        }
    }

    /// <summary>Constant nodes nothing reads any more (shape pieces replaced by pruned copies).</summary>
    private static void RemoveUnreadConstantNodes(Graph graph)
    {
        var read = new HashSet<string>(graph.Nodes.SelectMany(n => n.Inputs), StringComparer.Ordinal);
        foreach (var sub in graph.Nodes.SelectMany(n => n.Subgraphs)) read.UnionWith(sub.OuterScopeReferences());
        read.UnionWith(graph.Outputs.Select(o => o.Name));
        graph.Nodes.RemoveAll(n => n.OpType == "Constant" && n.Domain.Length == 0 && !n.Outputs.Any(read.Contains));
    }

    private static string RidgeSummary(RecoveryOptions options, List<LeastSquaresRecovery.RefittedLayer> refitted)
    {
        if (options.Ridge is { } fixedRidge) return $"ridge {fixedRidge.ToString("G3", CultureInfo.InvariantCulture)}";
        var counts = refitted.GroupBy(r => r.Ridge).OrderBy(g => g.Key).Select(g => $"{g.Key.ToString("G3", CultureInfo.InvariantCulture)} x{g.Count()}");
        return $"ridge chosen per layer on held-out calibration samples ({string.Join(", ", counts)})";
    }

    private static Dictionary<string, (string Op, long Out, long In)> LayerWidths(Model model)
    {
        var editor = new GraphEditor(model.Graph);
        var result = new Dictionary<string, (string, long, long)>(StringComparer.Ordinal);
        foreach (var n in model.Graph.Nodes.Where(n => n.OpType is "Conv" or "Gemm" or "MatMul" && n.Inputs.Count > 1))
        {
            if (editor.Initializer(n.Inputs[1]) is not { Rank: >= 2 } w) continue;
            result[Label(n)] = n.OpType switch
            {
                "Conv" => (n.OpType, w.Shape[0], w.Shape[1] * n.GetInt("group", 1)),
                "Gemm" when n.GetInt("transB", 0) != 0 => (n.OpType, w.Shape[0], w.Shape[1]),
                _ => (n.OpType, w.Shape[1], w.Shape[0]),
            };
        }
        return result;
    }

    private static string Widths((string Op, long Out, long In) before, (string Op, long Out, long In) after) =>
        (before.Out == after.Out ? $"out {after.Out}" : $"out {before.Out} -> {after.Out}") + ", " +
        (before.In == after.In ? $"in {after.In}" : $"in {before.In} -> {after.In}");

    internal static string Label(Node n) => n.Name.Length > 0 ? n.Name : n.Outputs[0];

    /// <summary>Atoms written by an excluded node stay.</summary>
    private static HashSet<int> ExcludedAtoms(Model model, ChannelDependencies deps, PruningOptions options)
    {
        var result = new HashSet<int>();
        foreach (var node in model.Graph.Nodes.Where(n => options.ExcludedNodes.Contains(n.Name)))
        {
            foreach (var output in node.Outputs.Where(deps.Values.ContainsKey)) result.UnionWith(deps.AtomsOf(output));
        }
        return result;
    }

    /// <summary>Free atoms grouped by the values they share (union over values).</summary>
    private static List<List<int>> DependencyGroups(ChannelDependencies deps, HashSet<int> free)
    {
        var parent = free.ToDictionary(a => a, a => a);
        int Find(int a)
        {
            while (parent[a] != a) a = parent[a] = parent[parent[a]];
            return a;
        }
        foreach (var value in deps.Values.Keys)
        {
            var atoms = deps.AtomsOf(value).Where(free.Contains).Distinct().ToArray();
            for (var i = 1; i < atoms.Length; i++)
            {
                var (a, b) = (Find(atoms[0]), Find(atoms[i]));
                if (a != b) parent[b] = a;
            }
        }
        return free.GroupBy(Find).Select(g => g.Order().ToList()).OrderBy(g => g[0]).ToList();
    }

    /// <summary>
    /// The least important <c>floor(sparsity x size)</c> atoms of a group, never more than about the sparsity plus a
    /// fifth of any one value's channels, and never all of them, so no layer is emptied. With
    /// <paramref name="multiple"/> above 1 every value then keeps a multiple of it (or all) of its channels: of the
    /// aligned counts just below and just above what it keeps, the one nearer its share is taken, by removing the next
    /// least important atoms or giving back the most important removed ones. Kernels that block channels by 8 or 16
    /// (ONNX Runtime's NCHWc convolutions) then stay on their fast path.
    /// </summary>
    private static List<int> ChooseRemovals(List<int> group, ChannelDependencies deps, Dictionary<int, double> importance, double sparsity, int multiple)
    {
        var target = (int)Math.Floor(group.Count * sparsity);
        if (target == 0) return new List<int>();
        var members = new HashSet<int>(group);
        var valuesOf = new Dictionary<int, List<(string Value, int Times)>>();
        var removedIn = new Dictionary<string, int>(StringComparer.Ordinal);
        var capOf = new Dictionary<string, int>(StringComparer.Ordinal);
        var countOf = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (value, layout) in deps.Values)
        {
            var atoms = deps.AtomsOf(value);
            if (!atoms.Any(members.Contains)) continue;
            var count = layout.Count;
            countOf[value] = count;
            capOf[value] = Math.Min(count - 1, Math.Max((int)Math.Floor(count * sparsity), (int)Math.Floor(count * Math.Min(0.9, sparsity + 0.2))));
            removedIn[value] = 0;
            foreach (var g in atoms.Where(members.Contains).GroupBy(a => a))
            {
                if (!valuesOf.TryGetValue(g.Key, out var list)) valuesOf[g.Key] = list = new List<(string, int)>();
                list.Add((value, g.Count()));
            }
        }
        var ranked = group.OrderBy(a => importance.GetValueOrDefault(a)).ThenBy(a => a).ToList();
        var chosen = new HashSet<int>();
        bool Fits(int atom) => (valuesOf.GetValueOrDefault(atom) ?? new List<(string, int)>()).All(v => removedIn[v.Value] + v.Times <= capOf[v.Value]);
        void Remove(int atom, int sign)
        {
            if (sign > 0) chosen.Add(atom); else chosen.Remove(atom);
            foreach (var (v, times) in valuesOf.GetValueOrDefault(atom) ?? new List<(string, int)>()) removedIn[v] += sign * times;
        }
        foreach (var atom in ranked)
        {
            if (chosen.Count == target) break;
            if (Fits(atom)) Remove(atom, +1);
        }
        if (multiple <= 1) return chosen.ToList();
        // Removing more can misalign another value that shares the atoms; after a bounded number of steps only giving
        // back remains, which always ends (at worst with nothing removed).
        for (var step = 0; Misaligned() is { } value; step++)
        {
            var (count, kept) = (countOf[value], countOf[value] - removedIn[value]);
            var (lower, upper) = (kept / multiple * multiple, Math.Min(count, (kept + multiple - 1) / multiple * multiple));
            var wanted = count * (1 - sparsity);
            if (step < 4 * group.Count && lower >= multiple && Math.Abs(lower - wanted) < Math.Abs(upper - wanted) && TryRemoveMore(value, kept - lower)) continue;
            Remove(chosen.Where(a => valuesOf[a].Any(v => v.Value == value)).MaxBy(a => importance.GetValueOrDefault(a)), -1);
        }
        return chosen.ToList();

        string? Misaligned() => removedIn.FirstOrDefault(kv => kv.Value != 0 && (countOf[kv.Key] - kv.Value) % multiple != 0).Key;

        bool TryRemoveMore(string value, int channels)
        {
            var extra = new List<int>();
            var gained = 0;
            foreach (var atom in ranked.Where(a => !chosen.Contains(a) && valuesOf.TryGetValue(a, out var vs) && vs.Any(v => v.Value == value)))
            {
                if (gained >= channels) break;
                if (!Fits(atom)) continue;
                Remove(atom, +1);
                extra.Add(atom);
                gained += valuesOf[atom].Where(v => v.Value == value).Sum(v => v.Times);
            }
            if (gained >= channels) return true;
            foreach (var atom in extra) Remove(atom, -1);
            return false;
        }
    }

    /// <summary>Layers whose output channels all stay because they reach something channel removal cannot follow.</summary>
    private static List<(string, string)> BlockedLayers(Model model, ChannelDependencies deps, HashSet<int> free, List<AttentionBlock> blocks)
    {
        var skipped = new List<(string, string)>();
        var headPruned = new HashSet<Node>(blocks.SelectMany(b => new[] { b.Query.MatMul, b.Key.MatMul, b.Value.MatMul, b.Output }));
        foreach (var node in model.Graph.Nodes.Where(n => n.OpType is "Conv" or "Gemm" or "MatMul" && !headPruned.Contains(n)))
        {
            var output = node.Outputs[0];
            if (!deps.Values.ContainsKey(output))
            {
                skipped.Add((Label(node), "not a prunable layer (weight not a float32 constant, grouped but not depthwise, or input rank unknown)"));
            }
            else if (!deps.AtomsOf(output).Any(free.Contains))
            {
                skipped.Add((Label(node), "its output channels reach a graph output or an op channel removal cannot follow (Reshape, Transpose, Softmax...)"));
            }
        }
        return skipped;
    }

    /// <summary>The slices <paramref name="keep"/> of <paramref name="t"/> along <paramref name="axis"/>.</summary>
    internal static AccelTensor Select(AccelTensor t, int axis, int[] keep)
    {
        var shape = t.ShapeArray;
        var channels = (int)shape[axis];
        var inner = 1;
        for (var d = axis + 1; d < shape.Length; d++) inner *= (int)shape[d];
        var outer = (int)(t.ElementCount / (channels * inner));
        shape[axis] = keep.Length;
        var result = AccelTensor.Zeros(t.ElementType, shape);
        var src = t.AsSpan<float>();
        var dst = result.AsSpan<float>();
        for (var o = 0; o < outer; o++)
            for (var k = 0; k < keep.Length; k++)
                src.Slice((o * channels + keep[k]) * inner, inner).CopyTo(dst.Slice((o * keep.Length + k) * inner, inner));
        return result;
    }
}
