using AccelSdk.Ir;
using AccelSdk.Onnx;
using AccelSdk.Onnx.Versioning;

namespace AccelSdk.Optimize;

/// <summary>Steps every optimization shares: deep copies, quantized-model detection, BatchNorm folding, opset upgrade.</summary>
public static class ModelPreparation
{
    /// <summary>Operators that only appear in quantized models.</summary>
    public static readonly IReadOnlySet<string> QuantizedOperators = new HashSet<string>(StringComparer.Ordinal)
    {
        "QuantizeLinear", "DequantizeLinear", "DynamicQuantizeLinear", "QLinearConv", "QLinearMatMul", "MatMulInteger",
        "ConvInteger", "QLinearAdd", "QLinearMul", "QLinearAveragePool", "QLinearGlobalAveragePool", "DynamicQuantizeMatMul",
        "MatMulIntegerToFloat", "QAttention", "QGemm", "QLinearLeakyRelu", "QLinearSigmoid", "QLinearConcat",
    };

    /// <summary>An independent copy of <paramref name="model"/> (through an ONNX round trip), keeping its source path.</summary>
    public static Model Clone(Model model)
    {
        var copy = OnnxImporter.Parse(OnnxExporter.ToBytes(model), model.Label);
        copy.SourcePath = model.SourcePath;
        return copy;
    }

    /// <summary>
    /// Turns main-graph Constant nodes holding a tensor into initializers of the same name, so weights that an exporter
    /// wrote as Constant nodes (PaddlePaddle, some PyTorch exports) are seen as the constants they are.
    /// </summary>
    /// <returns>The number of Constant nodes replaced.</returns>
    public static int ConstantsToInitializers(Model model)
    {
        var graph = model.Graph;
        var outputs = new HashSet<string>(graph.Outputs.Select(o => o.Name), StringComparer.Ordinal);
        var replaced = 0;
        foreach (var node in graph.Nodes.Where(n => n.OpType == "Constant" && n.Domain is "" or "ai.onnx").ToList())
        {
            if (node.Outputs.Count != 1 || outputs.Contains(node.Outputs[0])) continue;
            if (node.Attributes.Count != 1 || node.Attribute("value") is not { Kind: AttributeKind.Tensor } value) continue;
            graph.Initializers.Add(value.AsTensor().WithName(node.Outputs[0]));
            graph.Nodes.Remove(node);
            replaced++;
        }
        // Before IR 4 every initializer also had to be a graph input.
        if (replaced > 0 && model.IrVersion < 4) model.IrVersion = 4;
        return replaced;
    }

    /// <summary>Throws <see cref="AlreadyQuantizedException"/> when the model holds a quantized operator.</summary>
    public static void EnsureNotQuantized(Model model)
    {
        var node = model.Graph.Nodes.FirstOrDefault(n => QuantizedOperators.Contains(n.OpType));
        if (node is not null) throw new AlreadyQuantizedException(model.Label, node.Describe());
        var int8 = model.Graph.Initializers.FirstOrDefault(t => t.ElementType is ElementType.Int8 && t.ElementCount > 16);
        if (int8 is not null) throw new AlreadyQuantizedException(model.Label, $"int8 weight '{int8.Name}'");
    }

    /// <summary>Folds every BatchNormalization that follows a Conv (and is its only reader) into the Conv's weights and bias.</summary>
    /// <returns>The number of folded BatchNormalization nodes.</returns>
    public static int FoldBatchNormalization(Model model)
    {
        var graph = model.Graph;
        var editor = new GraphEditor(graph);
        var consumers = editor.Consumers();
        var producers = editor.Producers();
        var folded = 0;
        foreach (var bn in graph.Nodes.Where(n => n.OpType == "BatchNormalization").ToList())
        {
            if (bn.Outputs.Count(o => o.Length > 0) != 1 || bn.GetInt("spatial", 1) != 1) continue;
            if (!producers.TryGetValue(bn.Inputs[0], out var conv) || conv.OpType != "Conv") continue;
            if (consumers[bn.Inputs[0]].Count != 1 || editor.IsGraphOutput(bn.Inputs[0])) continue;
            var w = editor.Initializer(conv.Inputs[1]);
            var stats = bn.Inputs.Skip(1).Take(4).Select(editor.Initializer).ToArray();
            if (w is null || w.ElementType != ElementType.Float32 || stats.Any(s => s is null || s.ElementType != ElementType.Float32)) continue;
            var bias = conv.Inputs.Count > 2 ? editor.Initializer(conv.Inputs[2]) : null;
            if (conv.Inputs.Count > 2 && conv.Inputs[2].Length > 0 && bias is null) continue;
            var scale = stats[0]!.AsSpan<float>();
            var shift = stats[1]!.AsSpan<float>();
            var mean = stats[2]!.AsSpan<float>();
            var variance = stats[3]!.AsSpan<float>();
            var epsilon = bn.GetFloat("epsilon", 1e-5f);
            var channels = (int)w.Shape[0];
            var perChannel = (int)(w.ElementCount / channels);
            var newW = AccelTensor.Zeros(ElementType.Float32, w.Shape);
            var newB = AccelTensor.Zeros(ElementType.Float32, new long[] { channels });
            var src = w.AsSpan<float>();
            var dst = newW.AsSpan<float>();
            var b = newB.AsSpan<float>();
            for (var c = 0; c < channels; c++)
            {
                var factor = scale[c] / MathF.Sqrt(variance[c] + epsilon);
                for (var k = 0; k < perChannel; k++) dst[c * perChannel + k] = src[c * perChannel + k] * factor;
                var oldBias = bias is null ? 0f : bias.AsSpan<float>()[c];
                b[c] = (oldBias - mean[c]) * factor + shift[c];
            }
            var weightName = editor.AddInitializer(conv.Inputs[1] + "_bnfolded", newW);
            var biasName = editor.AddInitializer((conv.Name.Length > 0 ? conv.Name : conv.Outputs[0]) + "_bias_bnfolded", newB);
            conv.Inputs[1] = weightName;
            if (conv.Inputs.Count > 2) conv.Inputs[2] = biasName; else conv.Inputs.Add(biasName);
            conv.Outputs[0] = bn.Outputs[0];
            graph.Nodes.Remove(bn);
            folded++;
        }
        editor.RemoveUnusedInitializers();
        return folded;
    }

    /// <summary>
    /// Raises the default-domain opset to at least <paramref name="minimum"/> with <see cref="OpsetUpgrader"/>, op by op;
    /// an operator whose change cannot be rewritten is an <see cref="OpsetUpgradeException"/> naming the node.
    /// </summary>
    public static void UpgradeOpset(Model model, long minimum = 13) => OpsetUpgrader.Upgrade(model, minimum);
}
