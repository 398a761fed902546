using AccelSdk.Ir;

namespace AccelSdk.Optimize.Pruning;

/// <summary>
/// Structured channel pruning: removes the output channels of a Conv/Gemm/MatMul with the smallest L1 norm, and the
/// matching input channels of the one layer that reads them (through Relu), so the model really gets smaller and
/// faster. BatchNormalization is folded first. A removed channel's constant part, relu(bias), is folded into the
/// reader's bias. Layers whose outputs meet others (residual Add, Concat) keep their channels: removing them would
/// need the whole group pruned alike.
/// </summary>
public static class ChannelPruner
{
    private static readonly HashSet<string> PassThrough = new(StringComparer.Ordinal) { "Relu" };

    /// <summary>Prunes a copy of <paramref name="model"/>; <see cref="PruningOptions.Sparsity"/> is the share of channels removed per prunable layer.</summary>
    public static OptimizationResult Prune(Model model, PruningOptions options)
    {
        options.Validate();
        var copy = ModelPreparation.Clone(model);
        var folded = ModelPreparation.FoldBatchNormalization(copy);
        var editor = new GraphEditor(copy.Graph);
        var consumers = editor.Consumers();
        var changed = new List<string>();
        var skipped = new List<(string, string)>();
        var touched = new HashSet<string>(StringComparer.Ordinal);
        int removedChannels = 0, prunableChannels = 0;
        foreach (var producer in copy.Graph.Nodes.Where(n => n.OpType is "Conv" or "Gemm" or "MatMul").ToList())
        {
            var label = Label(producer);
            if (options.ExcludedNodes.Contains(producer.Name))
            {
                skipped.Add((label, "excluded by option"));
                continue;
            }
            if (Layout(editor, producer) is not { } p)
            {
                skipped.Add((label, "not a prunable layer (constant float32 weight, group 1, plain Gemm)"));
                continue;
            }
            var chain = new List<Node>();
            var value = producer.Outputs[0];
            Node? reader = null;
            while (!editor.IsGraphOutput(value) && consumers.TryGetValue(value, out var list) && list.Count == 1)
            {
                var next = list[0].Node;
                if (PassThrough.Contains(next.OpType)) { chain.Add(next); value = next.Outputs[0]; continue; }
                if (list[0].Slot == 0) reader = next;
                break;
            }
            if (reader is null || Layout(editor, reader) is not { } r)
            {
                skipped.Add((label, "its output does not feed exactly one prunable layer (residual Add, Concat, graph output...)"));
                continue;
            }
            if (touched.Contains(p.Weight) || touched.Contains(r.Weight))
            {
                skipped.Add((label, "weight shared with a layer pruned already"));
                continue;
            }
            var weight = editor.Initializer(p.Weight)!;
            var channels = (int)weight.Shape[p.OutAxis];
            var remove = (int)Math.Floor(channels * options.Sparsity);
            prunableChannels += channels;
            if (remove == 0 || remove >= channels) continue;
            // A channel matters by what it computes and by how much the reader uses it: L1 of its filter times L1 of
            // the reader's weights on it.
            var norms = ChannelNorms(weight, p.OutAxis);
            var uses = ChannelNorms(editor.Initializer(r.Weight)!, r.InAxis);
            for (var c = 0; c < channels; c++) norms[c] *= uses[c];
            var keep = Enumerable.Range(0, channels).OrderByDescending(c => norms[c]).Take(channels - remove).Order().ToArray();
            var dropped = Enumerable.Range(0, channels).Except(keep).ToArray();

            var bias = p.Bias is null ? null : editor.Initializer(p.Bias)!;
            var readerWeight = editor.Initializer(r.Weight)!;
            // What a removed channel still sends on: its bias through the Relu chain, a constant per channel.
            var constants = dropped.Select(c => bias is null ? 0f : chain.Count > 0 ? MathF.Max(0, bias.AsSpan<float>()[c]) : bias.AsSpan<float>()[c]).ToArray();
            CompensateReaderBias(editor, reader, r, readerWeight, dropped, constants);

            editor.ReplaceInitializer(p.Weight, Select(weight, p.OutAxis, keep));
            if (bias is not null) editor.ReplaceInitializer(p.Bias!, Select(bias, 0, keep));
            editor.ReplaceInitializer(r.Weight, Select(readerWeight, r.InAxis, keep));
            touched.Add(p.Weight);
            touched.Add(r.Weight);
            removedChannels += remove;
            changed.Add(label);
            changed.Add(Label(reader));
            var stale = new HashSet<string>(chain.Select(c => c.Outputs[0]).Append(producer.Outputs[0]), StringComparer.Ordinal);
            copy.Graph.ValueInfos.RemoveAll(v => stale.Contains(v.Name));
        }
        editor.RemoveUnusedInitializers();
        copy.ProducerName = "AccelSdk.Optimize";
        copy.MetadataProps.Add(new("accelsdk.optimization", "prune-structured"));
        var settings = new Dictionary<string, string>
        {
            ["sparsity"] = options.Sparsity.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture),
            ["channels_removed"] = $"{removedChannels} of {prunableChannels} in prunable layers",
            ["batchnorm_folded"] = folded.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["fine_tuning"] = "none (accuracy cost is before any retraining)",
        };
        return new OptimizationResult("prune-structured", copy, changed.Distinct().ToList(), skipped, settings);
    }

    private static string Label(Node n) => n.Name.Length > 0 ? n.Name : n.Outputs[0];

    /// <summary>Where a layer's channels live: weight name, output-channel axis, input-channel axis, bias name.</summary>
    private sealed record ChannelLayout(string Weight, int OutAxis, int InAxis, string? Bias);

    private static ChannelLayout? Layout(GraphEditor editor, Node n)
    {
        if (n.Inputs.Count < 2 || editor.Initializer(n.Inputs[1]) is not { ElementType: ElementType.Float32 } w) return null;
        var bias = n.Inputs.Count > 2 && n.Inputs[2].Length > 0 ? n.Inputs[2] : null;
        if (bias is not null && editor.Initializer(bias) is not { ElementType: ElementType.Float32, Rank: 1 }) return null;
        switch (n.OpType)
        {
            case "Conv" when n.GetInt("group", 1) == 1 && w.Rank >= 3:
                return new ChannelLayout(n.Inputs[1], 0, 1, bias);
            case "Gemm" when w.Rank == 2 && n.GetInt("transA", 0) == 0 && n.GetFloat("alpha", 1) == 1 && n.GetFloat("beta", 1) == 1:
                return n.GetInt("transB", 0) != 0 ? new ChannelLayout(n.Inputs[1], 0, 1, bias) : new ChannelLayout(n.Inputs[1], 1, 0, bias);
            case "MatMul" when w.Rank == 2:
                return new ChannelLayout(n.Inputs[1], 1, 0, null);
            default:
                return null;
        }
    }

    private static double[] ChannelNorms(AccelTensor weight, int axis)
    {
        var shape = weight.ShapeArray;
        var channels = (int)shape[axis];
        var inner = 1;
        for (var d = axis + 1; d < shape.Length; d++) inner *= (int)shape[d];
        var values = weight.AsSpan<float>();
        var norms = new double[channels];
        for (var i = 0; i < values.Length; i++) norms[i / inner % channels] += Math.Abs(values[i]);
        return norms;
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

    /// <summary>
    /// Adds to the reader's bias what the removed input channels contributed as constants: for Conv the sum of the
    /// kernel (exact away from zero-padded borders), for Gemm/MatMul the weight row.
    /// </summary>
    private static void CompensateReaderBias(GraphEditor editor, Node reader, ChannelLayout r, AccelTensor readerWeight, int[] dropped, float[] constants)
    {
        if (constants.All(c => c == 0)) return;
        var shape = readerWeight.ShapeArray;
        var outputs = (int)shape[r.InAxis == 1 ? 0 : 1];
        var delta = new float[outputs];
        var w = readerWeight.AsSpan<float>();
        if (reader.OpType == "Conv")
        {
            var inputs = (int)shape[1];
            var kernel = (int)(readerWeight.ElementCount / (shape[0] * shape[1]));
            for (var o = 0; o < outputs; o++)
                for (var d = 0; d < dropped.Length; d++)
                {
                    var start = (o * inputs + dropped[d]) * kernel;
                    float sum = 0;
                    for (var k = 0; k < kernel; k++) sum += w[start + k];
                    delta[o] += sum * constants[d];
                }
        }
        else
        {
            for (var o = 0; o < outputs; o++)
                for (var d = 0; d < dropped.Length; d++)
                {
                    var index = r.InAxis == 0 ? dropped[d] * outputs + o : o * (int)shape[1] + dropped[d];
                    delta[o] += w[index] * constants[d];
                }
        }
        if (reader.OpType == "MatMul") return; // no bias input to fold into; the constant is lost (documented approximation)
        if (r.Bias is { } biasName)
        {
            var b = editor.Initializer(biasName)!.ToArray<float>();
            for (var o = 0; o < outputs; o++) b[o] += delta[o];
            editor.ReplaceInitializer(biasName, AccelTensor.Create(b, outputs));
        }
        else
        {
            while (reader.Inputs.Count < 2) reader.Inputs.Add("");
            var name = editor.AddInitializer(Label(reader) + "_bias_pruned", AccelTensor.Create(delta, outputs));
            if (reader.Inputs.Count == 2) reader.Inputs.Add(name); else reader.Inputs[2] = name;
        }
    }
}
