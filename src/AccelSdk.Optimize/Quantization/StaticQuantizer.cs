using AccelSdk.Ir;
using AccelSdk.Optimize.Calibration;

namespace AccelSdk.Optimize.Quantization;

/// <summary>Options of static (QDQ) int8 quantization.</summary>
public sealed record StaticQuantizationOptions : QuantizationExclusions
{
    /// <summary>How activation ranges are chosen from the calibration inputs.</summary>
    public CalibrationOptions Calibration { get; init; } = new();

    /// <summary>One weight scale per output channel for Conv (MatMul and Gemm weights stay per tensor).</summary>
    public bool PerChannel { get; init; } = true;

    /// <summary>Operator types that get QDQ. Relu/Clip after a quantized op are absorbed into its output range.</summary>
    public IReadOnlyCollection<string> OpTypes { get; init; } = new[] { "Conv", "MatMul", "Gemm", "Add", "MaxPool", "AveragePool", "GlobalAveragePool" };
}

/// <summary>
/// Static int8 quantization in QDQ form: calibrated uint8 QuantizeLinear/DequantizeLinear pairs around activations,
/// int8 symmetric weights (per channel for Conv) and int32 biases behind DequantizeLinear. ONNX Runtime fuses the
/// pattern into QLinearConv, QLinearMatMul, QLinearAdd, QLinearAveragePool.
/// </summary>
public static class StaticQuantizer
{
    private static readonly HashSet<string> Weighted = new(StringComparer.Ordinal) { "Conv", "MatMul", "Gemm" };

    /// <summary>Ops whose output must share the input's scale so ONNX Runtime can drop the QDQ pair around them.</summary>
    private static readonly HashSet<string> ScalePreserving = new(StringComparer.Ordinal) { "MaxPool" };

