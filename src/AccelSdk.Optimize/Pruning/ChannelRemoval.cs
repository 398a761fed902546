using AccelSdk.Ir;

namespace AccelSdk.Optimize.Pruning;

/// <summary>Removes the chosen channels from every weight, bias, per-channel constant and shape that carries them.</summary>
internal static class ChannelRemoval
{
    /// <summary>
    /// Applies <paramref name="keep"/> (value -> channels that stay) to <paramref name="model"/> in place; returns the
    /// labels of the nodes it changed.
    /// </summary>
    public static HashSet<string> Apply(Model model, ChannelDependencies deps, IReadOnlyDictionary<string, int[]> keep)
    {
        var editor = new GraphEditor(model.Graph);
        var uses = model.Graph.Nodes.SelectMany(n => n.Inputs).Where(i => i.Length > 0)
            .GroupBy(i => i, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        var changed = new HashSet<string>(StringComparer.Ordinal);
        foreach (var node in model.Graph.Nodes)
        {
            var output = node.Outputs.Count > 0 ? keep.GetValueOrDefault(node.Outputs[0]) : null;
            var input = node.Inputs.Count > 0 ? keep.GetValueOrDefault(node.Inputs[0]) : null;
            if (output is null && input is null) continue;
            var done = node.OpType switch
            {
                "Conv" => Conv(editor, uses, node, input, output),
                "Gemm" => Gemm(editor, uses, node, input, output),
                "MatMul" => Slice(editor, uses, node, 1, 1, output) | Slice(editor, uses, node, 1, 0, input),
                "BatchNormalization" => SliceParameters(editor, uses, node, 1..5, output),
                "InstanceNormalization" => SliceParameters(editor, uses, node, 1..3, output),
                "ConstantOfShape" => ShrinkShape(editor, uses, node, deps.Values[node.Outputs[0]].Axis, output!.Length),
                "Add" or "Sub" or "Mul" or "Div" or "Max" or "Min" or "Sum" => Constants(editor, uses, node, deps, output),
                _ => false,
            };
            if (done) changed.Add(ChannelPruner.Label(node));
        }
        model.Graph.ValueInfos.RemoveAll(v => keep.ContainsKey(v.Name));
        return changed;
    }

    private static bool Conv(GraphEditor editor, Dictionary<string, int> uses, Node node, int[]? input, int[]? output)
    {
        var group = node.GetInt("group", 1);
        var changed = Slice(editor, uses, node, 1, 0, output) | Slice(editor, uses, node, 2, 0, output);
        if (group == 1) return changed | Slice(editor, uses, node, 1, 1, input);
        if (output is not null)
        {
            node.Attributes.RemoveAll(a => a.Name == "group");
            node.Attributes.Add(NodeAttribute.Int("group", output.Length));
        }
        return changed;
    }

    private static bool Gemm(GraphEditor editor, Dictionary<string, int> uses, Node node, int[]? input, int[]? output)
    {
        var transB = node.GetInt("transB", 0) != 0;
        var changed = Slice(editor, uses, node, 1, transB ? 0 : 1, output) | Slice(editor, uses, node, 1, transB ? 1 : 0, input);
        if (output is not null && node.Inputs.Count > 2 && editor.Initializer(node.Inputs[2]) is { ElementCount: > 1 } bias)
        {
            changed |= Slice(editor, uses, node, 2, bias.Rank - 1, output);
        }
        return changed;
    }

    private static bool SliceParameters(GraphEditor editor, Dictionary<string, int> uses, Node node, Range inputs, int[]? output)
    {
        var changed = false;
        var (start, end) = (inputs.Start.Value, Math.Min(inputs.End.Value, node.Inputs.Count));
        for (var i = start; i < end; i++) changed |= Slice(editor, uses, node, i, 0, output);
        return changed;
    }

    private static bool Constants(GraphEditor editor, Dictionary<string, int> uses, Node node, ChannelDependencies deps, int[]? output)
    {
        if (output is null) return false;
        var count = deps.Values[node.Outputs[0]].Count;
        var changed = false;
        for (var i = 0; i < node.Inputs.Count; i++)
        {
            if (editor.Initializer(node.Inputs[i]) is not { ElementCount: > 1 } c) continue;
            var axis = Enumerable.Range(0, c.Rank).First(d => c.Shape[d] == count);
            changed |= Slice(editor, uses, node, i, axis, output);
        }
        return changed;
    }

    private static bool ShrinkShape(GraphEditor editor, Dictionary<string, int> uses, Node node, int axis, int count)
    {
        var shape = editor.Initializer(node.Inputs[0])!.ToArray<long>();
        shape[axis] = count;
        Replace(editor, uses, node, 0, AccelTensor.Create(shape, shape.Length));
        return true;
    }

    /// <summary>Keeps <paramref name="keep"/> along <paramref name="axis"/> of the constant input <paramref name="index"/>.</summary>
    private static bool Slice(GraphEditor editor, Dictionary<string, int> uses, Node node, int index, int axis, int[]? keep)
    {
        if (keep is null || index >= node.Inputs.Count || editor.Initializer(node.Inputs[index]) is not { ElementType: ElementType.Float32 } t) return false;
        Replace(editor, uses, node, index, ChannelPruner.Select(t, axis, keep));
        return true;
    }

    /// <summary>Replaces a node's constant input; a constant other nodes also read gets a new name instead.</summary>
    internal static void Replace(GraphEditor editor, Dictionary<string, int> uses, Node node, int index, AccelTensor value)
    {
        var name = node.Inputs[index];
        if (uses.GetValueOrDefault(name) <= 1)
        {
            editor.ReplaceInitializer(name, value);
            return;
        }
        uses[name]--;
        node.Inputs[index] = editor.AddInitializer(name + "_pruned", value);
        uses[node.Inputs[index]] = 1;
    }
}
