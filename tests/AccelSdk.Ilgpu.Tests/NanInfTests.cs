using AccelSdk.Backends;
using AccelSdk.Execution;
using AccelSdk.Ir;
using AccelSdk.OnnxRuntime;
using Xunit;
using Xunit.Abstractions;

namespace AccelSdk.Ilgpu.Tests;

/// <summary>
/// NaN and infinities through every float op ILGPU claims, against ONNX Runtime's CPU EP on the same model and inputs:
/// NaN must come out at exactly the positions where ORT gives NaN, infinities must be equal, finite values must agree
/// like the conformance suite (rtol 1e-3, atol 1e-5). Each case runs with NaN, +Inf and -Inf planted in random data.
/// </summary>
public class NanInfTests(ITestOutputHelper output)
{
    private static readonly Lazy<OrtBackend> Ort = new(() => new OrtBackend());

    private static readonly long[] Shape4 = { 2, 3, 5, 5 };

    private static ValueInfo Out(string name, ElementType type = ElementType.Float32) => new(name, new TensorType(type, null));

    private static Node N(string op, string[] inputs, params NodeAttribute[] attributes)
    {
        var node = new Node(op, inputs, new[] { "Y" }, op.ToLowerInvariant());
        node.Attributes.AddRange(attributes);
        return node;
    }

    private static Model Unary(Node node, long opset = 17, params long[] shape) =>
        TinyModels.Single(node, new[] { TinyModels.F32("X", shape.Length == 0 ? Shape4 : shape) }, new[] { Out("Y") }, opset);

    private static Model Binary(string op, long[] a, long[] b, ElementType output = ElementType.Float32) =>
        TinyModels.Single(N(op, new[] { "A", "B" }), new[] { TinyModels.F32("A", a), TinyModels.F32("B", b) }, new[] { Out("Y", output) });

    private static Model WithWeights(Node node, long[] x, params AccelTensor[] weights) =>
        TinyModels.Single(node, new[] { TinyModels.F32("X", x) }, new[] { Out("Y") }, 17, weights);

    private static AccelTensor Weights(string name, int seed, params long[] shape)
    {
        var random = new Random(seed);
        var data = new float[(int)AccelTensor.CountElements(shape)];
        for (var i = 0; i < data.Length; i++) data[i] = (float)(random.NextDouble() - 0.5);
        return AccelTensor.Create(data, shape).WithName(name);
    }

    private static readonly Dictionary<string, Func<Model>> Cases = BuildCases();