    /// <summary>Quantizes a copy of <paramref name="model"/>, calibrated on <paramref name="calibration"/>.</summary>
    public static OptimizationResult Quantize(Model model, IReadOnlyList<IReadOnlyDictionary<string, AccelTensor>> calibration, StaticQuantizationOptions? options = null)
    {
        options ??= new StaticQuantizationOptions();
        ModelPreparation.EnsureNotQuantized(model);
        if (calibration.Count == 0) throw new CalibrationDataException(model.Label, "static quantization needs at least one calibration sample");
        var prepared = ModelPreparation.Clone(model);
        ModelPreparation.ConstantsToInitializers(prepared);
        var folded = ModelPreparation.FoldBatchNormalization(prepared);
        ModelPreparation.UpgradeOpset(prepared, 13);
        var floatModel = ModelPreparation.Clone(prepared);

        var editor = new GraphEditor(prepared.Graph);
        var skipped = new List<(string, string)>();
        var chosen = ChooseNodes(editor, options, skipped);
        var absorbed = AbsorbActivations(editor, chosen);

        var activations = new List<string>();
        foreach (var node in chosen)
        {
            foreach (var (input, slot) in node.Inputs.Select((v, i) => (v, i)))
            {
                if (input.Length == 0 || editor.Initializer(input) is not null) continue;
                if (Weighted.Contains(node.OpType) && slot == 2) continue;
                activations.Add(input);
            }
            activations.AddRange(node.Outputs.Where(o => o.Length > 0));
        }
        activations = activations.Distinct(StringComparer.Ordinal).ToList();
        var ranges = Calibrator.Calibrate(floatModel, activations, calibration, options.Calibration);

        var parameters = new Dictionary<string, QuantParams>(StringComparer.Ordinal);
        foreach (var name in activations)
        {
            var r = ranges[name];
            // Clipping the model's own inputs or outputs shows directly in every result; calibrators only clip inside.
            var boundary = editor.IsGraphOutput(name) || editor.Graph.Inputs.Any(i => i.Name == name);
            parameters[name] = boundary
                ? QuantizationMath.Compute(r.ObservedMin, r.ObservedMax, ElementType.UInt8, symmetric: false)
                : QuantizationMath.Compute(r.Min, r.Max, ElementType.UInt8, symmetric: false);
        }
        foreach (var node in chosen.Where(n => ScalePreserving.Contains(n.OpType)))
        {
            parameters[node.Outputs[0]] = parameters[node.Inputs[0]];
        }

        var inputParameters = chosen.Where(n => Weighted.Contains(n.OpType)).ToDictionary(n => n, n => parameters[n.Inputs[0]]);
        foreach (var name in activations) InsertQdq(editor, name, parameters[name]);
        foreach (var (node, input) in inputParameters) QuantizeWeights(editor, node, input, options);

        editor.RemoveUnusedInitializers();
        editor.SortTopologically();
        prepared.ProducerName = "AccelSdk.Optimize";
        prepared.MetadataProps.Add(new("accelsdk.optimization", "static-int8-qdq"));
        var settings = new Dictionary<string, string>
        {
            ["calibration"] = options.Calibration.Method + (options.Calibration.Method == CalibrationMethod.Percentile ? $" {options.Calibration.Percentile}%" : ""),
            ["calibration_samples"] = calibration.Count.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["weights"] = "int8 symmetric" + (options.PerChannel ? ", per-channel for Conv" : ", per-tensor"),
            ["activations"] = "uint8 asymmetric per-tensor (QDQ)",
            ["batchnorm_folded"] = folded.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["activations_absorbed"] = absorbed.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        return new OptimizationResult("static-int8", prepared, chosen.Select(Label).ToList(), skipped, settings);
    }

    private static string Label(Node n) => n.Name.Length > 0 ? n.Name : n.Outputs[0];

    private static List<Node> ChooseNodes(GraphEditor editor, StaticQuantizationOptions options, List<(string, string)> skipped)
    {
        var chosen = new List<Node>();
        foreach (var node in editor.Graph.Nodes)
        {
            if (!options.OpTypes.Contains(node.OpType) || node.Domain.Length > 0) continue;
            if (options.Excludes(node))
            {
                skipped.Add((Label(node), "excluded by option"));
                continue;
            }
            if (node.OpType is "Conv" or "Gemm" && editor.Initializer(node.Inputs[1]) is not { ElementType: ElementType.Float32 })
            {
                skipped.Add((Label(node), "weight is not a float32 constant"));
                continue;
            }
            if (node.OpType == "Gemm" && (node.GetInt("transA", 0) != 0 || node.GetFloat("alpha", 1) != 1 || node.GetFloat("beta", 1) != 1))
            {
                skipped.Add((Label(node), "Gemm with transA, alpha or beta stays float32"));
                continue;
            }
            if (node.Inputs.Where(i => i.Length > 0).Any(i => editor.Initializer(i) is { ElementType: not ElementType.Float32 }))
            {
                skipped.Add((Label(node), "has non-float constant inputs"));
                continue;
            }
            chosen.Add(node);
        }
        return chosen;
    }

    /// <summary>
    /// A Relu (or Clip from 0) whose input comes only from a quantized node is removed; that node writes the Relu's
    /// output, whose calibrated range starts at 0, so the uint8 QuantizeLinear clamps exactly like the Relu did.
    /// </summary>
    private static int AbsorbActivations(GraphEditor editor, List<Node> chosen)
    {
        var consumers = editor.Consumers();
        var producers = editor.Producers();
        var chosenSet = new HashSet<Node>(chosen);
        var absorbed = 0;
        foreach (var relu in editor.Graph.Nodes.Where(n => n.OpType == "Relu" && n.Domain.Length == 0).ToList())
        {
            var input = relu.Inputs[0];
            if (!producers.TryGetValue(input, out var producer) || !chosenSet.Contains(producer)) continue;
            if (ScalePreserving.Contains(producer.OpType) || producer.Outputs.Count != 1) continue;
            if (consumers[input].Count != 1 || editor.IsGraphOutput(input)) continue;
            producer.Outputs[0] = relu.Outputs[0];
            editor.Graph.Nodes.Remove(relu);
            absorbed++;
        }
        return absorbed;
    }

    /// <summary>Adds QuantizeLinear/DequantizeLinear on <paramref name="value"/>; readers get the dequantized value.</summary>
    private static void InsertQdq(GraphEditor editor, string value, QuantParams p)
    {
        var scale = editor.AddInitializer(value + "_scale", AccelTensor.Scalar(p.Scale));
        var zero = editor.AddInitializer(value + "_zero_point", AccelTensor.Scalar((byte)p.ZeroPoint));
        var quantized = editor.FreshName(value + "_quantized");
        if (editor.IsGraphOutput(value))
        {
            // The graph output keeps its name and becomes the dequantized value.
            var raw = editor.FreshName(value + "_float");
            foreach (var n in editor.Graph.Nodes)
            {
                for (var i = 0; i < n.Outputs.Count; i++) if (n.Outputs[i] == value) n.Outputs[i] = raw;
            }
            editor.Graph.Nodes.Add(GraphEditor.MakeNode("QuantizeLinear", new[] { raw, scale, zero }, new[] { quantized }, editor.FreshName(value + "_QuantizeLinear")));
            editor.Graph.Nodes.Add(GraphEditor.MakeNode("DequantizeLinear", new[] { quantized, scale, zero }, new[] { value }, editor.FreshName(value + "_DequantizeLinear")));
            return;
        }
        var dequantized = editor.FreshName(value + "_dequantized");
        editor.RenameUses(value, dequantized);
        editor.Graph.Nodes.Add(GraphEditor.MakeNode("QuantizeLinear", new[] { value, scale, zero }, new[] { quantized }, editor.FreshName(value + "_QuantizeLinear")));
        editor.Graph.Nodes.Add(GraphEditor.MakeNode("DequantizeLinear", new[] { quantized, scale, zero }, new[] { dequantized }, editor.FreshName(value + "_DequantizeLinear")));
    }

    /// <summary>Weight to int8 behind DequantizeLinear; bias to int32 with scale = input scale x weight scale.</summary>
    private static void QuantizeWeights(GraphEditor editor, Node node, QuantParams input, StaticQuantizationOptions options)
    {
        var weightName = node.Inputs[1];
        var weight = editor.Initializer(weightName);
        if (weight is null) return; // MatMul of two activations: both already have QDQ.
        int? axis = node.OpType == "Conv" && options.PerChannel ? 0 : null;
        var w = QuantizationMath.QuantizeWeight(weight, axis, symmetric: true);
        node.Inputs[1] = Dequantize(editor, weightName, w.Values, w.Scales, w.ZeroPoints, axis);
        if (node.Inputs.Count < 3 || node.Inputs[2].Length == 0) return;
        var bias = editor.Initializer(node.Inputs[2]);
        if (bias is not { ElementType: ElementType.Float32 }) return;
        var weightScales = w.Scales.AsSpan<float>().ToArray();
        var values = bias.AsSpan<float>();
        var perChannel = axis is not null && weightScales.Length == values.Length;
        var scales = new float[perChannel ? values.Length : 1];
        for (var i = 0; i < scales.Length; i++) scales[i] = input.Scale * weightScales[perChannel ? i : 0];
        var q = new int[values.Length];
        for (var i = 0; i < q.Length; i++)
        {
            var s = scales[perChannel ? i : 0];
            q[i] = (int)Math.Clamp(Math.Round(values[i] / s, MidpointRounding.ToEven), int.MinValue, int.MaxValue);
        }
        var biasScale = perChannel ? AccelTensor.Create(scales, scales.Length) : AccelTensor.Scalar(scales[0]);
        var biasZero = perChannel ? AccelTensor.Create(new int[scales.Length], scales.Length) : AccelTensor.Scalar(0);
        node.Inputs[2] = Dequantize(editor, node.Inputs[2], AccelTensor.Create(q, bias.ShapeArray), biasScale, biasZero, perChannel ? 0 : null);
    }

    private static string Dequantize(GraphEditor editor, string stem, AccelTensor values, AccelTensor scale, AccelTensor zero, int? axis)
    {
        var q = editor.AddInitializer(stem + "_quantized", values);
        var s = editor.AddInitializer(stem + "_scale", scale);
        var z = editor.AddInitializer(stem + "_zero_point", zero);
        var output = editor.FreshName(stem + "_dequantized");
        var node = GraphEditor.MakeNode("DequantizeLinear", new[] { q, s, z }, new[] { output }, editor.FreshName(stem + "_DequantizeLinear"));
        if (axis is { } a) node.Attributes.Add(NodeAttribute.Int("axis", a));
        editor.Graph.Nodes.Add(node);
        return output;
    }
}
