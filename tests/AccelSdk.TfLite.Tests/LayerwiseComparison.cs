using System.Buffers.Binary;
using AccelSdk.Execution;
using AccelSdk.Ir;
using AccelSdk.OnnxRuntime;
using AccelSdk.TfLite.Import;

namespace AccelSdk.TfLite.Tests;

/// <summary>
/// Compares a model layer by layer between the TFLite runtime and its import on ONNX Runtime. TFLite's C API does
/// not keep intermediate tensors (its arena reuses them and the C API has no preserve-all-tensors switch), so the
/// flatbuffer is patched to list every computed tensor as a subgraph output; both runtimes then return them all.
/// </summary>
internal static class LayerwiseComparison
{
    /// <summary>2^-24: the relative rounding error of one float32 operation.</summary>
    public const double UnitRoundoff32 = 5.9604644775390625e-8;

    /// <summary>What <see cref="Compare"/> captured for the operator it was asked to: TFLite's input and output, ORT's output of the op alone.</summary>
    public sealed record Capture(AccelTensor Input, AccelTensor TfLiteOutput, AccelTensor OrtOutput);

    /// <summary>One TFLite operator's output: its error end to end, and its error when fed TFLite's own inputs.</summary>
    public sealed record Layer(string Op, string Tensor, double Scale, double EndToEndError, double LocalError)
    {
        public double EndToEndRelative => Scale > 0 ? EndToEndError / Scale : EndToEndError;

        public double LocalRelative => Scale > 0 ? LocalError / Scale : LocalError;
    }

