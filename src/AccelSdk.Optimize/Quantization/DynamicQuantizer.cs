using AccelSdk.Ir;

namespace AccelSdk.Optimize.Quantization;

/// <summary>
/// Dynamic int8 quantization: weights of MatMul/Gemm (and Conv on request) are stored in int8; each activation is
/// quantized to uint8 when the model runs (DynamicQuantizeLinear). The pattern written is the standard one
/// (DynamicQuantizeLinear, MatMulInteger/ConvInteger, Cast, Mul by the product of scales) that ONNX Runtime fuses
/// into MatMulIntegerToFloat.
/// </summary>
public static class DynamicQuantizer
{
    /// <summary>Quantizes a copy of <paramref name="model"/>; the input model is not changed.</summary>
    public static OptimizationResult Quantize(Model model, DynamicQuantizationOptions? options = null)
    {
        options ??= new DynamicQuantizationOptions();
        ModelPreparation.EnsureNotQuantized(model);
        var copy = ModelPreparation.Clone(model);
        ModelPreparation.ConstantsToInitializers(copy);
        // DynamicQuantizeLinear needs opset 11; a model at 11 or later keeps its own opset.
        ModelPreparation.UpgradeOpset(copy, 11);
        var editor = new GraphEditor(copy.Graph);
        var quantizedActivations = new Dictionary<string, (string Q, string Scale, string ZeroPoint)>(StringComparer.Ordinal);
        var quantized = new List<string>();
        var skipped = new List<(string, string)>();
        foreach (var node in copy.Graph.Nodes.ToList())
        {
            if (node.OpType is not ("MatMul" or "Gemm" or "Conv")) continue;
            var label = node.Name.Length > 0 ? node.Name : node.Outputs[0];
            if (options.Excludes(node))
            {
                skipped.Add((label, "excluded by option"));
                continue;
            }
            if (node.OpType == "Conv" && !options.QuantizeConv)
            {
                skipped.Add((label, "Conv not requested (QuantizeConv)"));
                continue;
            }
            var reason = node.OpType switch
            {
                "MatMul" => TryMatMul(editor, node, options, quantizedActivations),
                "Gemm" => TryGemm(editor, node, options, quantizedActivations),
                _ => TryConv(editor, node, options, quantizedActivations),
            };
            if (reason is null) quantized.Add(label); else skipped.Add((label, reason));
        }
        editor.RemoveUnusedInitializers();
        editor.SortTopologically();
        copy.ProducerName = "AccelSdk.Optimize";
        copy.MetadataProps.Add(new("accelsdk.optimization", "dynamic-int8"));
        var settings = new Dictionary<string, string>
        {
            ["weights"] = (options.SymmetricWeights ? "int8 symmetric" : "int8 asymmetric") + (options.PerChannel ? " per-channel" : " per-tensor") + (options.ReduceRange ? " 7-bit" : ""),
            ["activations"] = "uint8 asymmetric, per-tensor, computed at run time",
            ["conv"] = options.QuantizeConv ? "ConvInteger" : "float32",
        };
        return new OptimizationResult("dynamic-int8", copy, quantized, skipped, settings);
    }

    private static string? CheckWeight(AccelTensor? weight, DynamicQuantizationOptions options, int rank)
    {
        if (weight is null) return "weight is not a constant";
        if (weight.ElementType != ElementType.Float32) return $"weight is {weight.ElementType.ShortName()}";
        if (weight.Rank != rank) return $"weight has rank {weight.Rank}";
        if (weight.ElementCount < options.MinimumWeightElements) return $"weight has only {weight.ElementCount} elements";
        return null;
    }

    private static string? TryMatMul(GraphEditor editor, Node node, DynamicQuantizationOptions options, Dictionary<string, (string, string, string)> activations)
    {
        var weight = editor.Initializer(node.Inputs[1]);
        if (CheckWeight(weight, options, 2) is { } problem) return problem;
        if (editor.Initializer(node.Inputs[0]) is not null) return "both inputs are constants";
        Emit(editor, node, weight!, options, activations, bias: null, alpha: 1f);
        return null;
    }