    private static Dictionary<string, Func<Model>> BuildCases()
    {
        var cases = new Dictionary<string, Func<Model>>(StringComparer.Ordinal);
        foreach (var op in new[]
                 {
                     "Relu", "Sigmoid", "HardSigmoid", "HardSwish", "Tanh", "Elu", "Selu", "Softplus", "Erf", "Exp", "Log", "Sqrt",
                     "Neg", "Abs", "Reciprocal", "Floor", "Ceil", "Softsign", "Sin", "Cos",
                 })
        {
            cases[op] = () => Unary(N(op, new[] { "X" }));
        }
        cases["LeakyRelu"] = () => Unary(N("LeakyRelu", new[] { "X" }, NodeAttribute.Float("alpha", 0.1f)));
        cases["Clip"] = () => WithWeights(N("Clip", new[] { "X", "lo", "hi" }), Shape4, AccelTensor.Scalar(-0.5f).WithName("lo"), AccelTensor.Scalar(0.75f).WithName("hi"));
        cases["ClipOpset6"] = () => Unary(N("Clip", new[] { "X" }, NodeAttribute.Float("min", -0.5f), NodeAttribute.Float("max", 0.75f)), 6);
        cases["ClipNoBounds"] = () => Unary(N("Clip", new[] { "X" }));
        foreach (var op in new[] { "Add", "Sub", "Mul", "Div", "Pow", "Max", "Min", "Sum" })
        {
            cases[op] = () => Binary(op, Shape4, new long[] { 3, 1, 5 });
        }
        cases["PRelu"] = () => Binary("PRelu", Shape4, new long[] { 3, 1, 1 });
        cases["Max3"] = () => TinyModels.Single(N("Max", new[] { "A", "B", "C" }),
            new[] { TinyModels.F32("A", Shape4), TinyModels.F32("B", 5), TinyModels.F32("C", 3, 1, 1) }, new[] { Out("Y") });
        cases["Min3"] = () => TinyModels.Single(N("Min", new[] { "A", "B", "C" }),
            new[] { TinyModels.F32("A", Shape4), TinyModels.F32("B", 5), TinyModels.F32("C", 3, 1, 1) }, new[] { Out("Y") });
        foreach (var op in new[] { "Equal", "Greater", "Less", "GreaterOrEqual", "LessOrEqual" })
        {
            cases[op] = () => Binary(op, Shape4, new long[] { 3, 1, 5 }, ElementType.Bool);
        }
        cases["CastToBool"] = () => TinyModels.Single(N("Cast", new[] { "X" }, NodeAttribute.Int("to", (long)ElementType.Bool)),
            new[] { TinyModels.F32("X", Shape4) }, new[] { Out("Y", ElementType.Bool) });
        cases["CastToFloat16"] = () => TinyModels.Single(N("Cast", new[] { "X" }, NodeAttribute.Int("to", (long)ElementType.Float16)),
            new[] { TinyModels.F32("X", Shape4) }, new[] { Out("Y", ElementType.Float16) });
        cases["MatMul"] = () => Binary("MatMul", new long[] { 2, 9, 13 }, new long[] { 13, 10 });
        cases["Gemm"] = () => TinyModels.Single(N("Gemm", new[] { "A", "B", "C" }, NodeAttribute.Int("transB", 1), NodeAttribute.Float("alpha", 0.5f)),
            new[] { TinyModels.F32("A", 9, 13), TinyModels.F32("B", 10, 13), TinyModels.F32("C", 10) }, new[] { Out("Y") });
        cases["Conv"] = () => WithWeights(N("Conv", new[] { "X", "W", "B" }, NodeAttribute.Ints("pads", 1, 1, 1, 1)), Shape4,
            Weights("W", 1, 4, 3, 3, 3), Weights("B", 2, 4));
        cases["ConvDepthwise"] = () => WithWeights(N("Conv", new[] { "X", "W" }, NodeAttribute.Int("group", 3), NodeAttribute.Ints("pads", 1, 1, 1, 1)), Shape4,
            Weights("W", 3, 3, 1, 3, 3));
        cases["ConvTranspose"] = () => WithWeights(N("ConvTranspose", new[] { "X", "W" }, NodeAttribute.Ints("strides", 2, 2)), Shape4,
            Weights("W", 4, 3, 2, 3, 3));
        cases["MaxPool"] = () => Unary(N("MaxPool", new[] { "X" }, NodeAttribute.Ints("kernel_shape", 3, 3), NodeAttribute.Ints("pads", 1, 1, 1, 1), NodeAttribute.Ints("strides", 2, 2)));
        cases["AveragePool"] = () => Unary(N("AveragePool", new[] { "X" }, NodeAttribute.Ints("kernel_shape", 3, 3), NodeAttribute.Ints("pads", 1, 1, 1, 1)));
        cases["AveragePoolIncludePad"] = () => Unary(N("AveragePool", new[] { "X" }, NodeAttribute.Ints("kernel_shape", 2, 2), NodeAttribute.Ints("pads", 1, 1, 0, 0),
            NodeAttribute.Int("count_include_pad", 1)));
        cases["GlobalAveragePool"] = () => Unary(N("GlobalAveragePool", new[] { "X" }));
        cases["GlobalMaxPool"] = () => Unary(N("GlobalMaxPool", new[] { "X" }));
        cases["BatchNormalization"] = () => WithWeights(N("BatchNormalization", new[] { "X", "S", "B", "M", "V" }), Shape4,
            Weights("S", 5, 3), Weights("B", 6, 3), Weights("M", 7, 3), AccelTensor.FromArray(0.5f, 1f, 2f).WithName("V"));
        cases["LayerNormalization"] = () => WithWeights(N("LayerNormalization", new[] { "X", "S", "B" }, NodeAttribute.Int("axis", -1)), Shape4,
            Weights("S", 8, 5), Weights("B", 9, 5));
        cases["Softmax"] = () => Unary(N("Softmax", new[] { "X" }, NodeAttribute.Int("axis", -1)));
        cases["SoftmaxAxis1"] = () => Unary(N("Softmax", new[] { "X" }, NodeAttribute.Int("axis", 1)));
        cases["LogSoftmax"] = () => Unary(N("LogSoftmax", new[] { "X" }, NodeAttribute.Int("axis", -1)));
        cases["SoftmaxOpset11"] = () => Unary(N("Softmax", new[] { "X" }, NodeAttribute.Int("axis", 2)), 11);
        foreach (var op in new[]
                 {
                     "ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2", "ReduceSumSquare",
                     "ReduceLogSum", "ReduceLogSumExp",
                 })
        {
            // Opset 11: every reduction still takes axes as an attribute (ReduceSum moved them to an input in 13).
            cases[op] = () => Unary(N(op, new[] { "X" }, NodeAttribute.Ints("axes", 2, 3)), 11);
        }
        foreach (var mode in new[] { "constant", "reflect", "edge" })
        {
            cases["Pad_" + mode] = () => WithWeights(N("Pad", new[] { "X", "pads" }, NodeAttribute.String("mode", mode)), Shape4,
                AccelTensor.FromArray(0L, 0L, 1L, 2L, 0L, 0L, 2L, 1L).WithName("pads"));
        }
        foreach (var mode in new[] { "nearest", "linear", "cubic" })
        {
            cases["Resize_" + mode] = () => WithWeights(N("Resize", new[] { "X", "", "scales" }, NodeAttribute.String("mode", mode)), Shape4,
                AccelTensor.FromArray(1f, 1f, 2f, 1.5f).WithName("scales"));
        }
        cases["Where"] = () =>
        {
            var model = TinyModels.Single(N("Where", new[] { "C", "A", "B" }),
                new[] { new ValueInfo("C", new TensorType(ElementType.Bool, new TensorShape(Shape4))), TinyModels.F32("A", Shape4), TinyModels.F32("B", 5) },
                new[] { Out("Y") });
            return model;
        };
        return cases;
    }

