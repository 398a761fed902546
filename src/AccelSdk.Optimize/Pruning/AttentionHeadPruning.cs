using System.Globalization;
using AccelSdk.Ir;

namespace AccelSdk.Optimize.Pruning;

/// <summary>
/// Removes whole attention heads from the blocks <see cref="AttentionBlocks"/> finds: the head's columns of the Q, K
/// and V weights and biases, its rows of the output projection, and one from the head count of the Reshapes (the
/// merged width loses one head size). Heads are ranked per block by what they add to the block's output: with
/// calibration samples the root mean square over tokens of the head's output through its rows of the output projection
/// (|context_h W_o,h|), else the product of the Frobenius norms of its V columns and output rows.
/// </summary>
internal static class AttentionHeadPruning
{
    /// <summary>Per block, the importance of each head.</summary>
    public static List<double[]> Importance(Model model, IReadOnlyList<AttentionBlock> blocks,
        IReadOnlyList<IReadOnlyDictionary<string, AccelTensor>>? calibration, AccelRuntime? runtime, string deviceId)
    {
        var editor = new GraphEditor(model.Graph);
        if (calibration is null)
        {
            return blocks.Select(b =>
            {
                var value = ChannelImportance.Norms(editor.Initializer(b.Value.MatMul.Inputs[1])!, 1);
                var output = ChannelImportance.Norms(editor.Initializer(b.Output.Inputs[1])!, 0);
                return Enumerable.Range(0, b.Heads).Select(h => Frobenius(value, b, h) * Frobenius(output, b, h)).ToArray();
            }).ToList();
        }
        var byContext = blocks.Select((b, i) => (b, i)).ToDictionary(p => p.b.Context, p => p.i, StringComparer.Ordinal);
        var sums = blocks.Select(b => new double[b.Heads]).ToList();
        var tokens = new long[blocks.Count];
        foreach (var (name, context) in ActivationProbe.Run(model, byContext.Keys.ToList(), calibration, runtime, deviceId))
        {
            var index = byContext[name];
            var block = blocks[index];
            tokens[index] += AddHeadEnergies(context, editor.Initializer(block.Output.Inputs[1])!, block, sums[index]);
        }
        return sums.Select((s, i) => s.Select(e => Math.Sqrt(e / Math.Max(1, tokens[i]))).ToArray()).ToList();
    }

    /// <summary>Adds, per head, the squared norm of context_h W_o,h over the tokens of <paramref name="context"/>; returns the token count.</summary>
    private static long AddHeadEnergies(AccelTensor context, AccelTensor outputWeight, AttentionBlock block, double[] sums)
    {
        var width = block.Heads * block.HeadSize;
        var hidden = (int)outputWeight.Shape[1];
        var x = context.AsSpan<float>();
        var w = outputWeight.AsSpan<float>();
        var rows = x.Length / width;
        var projected = new double[hidden];
        for (var r = 0; r < rows; r++)
        {
            for (var h = 0; h < block.Heads; h++)
            {
                Array.Clear(projected);
                for (var k = h * block.HeadSize; k < (h + 1) * block.HeadSize; k++)
                {
                    var xk = x[r * width + k];
                    if (xk == 0) continue;
                    var row = w.Slice(k * hidden, hidden);
                    for (var o = 0; o < hidden; o++) projected[o] += xk * row[o];
                }
                sums[h] += projected.Sum(v => v * v);
            }
        }
        return rows;
    }

    private static double Frobenius(double[] norms, AttentionBlock block, int head) =>
        Math.Sqrt(norms.Skip(head * block.HeadSize).Take(block.HeadSize).Sum(n => n * n));

    /// <summary>The heads that stay: all but the <c>floor(sparsity x heads)</c> least important, at least one; ascending.</summary>
    public static int[] Kept(double[] importance, double sparsity)
    {
        var remove = Math.Min(importance.Length - 1, (int)Math.Floor(importance.Length * sparsity));
        var removed = Enumerable.Range(0, importance.Length).OrderBy(h => importance[h]).ThenBy(h => h).Take(remove).ToHashSet();
        return Enumerable.Range(0, importance.Length).Where(h => !removed.Contains(h)).ToArray();
    }

    /// <summary>
    /// Removes every head of <paramref name="block"/> outside <paramref name="kept"/> from the graph of <paramref name="editor"/> in
    /// place; returns the values that lost columns, with the columns that stay (for the least-squares refit).
    /// </summary>
    public static Dictionary<string, int[]> Remove(GraphEditor editor, Dictionary<string, int> uses, AttentionBlock block, int[] kept)
    {
        var columns = block.Columns(kept);
        var changed = new Dictionary<string, int[]>(StringComparer.Ordinal);
        foreach (var projection in new[] { block.Query, block.Key, block.Value })
        {
            SliceConstant(editor, uses, projection.MatMul, 1, 1, columns);
            if (projection.BiasAdd is { } add) SliceConstant(editor, uses, add, projection.BiasSlot, 0, columns);
            changed[projection.MatMul.Outputs[0]] = columns;
            changed[projection.Output] = columns;
        }
        SliceConstant(editor, uses, block.Output, 1, 0, columns);
        foreach (var element in block.HeadCounts) SetShapeElement(editor, element, kept.Length);
        if (block.MergedWidth is { } width) SetShapeElement(editor, width, columns.Length);
        changed[block.Context] = columns;
        var internalValues = new HashSet<string>(block.Internal, StringComparer.Ordinal);
        editor.Graph.ValueInfos.RemoveAll(v => internalValues.Contains(v.Name));
        return changed;
    }

    /// <summary>What the report says of one block.</summary>
    public static string Describe(AttentionBlock block, int[] kept, double[] importance)
    {
        var removed = Enumerable.Range(0, block.Heads).Where(h => !kept.Contains(h)).ToList();
        if (removed.Count == 0) return $"all heads kept; head size {block.HeadSize}";
        var scores = string.Join(", ", removed.Select(h => $"{h} ({(importance[h] / importance.Average()).ToString("F2", CultureInfo.InvariantCulture)})"));
        return $"removed head(s) {scores}; importance relative to the block's mean in brackets; head size {block.HeadSize}";
    }

    private static void SliceConstant(GraphEditor editor, Dictionary<string, int> uses, Node node, int slot, int axis, int[] keep)
    {
        var value = editor.Initializer(node.Inputs[slot])!;
        ChannelRemoval.Replace(editor, uses, node, slot, ChannelPruner.Select(value, axis, keep));
    }

    /// <summary>Writes <paramref name="value"/> into a copy of the shape constant under a new name (the old one may be a shared Constant node).</summary>
    private static void SetShapeElement(GraphEditor editor, ShapeElement element, long value)
    {
        var values = element.Value.ToArray<long>();
        values[element.Index] = value;
        var stem = element.Reader.Name.Length > 0 ? element.Reader.Name + "_pruned_shape" : element.Reader.Inputs[element.Slot] + "_pruned";
        element.Reader.Inputs[element.Slot] = editor.AddInitializer(stem, AccelTensor.Create(values, element.Value.ShapeArray));
    }
}