    private static string? TryGemm(GraphEditor editor, Node node, DynamicQuantizationOptions options, Dictionary<string, (string, string, string)> activations)
    {
        if (node.GetInt("transA", 0) != 0) return "transA=1";
        var weight = editor.Initializer(node.Inputs[1]);
        if (CheckWeight(weight, options, 2) is { } problem) return problem;
        if (node.GetInt("transB", 0) != 0) weight = Transpose2D(weight!);
        var beta = node.GetFloat("beta", 1f);
        string? bias = null;
        if (node.Inputs.Count > 2 && node.Inputs[2].Length > 0)
        {
            bias = node.Inputs[2];
            if (beta != 1f)
            {
                var c = editor.Initializer(bias);
                if (c is null || c.ElementType != ElementType.Float32) return "beta != 1 with a non-constant C";
                var scaled = AccelTensor.Create(c.AsSpan<float>().ToArray().Select(v => v * beta).ToArray(), c.ShapeArray);
                bias = editor.AddInitializer(bias + "_beta", scaled);
            }
        }
        Emit(editor, node, weight!, options, activations, bias, node.GetFloat("alpha", 1f));
        return null;
    }

    private static string? TryConv(GraphEditor editor, Node node, DynamicQuantizationOptions options, Dictionary<string, (string, string, string)> activations)
    {
        var weight = editor.Initializer(node.Inputs[1]);
        if (CheckWeight(weight, options, weight?.Rank ?? 0) is { } problem) return problem;
        if (weight!.Rank < 3) return $"weight has rank {weight.Rank}";
        if (options.PerChannel && !options.SymmetricWeights) return "ConvInteger takes one weight zero point; per-channel asymmetric weights are not possible";
        var (xq, xScale, xZero) = QuantizeActivation(editor, node.Inputs[0], activations);
        var stem = node.Name.Length > 0 ? node.Name : node.Outputs[0];
        var w = QuantizationMath.QuantizeWeight(weight, options.PerChannel ? 0 : null, options.SymmetricWeights, options.ReduceRange);
        var wName = editor.AddInitializer(node.Inputs[1] + "_quantized", w.Values);
        var wZero = editor.AddInitializer(node.Inputs[1] + "_zero_point", ScalarZeroPointIfSymmetric(w, options));
        var broadcastShape = new long[weight.Rank - 1];
        Array.Fill(broadcastShape, 1);
        broadcastShape[0] = w.Scales.ElementCount;
        var wScale = editor.AddInitializer(node.Inputs[1] + "_scale", options.PerChannel ? w.Scales.Reshape(broadcastShape) : w.Scales);
        var integer = editor.FreshName(stem + "_int32");
        var conv = GraphEditor.MakeNode("ConvInteger", new[] { xq, wName, xZero, wZero }, new[] { integer }, editor.FreshName(stem + "_ConvInteger"));
        conv.Attributes.AddRange(node.Attributes);
        var tail = new List<Node> { conv };
        var output = node.Outputs[0];
        string? bias = node.Inputs.Count > 2 && node.Inputs[2].Length > 0 ? node.Inputs[2] : null;
        if (bias is not null)
        {
            var b = editor.Initializer(bias);
            if (b is null) return "bias is not a constant";
            bias = editor.AddInitializer(bias + "_broadcast", b.Reshape(broadcastShape));
        }
        tail.AddRange(Rescale(editor, stem, integer, xScale, wScale, bias, 1f, output));
        Replace(editor, node, tail);
        return null;
    }

    private static void Emit(GraphEditor editor, Node node, AccelTensor weight, DynamicQuantizationOptions options,
        Dictionary<string, (string, string, string)> activations, string? bias, float alpha)
    {
        var (xq, xScale, xZero) = QuantizeActivation(editor, node.Inputs[0], activations);
        var stem = node.Name.Length > 0 ? node.Name : node.Outputs[0];
        var w = QuantizationMath.QuantizeWeight(weight, options.PerChannel ? 1 : null, options.SymmetricWeights, options.ReduceRange);
        var wName = editor.AddInitializer(node.Inputs[1] + "_quantized", w.Values);
        var wZero = editor.AddInitializer(node.Inputs[1] + "_zero_point", ScalarZeroPointIfSymmetric(w, options));
        var wScale = editor.AddInitializer(node.Inputs[1] + "_scale", w.Scales);
        var integer = editor.FreshName(stem + "_int32");
        var nodes = new List<Node>
        {
            GraphEditor.MakeNode("MatMulInteger", new[] { xq, wName, xZero, wZero }, new[] { integer }, editor.FreshName(stem + "_MatMulInteger")),
        };
        nodes.AddRange(Rescale(editor, stem, integer, xScale, wScale, bias, alpha, node.Outputs[0]));
        Replace(editor, node, nodes);
    }