    /// <summary>Every case, except float16 ones on a test device without float16 (PoCL: refused with that reason).</summary>
    public static IEnumerable<object[]> CaseNames() =>
        from name in Cases.Keys
        where !GraphPartitioner.Unsupported(Cases[name](), Shared.Backend, Shared.TestDevice).Any(u => u.Reason.Contains("has no float16 support", StringComparison.Ordinal))
        from poison in Poisons

        select new object[] { name, poison };

    /// <summary>
    /// NaN, +Inf or -Inf at three scattered positions; "nan-block": the first sixth of every input NaN (whole windows,
    /// rows and planes of NaN) plus the scattered ones; "mixed": NaN, +Inf and -Inf at the three positions.
    /// </summary>
    private static readonly string[] Poisons = { "nan", "+inf", "-inf", "nan-block", "mixed" };

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void NanAndInfinityMatchOnnxRuntime(string name, string poison)
    {
        var model = Cases[name]();
        Assert.Empty(GraphPartitioner.Unsupported(model, Shared.Backend, Shared.TestDevice));
        var inputs = new Dictionary<string, AccelTensor>(StringComparer.Ordinal);
        var seed = 3;
        foreach (var input in model.Graph.RequiredInputs)
        {
            var shape = input.TensorType!.Shape!.Dims.Select(d => d.Value!.Value).ToArray();
            inputs[input.Name] = input.TensorType.ElementType == ElementType.Bool
                ? AccelTensor.Create(Enumerable.Range(0, (int)AccelTensor.CountElements(shape)).Select(i => i % 3 == 0).ToArray(), shape)
                : Poisoned(shape, seed++, poison);
        }
        var (expected, actual) = RunBoth(model, inputs);
        Assert.Equal(expected.Count, actual.Count);
        var skipping = SkipsNaN.TryGetValue(name, out var neutral) ? NaNSkippingReference(model, inputs, neutral) : null;
        for (var o = 0; o < expected.Count; o++)
        {
            var report = Mismatches(actual[o], expected[o], skipping?[o]);
            output.WriteLine($"{name} with {poison}: {report.NanCount} NaN, {report.InfCount} infinite of {expected[o].ElementCount} in ORT's output");
            Assert.True(report.Problems.Count == 0, $"{name} with {poison}: {report.Problems.Count} elements differ from ORT, e.g.\n{string.Join("\n", report.Problems.Take(8))}");
        }
    }