    /// <summary>
    /// The model with every tensor that an operator computes from a non-constant input added to subgraph 0's outputs.
    /// The new output vector is appended to the file and the subgraph's (forward, unsigned) offset pointed at it.
    /// </summary>
    public static byte[] WithIntermediatesAsOutputs(byte[] bytes)
    {
        var root = FbTable.Root(bytes);
        var subgraph = root.GetTables(ModelFields.Subgraphs)[0];
        var tensors = subgraph.GetTables(SubGraphFields.Tensors);
        var buffers = root.GetTables(ModelFields.Buffers);
        var constant = new HashSet<int>(Enumerable.Range(0, tensors.Length).Where(t =>
        {
            var buffer = (int)tensors[t].GetUInt(TensorFields.Buffer);
            return buffer > 0 && buffer < buffers.Length && buffers[buffer].GetVectorBytes(BufferFields.Data, 1).Length > 0;
        }));
        var computed = new List<int>();
        foreach (var op in subgraph.GetTables(SubGraphFields.Operators))
        {
            var inputs = op.GetInts(OperatorFields.Inputs).Where(t => t >= 0);
            var outputs = op.GetInts(OperatorFields.Outputs);
            if (inputs.All(constant.Contains)) constant.UnionWith(outputs); // folded at import (DENSIFY, DEQUANTIZE of weights)
            else computed.AddRange(outputs);
        }

        int Read(int position) => BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(position));
        int FieldPosition(int table, int field)
        {
            var vtable = table - Read(table);
            var entry = 4 + 2 * field;
            if (entry + 2 > BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(vtable))) return 0;
            var offset = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(vtable + entry));
            return offset == 0 ? 0 : table + offset;
        }
        int Follow(int position) => position + Read(position);
        var rootTable = Follow(0);
        var subgraphVector = Follow(FieldPosition(rootTable, ModelFields.Subgraphs));
        var subgraphTable = Follow(subgraphVector + 4);
        var outputsField = FieldPosition(subgraphTable, SubGraphFields.Outputs);
        if (outputsField == 0) throw new InvalidOperationException("subgraph 0 has no outputs field to redirect");
        var start = (bytes.Length + 3) / 4 * 4;
        var patched = new byte[start + 4 + 4 * computed.Count];
        bytes.CopyTo(patched, 0);
        BinaryPrimitives.WriteInt32LittleEndian(patched.AsSpan(start), computed.Count);
        for (var i = 0; i < computed.Count; i++) BinaryPrimitives.WriteInt32LittleEndian(patched.AsSpan(start + 4 + 4 * i), computed[i]);
        BinaryPrimitives.WriteInt32LittleEndian(patched.AsSpan(outputsField), start - outputsField);
        return patched;
    }

    /// <summary>
    /// Runs the patched model on TFLite and imported on ORT (end-to-end error of every layer), then runs each TFLite
    /// operator's imported nodes alone on ORT, fed the tensors TFLite computed (local error: what the op's import adds).
    /// </summary>
    public static IReadOnlyList<Layer> Compare(string path, OrtBackend ort, AccelTensor[] inputs) => Compare(path, ort, inputs, null, out _);

    /// <inheritdoc cref="Compare(string, OrtBackend, AccelTensor[])"/>
    public static IReadOnlyList<Layer> Compare(string path, OrtBackend ort, AccelTensor[] inputs, string? captureOp, out Capture? capture)
    {
        capture = null;
        var patched = WithIntermediatesAsOutputs(File.ReadAllBytes(path));
        var label = Path.GetFileName(path);
        using var liteModel = LiteModel.FromBytes(patched, label);
        using var interpreter = new LiteInterpreter(liteModel);
        var lite = interpreter.Run(inputs);
        var model = TfLiteImporter.Import(patched, label);
        using var session = new AccelSession(GraphPartitioner.WholeModel(model, ort, ort.CpuDevice));
        var whole = session.Run(inputs);
        var tfliteValues = new Dictionary<string, AccelTensor>(StringComparer.Ordinal);
        for (var i = 0; i < lite.Length; i++) tfliteValues[model.Graph.Outputs[i].Name] = lite[i];
        for (var i = 0; i < inputs.Length; i++) tfliteValues[model.Graph.Inputs[i].Name] = inputs[i];
        var endToEnd = new Dictionary<string, (double Scale, double Error)>(StringComparer.Ordinal);
        for (var i = 0; i < lite.Length; i++) endToEnd[model.Graph.Outputs[i].Name] = MaxError(lite[i], whole[i]);

        using var opByOp = new OpByOp(model, ort);
        var layers = new List<Layer>();
        foreach (var (op, tensor, scale, error, _) in opByOp.Run(tfliteValues))
        {
            layers.Add(new Layer(op, tensor, scale, endToEnd[tensor].Error, error));
            if (op == captureOp && capture is null) capture = new Capture(opByOp.FirstInput(op, tfliteValues), tfliteValues[tensor], opByOp.LastOutputs[tensor]);
        }
        return layers;
    }

    /// <summary>
    /// A float64 reference for one imported CONV_2D/DEPTHWISE_CONV_2D (Transpose, Conv, optional Relu/Clip, Transpose),
    /// fed TFLite's NHWC input: the exact output (NHWC, activation applied) and, per element, the float32 rounding
    /// scale of its dot product, eps32 x (sum |w x| + |b|).
    /// </summary>
    public static (double[] Exact, double[] RoundingScale) Float64Conv(Model model, string op, AccelTensor inputNhwc)
    {
        var nodes = model.Graph.Nodes.Where(n => n.Name!.StartsWith(op + "/", StringComparison.Ordinal)).ToList();
        var conv = nodes.Single(n => n.OpType == "Conv");
        var w = model.Graph.FindInitializer(conv.Inputs[1])!.ToArray<float>();
        var wShape = model.Graph.FindInitializer(conv.Inputs[1])!.ShapeArray; // [O, I/g, KH, KW]
        var bias = conv.Inputs.Count > 2 ? model.Graph.FindInitializer(conv.Inputs[2])!.ToArray<float>() : new float[wShape[0]];
        var strides = conv.GetInts("strides")!;
        var dilations = conv.GetInts("dilations")!;
        var pads = conv.GetInts("pads")!;
        var group = conv.GetInt("group", 1);
        var clip = nodes.FirstOrDefault(n => n.OpType is "Clip" or "Relu");
        double low = double.NegativeInfinity, high = double.PositiveInfinity;
        if (clip?.OpType == "Relu") low = 0;
        else if (clip is not null)
        {
            low = model.Graph.FindInitializer(clip.Inputs[1])!.GetAsDouble(0);
            high = model.Graph.FindInitializer(clip.Inputs[2])!.GetAsDouble(0);
        }
        var x = inputNhwc.ToArray<float>();
        long h = inputNhwc.ShapeArray[1], wIn = inputNhwc.ShapeArray[2], c = inputNhwc.ShapeArray[3];
        long outC = wShape[0], perGroupIn = wShape[1], kh = wShape[2], kw = wShape[3];
        long outH = (h + pads[0] + pads[2] - (dilations[0] * (kh - 1) + 1)) / strides[0] + 1;
        long outW = (wIn + pads[1] + pads[3] - (dilations[1] * (kw - 1) + 1)) / strides[1] + 1;
        var exact = new double[outH * outW * outC];
        var scale = new double[exact.Length];
        var outPerGroup = outC / group;
        for (long oy = 0; oy < outH; oy++)
        for (long ox = 0; ox < outW; ox++)
        for (long o = 0; o < outC; o++)
        {
            double sum = bias[o], magnitude = Math.Abs(bias[o]);
            var g = o / outPerGroup;
            for (long ic = 0; ic < perGroupIn; ic++)
            for (long ky = 0; ky < kh; ky++)
            for (long kx = 0; kx < kw; kx++)
            {
                var iy = oy * strides[0] - pads[0] + ky * dilations[0];
                var ix = ox * strides[1] - pads[1] + kx * dilations[1];
                if (iy < 0 || iy >= h || ix < 0 || ix >= wIn) continue;
                var term = (double)w[((o * perGroupIn + ic) * kh + ky) * kw + kx] * x[(iy * wIn + ix) * c + g * perGroupIn + ic];
                sum += term;
                magnitude += Math.Abs(term);
            }
            var at = (oy * outW + ox) * outC + o;
            exact[at] = Math.Clamp(sum, low, high);
            scale[at] = magnitude * UnitRoundoff32;
        }
        return (exact, scale);
    }

    /// <summary>
    /// Each TFLite operator's imported nodes as their own ORT session (node names are "&lt;TFLite op&gt;_&lt;operator
    /// index&gt;/&lt;onnx op&gt;_&lt;n&gt;": one group per operator), fed the tensors TFLite computed. Groups whose inputs
    /// TFLite does not expose (a READ_VARIABLE's state) or whose outputs it does not (the state outputs) are skipped.
    /// </summary>
    public sealed class OpByOp : IDisposable
    {
        private readonly List<(string Op, AccelSession Session, string[] Feeds, string[] Outputs)> _groups = new();

        public OpByOp(Model model, OrtBackend ort)
        {
            var exposed = model.Graph.Inputs.Concat(model.Graph.Outputs).Select(v => v.Name).ToHashSet(StringComparer.Ordinal);
            foreach (var group in model.Graph.Nodes.GroupBy(n => n.Name!.Split('/')[0]))
            {
                var nodes = group.ToList();
                var produced = nodes.SelectMany(n => n.Outputs).ToHashSet(StringComparer.Ordinal);
                var graph = new Graph { Name = group.Key };
                graph.Nodes.AddRange(nodes);
                var feeds = new List<string>();
                var complete = true;
                foreach (var name in nodes.SelectMany(n => n.Inputs).Where(x => x.Length > 0 && !produced.Contains(x)).Distinct())
                {
                    if (model.Graph.FindInitializer(name) is { } initializer) graph.Initializers.Add(initializer);
                    else if (exposed.Contains(name) && model.Graph.Outputs.Concat(model.Graph.Inputs).First(v => v.Name == name) is { } info)
                    {
                        graph.Inputs.Add(info);
                        feeds.Add(name);
                    }
                    else complete = false;
                }
                var outputs = nodes.SelectMany(n => n.Outputs).Where(n => exposed.Contains(n)).ToArray();
                if (!complete || outputs.Length == 0 || feeds.Count == 0) continue;
                foreach (var name in outputs) graph.Outputs.Add(model.Graph.Outputs.First(v => v.Name == name));
                var single = new Model(graph) { IrVersion = model.IrVersion };
                foreach (var (domain, version) in model.OpsetImports) single.OpsetImports[domain] = version;
                _groups.Add((group.Key, new AccelSession(GraphPartitioner.WholeModel(single, ort, ort.CpuDevice)), feeds.ToArray(), outputs));
            }
        }

        /// <summary>The outputs of the last <see cref="Run"/>, by name.</summary>
        public Dictionary<string, AccelTensor> LastOutputs { get; } = new(StringComparer.Ordinal);

        public AccelTensor FirstInput(string op, IReadOnlyDictionary<string, AccelTensor> values) => values[_groups.First(g => g.Op == op).Feeds[0]];

        /// <summary>Per operator output: max|tflite|, max|tflite - ort on tflite's inputs|, and the step of a quantized output (0 for float).</summary>
        public IEnumerable<(string Op, string Tensor, double Scale, double Error, string Type)> Run(IReadOnlyDictionary<string, AccelTensor> tfliteValues)
        {
            LastOutputs.Clear();
            foreach (var (op, session, feeds, outputs) in _groups)
            {
                if (!feeds.All(tfliteValues.ContainsKey)) continue; // fed by state TFLite does not expose
                var result = session.Run(feeds.Select(f => tfliteValues[f]).ToArray());
                for (var i = 0; i < outputs.Length; i++)
                {
                    if (!tfliteValues.ContainsKey(outputs[i])) continue; // a state output
                    LastOutputs[outputs[i]] = result[i];
                    var (scale, error) = MaxError(tfliteValues[outputs[i]], result[i]);
                    yield return (op, outputs[i], scale, error, result[i].ElementType.ShortName());
                }
            }
        }

        public void Dispose()
        {
            foreach (var group in _groups) group.Session.Dispose();
        }
    }

    /// <summary>max|expected| and max|expected - actual|.</summary>
    public static (double Scale, double Error) MaxError(AccelTensor expected, AccelTensor actual)
    {
        Assert.Equal(expected.ShapeArray, actual.ShapeArray);
        double scale = 0, error = 0;
        for (var i = 0; i < expected.ElementCount; i++)
        {
            scale = Math.Max(scale, Math.Abs(expected.GetAsDouble(i)));
            error = Math.Max(error, Math.Abs(expected.GetAsDouble(i) - actual.GetAsDouble(i)));
        }
        return (scale, error);
    }
}