    /// <summary>int32 accumulator to float: Cast, times (activation scale x weight scale [x alpha]), plus bias.</summary>
    private static IEnumerable<Node> Rescale(GraphEditor editor, string stem, string integer, string xScale, string wScale, string? bias, float alpha, string output)
    {
        var asFloat = editor.FreshName(stem + "_int32_float");
        yield return GraphEditor.MakeNode("Cast", new[] { integer }, new[] { asFloat }, editor.FreshName(stem + "_Cast"), "", NodeAttribute.Int("to", (long)ElementType.Float32));
        var scale = editor.FreshName(stem + "_scale");
        yield return GraphEditor.MakeNode("Mul", new[] { xScale, wScale }, new[] { scale }, editor.FreshName(stem + "_scales_Mul"));
        if (alpha != 1f)
        {
            var alphaName = editor.AddInitializer(stem + "_alpha", AccelTensor.Scalar(alpha));
            var scaled = editor.FreshName(stem + "_scale_alpha");
            yield return GraphEditor.MakeNode("Mul", new[] { scale, alphaName }, new[] { scaled }, editor.FreshName(stem + "_alpha_Mul"));
            scale = scaled;
        }
        var product = bias is null ? output : editor.FreshName(stem + "_unbiased");
        yield return GraphEditor.MakeNode("Mul", new[] { asFloat, scale }, new[] { product }, editor.FreshName(stem + "_Mul"));
        if (bias is not null) yield return GraphEditor.MakeNode("Add", new[] { product, bias }, new[] { output }, editor.FreshName(stem + "_bias_Add"));
    }

    /// <summary>
    /// Symmetric weights have zero point 0 in every channel, so one scalar serves: per-channel scales are applied after
    /// the integer product, and ONNX Runtime's ConvInteger (and its fastest MatMulInteger path) take only a scalar.
    /// </summary>
    private static AccelTensor ScalarZeroPointIfSymmetric(QuantizedWeight w, DynamicQuantizationOptions options) =>
        options.SymmetricWeights ? AccelTensor.Scalar((sbyte)0) : w.ZeroPoints;

    private static (string Q, string Scale, string ZeroPoint) QuantizeActivation(GraphEditor editor, string input, Dictionary<string, (string, string, string)> activations)
    {
        if (activations.TryGetValue(input, out var existing)) return existing;
        var q = editor.FreshName(input + "_quantized");
        var scale = editor.FreshName(input + "_scale");
        var zero = editor.FreshName(input + "_zero_point");
        editor.Graph.Nodes.Add(GraphEditor.MakeNode("DynamicQuantizeLinear", new[] { input }, new[] { q, scale, zero }, editor.FreshName(input + "_DynamicQuantizeLinear")));
        return activations[input] = (q, scale, zero);
    }

    private static void Replace(GraphEditor editor, Node node, IEnumerable<Node> replacement)
    {
        var index = editor.Graph.Nodes.IndexOf(node);
        editor.Graph.Nodes.RemoveAt(index);
        editor.Graph.Nodes.InsertRange(index, replacement);
    }

    internal static AccelTensor Transpose2D(AccelTensor t)
    {
        var (rows, cols) = ((int)t.Shape[0], (int)t.Shape[1]);
        var src = t.AsSpan<float>();
        var result = AccelTensor.Zeros(ElementType.Float32, new long[] { cols, rows });
        var dst = result.AsSpan<float>();
        for (var r = 0; r < rows; r++)
            for (var c = 0; c < cols; c++) dst[c * rows + r] = src[r * cols + c];
        return result;
    }
}