    /// <summary>
    /// Random values in [-2, 2) with <paramref name="value"/> at a few positions: the first element, one in the middle
    /// and one near the end (every output of a window op sees one of them or none).
    /// </summary>
    internal static AccelTensor Poisoned(long[] shape, int seed, string poison)
    {
        var random = new Random(seed);
        var count = (int)AccelTensor.CountElements(shape);
        var data = new float[count];
        for (var i = 0; i < count; i++) data[i] = (float)(random.NextDouble() * 4 - 2);
        var values = poison switch
        {
            "+inf" => new[] { float.PositiveInfinity, float.PositiveInfinity, float.PositiveInfinity },
            "-inf" => new[] { float.NegativeInfinity, float.NegativeInfinity, float.NegativeInfinity },
            "mixed" => new[] { float.NaN, float.PositiveInfinity, float.NegativeInfinity },
            _ => new[] { float.NaN, float.NaN, float.NaN },
        };
        var positions = new[] { 0, count / 2 + 1, count - 3 };
        for (var k = 0; k < positions.Length; k++)
        {
            if (positions[k] >= 0 && positions[k] < count) data[positions[k]] = values[k];
        }
        if (poison == "nan-block") Array.Fill(data, float.NaN, 0, Math.Max(1, count / 6));
        return AccelTensor.Create(data, shape);
    }

    /// <summary>
    /// Ops whose NaN handling in ONNX Runtime's CPU EP depends on where the NaN sits. Measured: ReduceMax/ReduceMin and
    /// GlobalMaxPool keep a NaN that lands in the first SIMD lanes of a reduction and skip it elsewhere; MaxPool (MLAS)
    /// scans each window with x86 MAXPS, so a NaN resets the running maximum to the next element (padding counts as
    /// -FLT_MAX), giving NaN, -FLT_MAX or the maximum of the rest of the window. ILGPU computes IEEE 754-2008
    /// maxNum/minNum there (a NaN is skipped unless the whole window is NaN). Expected values come from ORT itself: on
    /// the input with each NaN replaced by the value max/min skips anyway (-Inf/+Inf), and, to find all-NaN windows, on
    /// the input with the NaN so replaced and every other element 0. ORT's own output may differ from maxNum/minNum only
    /// in outputs whose window holds a NaN (found with NaN as +Inf/-Inf and every other element 0).
    /// </summary>
    private static readonly Dictionary<string, float> SkipsNaN = new(StringComparer.Ordinal)
    {
        ["MaxPool"] = float.NegativeInfinity, ["GlobalMaxPool"] = float.NegativeInfinity,
        ["ReduceMax"] = float.NegativeInfinity, ["ReduceMin"] = float.PositiveInfinity,
    };

    /// <summary>What maxNum/minNum give per output: <c>Values</c>, or NaN where <c>AllNaN</c>; <c>AnyNaN</c>: the window holds a NaN.</summary>
    internal sealed record NaNSkipping(float[] Values, bool[] AllNaN, bool[] AnyNaN);

    private static NaNSkipping[] NaNSkippingReference(Model model, IReadOnlyDictionary<string, AccelTensor> inputs, float neutral)
    {
        Dictionary<string, AccelTensor> Map(Func<float, float> f) => inputs.ToDictionary(kv => kv.Key, kv =>
            AccelTensor.Create(kv.Value.AsSpan<float>().ToArray().Select(f).ToArray(), kv.Value.ShapeArray));
        using var reference = new AccelSession(GraphPartitioner.WholeModel(model, Ort.Value, Ort.Value.Devices.Single(d => d.Id == "ort-cpu")));
        var skipped = reference.Run(Map(v => float.IsNaN(v) ? neutral : v));
        var onlyNaN = reference.Run(Map(v => float.IsNaN(v) ? neutral : 0f));
        var anyNaN = reference.Run(Map(v => float.IsNaN(v) ? -neutral : 0f));
        return skipped.Select((t, o) => new NaNSkipping(t.AsSpan<float>().ToArray(),
            onlyNaN[o].AsSpan<float>().ToArray().Select(v => Math.Abs(v) >= float.MaxValue).ToArray(),
            anyNaN[o].AsSpan<float>().ToArray().Select(v => v == -neutral).ToArray())).ToArray();
    }

    internal sealed record Report(List<string> Problems, int NanCount, int InfCount);

    /// <summary>
    /// Same NaN positions, equal infinities, finite values within rtol 1e-3 / atol 1e-5 (bool outputs: equal). With
    /// <paramref name="skipping"/>: compared with maxNum/minNum's answer, and ORT's own output may differ from that
    /// only where the window holds a NaN.
    /// </summary>
    internal static Report Mismatches(AccelTensor actual, AccelTensor expected, NaNSkipping? skipping = null)
    {
        Assert.Equal(expected.ElementType, actual.ElementType);
        Assert.Equal(expected.ShapeArray, actual.ShapeArray);
        var problems = new List<string>();
        int nans = 0, infs = 0;
        for (long i = 0; i < expected.ElementCount; i++)
        {
            var (a, e) = (actual.GetAsDouble(i), expected.GetAsDouble(i));
            if (double.IsNaN(e)) nans++;
            if (double.IsInfinity(e)) infs++;
            if (skipping is not null)
            {
                var ieee = skipping.AllNaN[i] ? double.NaN : skipping.Values[i];
                if (!Same(e, ieee) && !skipping.AnyNaN[i]) problems.Add($"  element {i}: ORT {e:R} differs from maxNum/minNum's {ieee:R} without a NaN in the window");
                if (!Same(ieee, a)) problems.Add($"  element {i}: ILGPU {a:R}, maxNum/minNum {ieee:R} (ORT {e:R})");
                continue;
            }
            var same = Same(e, a);
            if (!same) problems.Add($"  element {i}: ILGPU {a:R}, ORT {e:R}");
        }
        return new Report(problems, nans, infs);
    }

    private static bool Same(double expected, double actual) =>
        double.IsNaN(expected) ? double.IsNaN(actual)
        : double.IsInfinity(expected) || double.IsNaN(actual) || double.IsInfinity(actual) ? actual == expected
        : Math.Abs(actual - expected) <= 1e-5 + 1e-3 * Math.Abs(expected);

    internal static (RunResult Ort, RunResult Ilgpu) RunBoth(Model model, IReadOnlyDictionary<string, AccelTensor> inputs)
    {
        using var reference = new AccelSession(GraphPartitioner.WholeModel(model, Ort.Value, Ort.Value.Devices.Single(d => d.Id == "ort-cpu")));
        using var session = new AccelSession(GraphPartitioner.WholeModel(model, Shared.Backend, Shared.TestDevice));
        return (reference.Run(inputs), session.Run(inputs));
    }
}

/// <summary>
/// Real models fed a NaN (and an infinity) on ilgpu-cpu and on ORT's CPU EP: the same NaN positions, the same values
/// elsewhere. hey_jarvis's If nodes (not claimed by ILGPU) run on ORT inside the ILGPU plan, every other node on ILGPU.
/// </summary>
public class NanInfModelTests(ITestOutputHelper output)
{
    private static readonly Lazy<OrtBackend> Ort = new(() => new OrtBackend());

    [Theory]
    [InlineData("openwakeword/melspectrogram.onnx")]
    [InlineData("openwakeword/embedding_model.onnx")]
    [InlineData("openwakeword/hey_jarvis_v0.1.onnx")]
    [InlineData("blazeface/face_detection_front_128x128_barracuda.onnx")]
    [InlineData("blazeface/face_detection_back_256x256_barracuda.onnx")]
    public void ModelFedANaNGivesNaNWhereOnnxRuntimeDoes(string file)
    {
        var model = Onnx.OnnxImporter.Load(TestSupport.RepoPaths.Model(file));
        var plan = IlgpuWhereClaimed(model, out var onIlgpu);
        Assert.True(onIlgpu * 10 >= model.Graph.Nodes.Count * 9, $"only {onIlgpu} of {model.Graph.Nodes.Count} nodes run on ILGPU");
        using var ilgpu = new AccelSession(plan);
        using var ort = new AccelSession(GraphPartitioner.WholeModel(model, Ort.Value, Ort.Value.Devices.Single(d => d.Id == "ort-cpu")));
        foreach (var poison in new[] { float.NaN, float.PositiveInfinity })
        {
            var inputs = file.Contains("melspectrogram", StringComparison.Ordinal)
                ? new Dictionary<string, AccelTensor> { [model.Graph.RequiredInputs.First().Name] = AccelTensor.Create(Enumerable.Range(0, 16000).Select(i => (float)(1000 * Math.Sin(i * 0.05))).ToArray(), 1, 16000) }
                : SampleInputs.Random(model, seed: 7);
            var first = inputs.Keys.First();
            var data = inputs[first].AsSpan<float>().ToArray();
            data[data.Length / 3] = poison;
            inputs[first] = AccelTensor.Create(data, inputs[first].ShapeArray);
            var expected = ort.Run(inputs);
            var actual = ilgpu.Run(inputs);
            for (var o = 0; o < expected.Count; o++)
            {
                var report = NanInfTests.Mismatches(actual[o], expected[o]);
                output.WriteLine($"{file} ({onIlgpu}/{model.Graph.Nodes.Count} nodes on ILGPU) output {expected.Names[o]} with {poison} in {first}: " +
                    $"ORT {report.NanCount} NaN and {report.InfCount} infinite of {expected[o].ElementCount}, ILGPU {actual[o].AsSpan<float>().ToArray().Count(float.IsNaN)} NaN");
                Assert.True(report.Problems.Count == 0, $"{file} output {o} with {poison}: {report.Problems.Count} elements differ from ORT, e.g.\n{string.Join("\n", report.Problems.Take(8))}");
            }
        }
    }

    private static ExecutionPlan IlgpuWhereClaimed(Model model, out int onIlgpu)
    {
        var refused = GraphPartitioner.Unsupported(model, Shared.Backend, Shared.TestDevice).Select(u => u.Node).ToHashSet(StringComparer.Ordinal);
        var ortCpu = new Placement(Ort.Value, Ort.Value.Devices.Single(d => d.Id == "ort-cpu"));
        var ilgpu = new Placement(Shared.Backend, Shared.TestDevice);
        var placements = model.Graph.Nodes.Select(n => refused.Contains(n.Name.Length > 0 ? n.Name : n.Outputs.FirstOrDefault() ?? "?") ? ortCpu : ilgpu).ToList();
        onIlgpu = placements.Count(p => p == ilgpu);
        return GraphPartitioner.FromPlacements(model, placements);
    }
}
