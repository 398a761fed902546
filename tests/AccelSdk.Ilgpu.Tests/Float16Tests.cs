using AccelSdk.Backends;
using AccelSdk.Execution;
using AccelSdk.Ir;
using AccelSdk.Onnx;
using AccelSdk.OnnxRuntime;
using AccelSdk.Optimize.Conversion;
using Xunit;
using Xunit.Abstractions;

namespace AccelSdk.Ilgpu.Tests;

/// <summary>
/// float16 on ilgpu-cpu against ONNX Runtime's CPU EP on the same float16 models. ILGPU widens float16 inputs to
/// float32, computes in float32 and rounds each node's output once; ORT's CPU EP does the same for ops without a
/// float16 kernel. Tolerance per element for single ops: |diff| &lt;= 2e-3 * |ref| + 2e-3 (about two float16 ulps).
/// </summary>
public class Float16Tests(ITestOutputHelper output)
{
    private static readonly Lazy<OrtBackend> Ort = new(() => new OrtBackend());

    private static ValueInfo F16(string name, params long[] shape) => new(name, new TensorType(ElementType.Float16, new TensorShape(shape)));

    private static ValueInfo F16Out(string name) => new(name, new TensorType(ElementType.Float16, null));

    private static Node N(string op, string[] inputs, params NodeAttribute[] attributes)
    {
        var node = new Node(op, inputs, new[] { "Y" }, op.ToLowerInvariant());
        node.Attributes.AddRange(attributes);
        return node;
    }

    private static AccelTensor Half(long[] shape, int seed, bool positive)
    {
        var random = new Random(seed);
        var data = new Half[(int)AccelTensor.CountElements(shape)];
        for (var i = 0; i < data.Length; i++) data[i] = (Half)(positive ? 0.05 + random.NextDouble() : random.NextDouble() * 2 - 1);
        return AccelTensor.Create(data, shape);
    }

    /// <summary>One node per case: op, inputs (name, shape, positive values only), attributes, float32/int64 initializers.</summary>
    private static readonly Dictionary<string, Func<Model>> Cases = new(StringComparer.Ordinal)
    {
        ["Relu"] = () => Unary(N("Relu", new[] { "X" })),
        ["Sigmoid"] = () => Unary(N("Sigmoid", new[] { "X" })),
        ["Tanh"] = () => Unary(N("Tanh", new[] { "X" })),
        ["Exp"] = () => Unary(N("Exp", new[] { "X" })),
        ["Erf"] = () => Unary(N("Erf", new[] { "X" })),
        ["Abs"] = () => Unary(N("Abs", new[] { "X" })),
        ["Neg"] = () => Unary(N("Neg", new[] { "X" })),
        ["LeakyRelu"] = () => Unary(N("LeakyRelu", new[] { "X" }, NodeAttribute.Float("alpha", 0.1f))),
        ["HardSwish"] = () => Unary(N("HardSwish", new[] { "X" })),
        ["Softmax"] = () => Unary(N("Softmax", new[] { "X" }, NodeAttribute.Int("axis", -1))),
        ["LogSoftmax"] = () => Unary(N("LogSoftmax", new[] { "X" }, NodeAttribute.Int("axis", 1))),
        ["ReduceMean"] = () => Unary(N("ReduceMean", new[] { "X" }, NodeAttribute.Ints("axes", 2, 3)), opset: 13),
        ["GlobalAveragePool"] = () => Unary(N("GlobalAveragePool", new[] { "X" })),
        ["MaxPool"] = () => Unary(N("MaxPool", new[] { "X" }, NodeAttribute.Ints("kernel_shape", 3, 3), NodeAttribute.Ints("pads", 1, 1, 1, 1), NodeAttribute.Ints("strides", 2, 2))),
        ["AveragePool"] = () => Unary(N("AveragePool", new[] { "X" }, NodeAttribute.Ints("kernel_shape", 2, 2))),
        ["Add"] = () => Binary("Add", new long[] { 2, 3, 5, 5 }, new long[] { 3, 1, 5 }),
        ["Mul"] = () => Binary("Mul", new long[] { 2, 3, 5, 5 }, new long[] { 5 }),
        ["Div"] = () => Binary("Div", new long[] { 2, 3, 5, 5 }, new long[] { 2, 3, 5, 5 }),
        ["Max"] = () => Binary("Max", new long[] { 2, 3, 5, 5 }, new long[] { 1, 3, 1, 1 }),
        ["MatMul"] = () => Binary("MatMul", new long[] { 2, 7, 33 }, new long[] { 33, 9 }),
        ["Gemm"] = () => TinyModels.Single(N("Gemm", new[] { "A", "B", "C" }, NodeAttribute.Int("transB", 1)),
            new[] { F16("A", 6, 20), F16("B", 8, 20), F16("C", 8) }, new[] { F16Out("Y") }),
        ["Conv"] = () => TinyModels.Single(N("Conv", new[] { "X", "W", "B" }, NodeAttribute.Ints("pads", 1, 1, 1, 1)),
            new[] { F16("X", 1, 3, 6, 6), F16("W", 4, 3, 3, 3), F16("B", 4) }, new[] { F16Out("Y") }),
        ["Conv1d"] = () => TinyModels.Single(N("Conv", new[] { "X", "W" }, NodeAttribute.Ints("strides", 2)),
            new[] { F16("X", 1, 3, 11), F16("W", 4, 3, 3) }, new[] { F16Out("Y") }),
        ["ConvTranspose"] = () => TinyModels.Single(N("ConvTranspose", new[] { "X", "W" }, NodeAttribute.Ints("strides", 2, 2)),
            new[] { F16("X", 1, 3, 4, 4), F16("W", 3, 2, 3, 3) }, new[] { F16Out("Y") }),
        ["BatchNormalization"] = () => TinyModels.Single(N("BatchNormalization", new[] { "X", "S", "B", "M", "V" }),
            new[] { F16("X", 2, 3, 4, 4), F16("S", 3), F16("B", 3), F16("M", 3), F16("V", 3) }, new[] { F16Out("Y") }),
        ["LayerNormalization"] = () => TinyModels.Single(N("LayerNormalization", new[] { "X", "S", "B" }, NodeAttribute.Int("axis", -1)),
            new[] { F16("X", 2, 5, 16), F16("S", 16), F16("B", 16) }, new[] { F16Out("Y") }),
        ["Resize"] = () => TinyModels.Single(N("Resize", new[] { "X", "", "scales" }, NodeAttribute.String("mode", "linear")),
            new[] { F16("X", 1, 2, 4, 5) }, new[] { F16Out("Y") }, 13, AccelTensor.FromArray(1f, 1f, 2f, 1.5f).WithName("scales")),
        ["Pad"] = () => TinyModels.Single(N("Pad", new[] { "X", "pads" }, NodeAttribute.String("mode", "reflect")),
            new[] { F16("X", 1, 2, 4, 5) }, new[] { F16Out("Y") }, 13, AccelTensor.FromArray(0L, 0L, 1L, 2L, 0L, 0L, 2L, 1L).WithName("pads")),
        ["ConstantOfShape"] = () => TinyModels.Single(
            N("ConstantOfShape", new[] { "shape" }, NodeAttribute.FromTensor("value", AccelTensor.Create(new[] { (Half)1.5 }, 1))),
            Array.Empty<ValueInfo>(), new[] { F16Out("Y") }, 17, AccelTensor.FromArray(2L, 3L, 5L).WithName("shape")),
        ["Clip"] = () => TinyModels.Single(N("Clip", new[] { "X", "lo", "hi" }),
            new[] { F16("X", 2, 3, 5, 5), F16("lo"), F16("hi") }, new[] { F16Out("Y") }),
    };

    private static Model Unary(Node node, long opset = 17) =>
        TinyModels.Single(node, new[] { F16("X", 2, 3, 5, 5) }, new[] { F16Out("Y") }, opset);

    private static Model Binary(string op, long[] a, long[] b) =>
        TinyModels.Single(N(op, new[] { "A", "B" }), new[] { F16("A", a), F16("B", b) }, new[] { F16Out("Y") });

    public static IEnumerable<object[]> CaseNames() => Cases.Keys.Select(k => new object[] { k });

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void SingleFloat16OpIsClaimedAndMatchesOnnxRuntime(string name)
    {
        var model = Cases[name]();
        Assert.Empty(GraphPartitioner.Unsupported(model, Shared.Backend, Shared.TestDevice));
        var inputs = new Dictionary<string, AccelTensor>(StringComparer.Ordinal);
        var seed = 11;
        foreach (var input in model.Graph.RequiredInputs)
        {
            // Variances and divisors stay positive; Clip gets min < max.
            var positive = input.Name is "V" || (name == "Div" && input.Name == "B");
            var shape = input.TensorType!.Shape!.Dims.Select(d => d.Value!.Value).ToArray();
            inputs[input.Name] = input.Name switch
            {
                "lo" => AccelTensor.Create(new[] { (Half)(-0.5) }),
                "hi" => AccelTensor.Create(new[] { (Half)0.25 }),
                _ => Half(shape, seed++, positive),
            };
        }
        var (expected, actual) = RunBoth(model, inputs);
        var e = expected[0];
        var a = actual[0];
        Assert.Equal(ElementType.Float16, a.ElementType);
        Assert.Equal(e.ShapeArray, a.ShapeArray);
        double worst = 0;
        for (long i = 0; i < e.ElementCount; i++)
        {
            var (x, r) = (a.GetAsDouble(i), e.GetAsDouble(i));
            var excess = Math.Abs(x - r) - (2e-3 * Math.Abs(r) + 2e-3);
            worst = Math.Max(worst, Math.Abs(x - r));
            Assert.True(excess <= 0, $"{name}: element {i} is {x} on ILGPU, {r} on ORT");
        }
        output.WriteLine($"{name}: {e.ElementCount} float16 elements, max |diff| vs ORT {worst:g3}");
    }

    /// <summary>
    /// BlazeFace (front) and ResNet18 converted to float16 by the SDK's own converter (float32 I/O, Casts at the edges)
    /// run whole on ilgpu-cpu. The tight reference is ORT running the float32 model with every value the converted model
    /// holds in float16 rounded to float16 by Cast pairs (the converted model's semantics with float32 arithmetic per
    /// node): ILGPU within 2e-3 of the largest |output| (measured 2.5e-4 ResNet18, 7e-4..1.4e-3 BlazeFace). Against ORT
    /// on the float16 model and ORT on the float32 original: within 2e-2 (measured ResNet18 1.1e-2 and 1.0e-2, BlazeFace
    /// 7e-4..2.8e-3 and 6e-4..2.5e-3); ORT-fp16 keeps float32 between some nodes, so it is nearer float32 than the model.
    /// </summary>
    [Theory]
    [InlineData("blazeface/face_detection_front_128x128_barracuda.onnx")]
    [InlineData("resnet18/ResNet18.onnx")]
    public void ModelInFloat16MatchesOnnxRuntimeFloat16(string file)
    {
        var original = OnnxImporter.Load(TestSupport.RepoPaths.Model(file));
        var half = Fp16Converter.Convert(original).Model;
        var unsupported = GraphPartitioner.Unsupported(half, Shared.Backend, Shared.TestDevice);
        Assert.True(unsupported.Count == 0, string.Join("\n", unsupported.Select(u => $"{u.Node} [{u.Op}]: {u.Reason}")));
        Assert.Contains(half.Graph.Nodes, n => n.OpType == "Conv" && ShapeInference.Infer(half)[n.Outputs[0]] is TensorType { ElementType: ElementType.Float16 });
        var inputs = SampleInputs.Random(original, seed: 7);
        var (ortHalf, ilgpuHalf) = RunBoth(half, inputs);
        var ortCpu = Ort.Value.Devices.Single(d => d.Id == "ort-cpu");
        using var ortFloat = new AccelSession(GraphPartitioner.WholeModel(original, Ort.Value, ortCpu));
        var reference32 = ortFloat.Run(inputs);
        // The float16 model's semantics computed by ORT in float32: the inputs and every weight and node output that the
        // converted model holds in float16 rounded to float16 (the converter keeps some, e.g. BatchNormalization statistics, in float32).
        var fresh = OnnxImporter.Load(TestSupport.RepoPaths.Model(file));
        var halfTypes = ShapeInference.Infer(half);
        bool IsHalfInConverted(string name) => halfTypes.TryGetValue(name, out var t) && t is TensorType { ElementType: ElementType.Float16 } ||
            half.Graph.FindInitializer(name) is { ElementType: ElementType.Float16 };
        using var ortRounded = new AccelSession(GraphPartitioner.WholeModel(RoundToHalf(fresh, IsHalfInConverted), Ort.Value, ortCpu));
        var roundedReference = ortRounded.Run(inputs);
        const double Tolerance = 2e-2, PerNodeTolerance = 2e-3;
        var failures = new List<string?>();
        for (var o = 0; o < ortHalf.Count; o++)
        {
            var (diff, scale) = ModelTests.Compare(ilgpuHalf[o], ortHalf[o]);
            var (ortError, scale32) = ModelTests.Compare(ortHalf[o], reference32[o]);
            var (ilgpuError, _) = ModelTests.Compare(ilgpuHalf[o], reference32[o]);
            var (perNodeDiff, perNodeScale) = ModelTests.Compare(ilgpuHalf[o], roundedReference[o]);
            output.WriteLine($"output {o}: ILGPU-fp16 vs ORT-fp16 {diff / scale:g3} relative; vs ORT-fp32: ILGPU-fp16 {ilgpuError / scale32:g3}, " +
                $"ORT-fp16 {ortError / scale32:g3}; ILGPU-fp16 vs ORT-fp32 rounding the float16 values {perNodeDiff / perNodeScale:g3}");
            failures.Add(perNodeDiff <= PerNodeTolerance * perNodeScale ? null : $"output {o}: ILGPU-fp16 is {perNodeDiff / perNodeScale:g3} of max |ref| from per-node-rounded ORT");
            failures.Add(diff <= Tolerance * scale ? null : $"output {o}: max |diff| vs ORT-fp16 {diff} is {diff / scale:g3} of max |ref| {scale}");
            failures.Add(ilgpuError <= Tolerance * scale32 ? null : $"output {o}: ILGPU's float16 result is {ilgpuError / scale32:g3} of max |ref| away from float32");
        }
        Assert.True(failures.All(f => f is null), string.Join("\n", failures.Where(f => f is not null)));
    }

    /// <summary>
    /// <paramref name="model"/> (modified) with its float32 inputs and every float32 initializer and node output that
    /// <paramref name="round"/> names rounded to float16: initializers in place, values by Cast pairs.
    /// </summary>
    internal static Model RoundToHalf(Model model, Func<string, bool> round)
    {
        var types = ShapeInference.Infer(model);
        var graph = model.Graph;
        for (var i = 0; i < graph.Initializers.Count; i++)
        {
            var t = graph.Initializers[i];
            if (t.ElementType != ElementType.Float32 || !round(t.Name!)) continue;
            // Clamped to the finite float16 range as Fp16Converter does (ResNet18 has two infinite BatchNormalization variances).
            var rounded = t.AsSpan<float>().ToArray().Select(v => (float)(Half)Math.Clamp(v, -65504f, 65504f)).ToArray();
            graph.Initializers[i] = AccelTensor.Create(rounded, t.ShapeArray).WithName(t.Name);
        }
        var nodes = new List<Node>();
        var counter = 0;
        void RoundInto(string from, string to)
        {
            var half = $"{to}__half{counter++}";
            var down = new Node("Cast", new[] { from }, new[] { half }, half + "_down");
            down.Attributes.Add(NodeAttribute.Int("to", (long)ElementType.Float16));
            var up = new Node("Cast", new[] { half }, new[] { to }, half + "_up");
            up.Attributes.Add(NodeAttribute.Int("to", (long)ElementType.Float32));
            nodes.Add(down);
            nodes.Add(up);
        }
        bool IsFloat(string name) => types.TryGetValue(name, out var t) && t is TensorType { ElementType: ElementType.Float32 };
        var renamedInputs = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var input in graph.RequiredInputs.Where(v => IsFloat(v.Name)))
        {
            var rounded = input.Name + "__rounded";
            RoundInto(input.Name, rounded);
            renamedInputs[input.Name] = rounded;
        }
        foreach (var node in graph.Nodes)
        {
            for (var i = 0; i < node.Inputs.Count; i++)
            {
                if (renamedInputs.TryGetValue(node.Inputs[i], out var r)) node.Inputs[i] = r;
            }
            nodes.Add(node);
            for (var o = 0; o < node.Outputs.Count; o++)
            {
                if (!IsFloat(node.Outputs[o]) || !round(node.Outputs[o])) continue;
                var original = node.Outputs[o];
                node.Outputs[o] = original + "__raw";
                RoundInto(node.Outputs[o], original);
            }
        }
        graph.Nodes.Clear();
        graph.Nodes.AddRange(nodes);
        return model;
    }

    [Fact]
    public void Float32ToFloat16RoundsToNearestEvenLikeSystemHalf()
    {
        var cast = new Node("Cast", new[] { "X" }, new[] { "Y" }, "cast");
        cast.Attributes.Add(NodeAttribute.Int("to", (long)ElementType.Float16));
        var model = TinyModels.Single(cast, new[] { TinyModels.F32("X", 4096) }, new[] { F16Out("Y") });
        var random = new Random(3);
        var x = Enumerable.Range(0, 4096).Select(i => (float)((random.NextDouble() * 2 - 1) * Math.Pow(2, random.Next(-20, 17)))).ToArray();
        // Ties, subnormals, overflow, NaN and infinities.
        x[0] = 1f + 1f / 2048; x[1] = 1f + 3f / 2048; x[2] = 6.1e-6f; x[3] = 70000f; x[4] = float.NaN; x[5] = float.NegativeInfinity; x[6] = 65519.99f; x[7] = -2.98e-8f;
        using var session = new AccelSession(GraphPartitioner.WholeModel(model, Shared.Backend, Shared.TestDevice));
        var y = session.Run(AccelTensor.Create(x, 4096))[0].AsSpan<Half>().ToArray();
        var wrong = Enumerable.Range(0, x.Length).Where(i => !((Half)x[i]).Equals(y[i])).ToArray();
        Assert.True(wrong.Length == 0, $"{wrong.Length} of {x.Length} differ from System.Half, e.g. {string.Join(", ", wrong.Take(5).Select(i => $"{x[i]:R} -> {y[i]} (expected {(Half)x[i]})"))}");
    }

    [Fact]
    public void Float16ToFloat32IsExactForEveryBitPattern()
    {
        var cast = new Node("Cast", new[] { "X" }, new[] { "Y" }, "cast");
        cast.Attributes.Add(NodeAttribute.Int("to", (long)ElementType.Float32));
        var model = TinyModels.Single(cast, new[] { F16("X", 65536) }, new[] { TinyModels.F32("Y", 65536) });
        var x = Enumerable.Range(0, 65536).Select(i => BitConverter.UInt16BitsToHalf((ushort)i)).ToArray();
        using var session = new AccelSession(GraphPartitioner.WholeModel(model, Shared.Backend, Shared.TestDevice));
        var y = session.Run(AccelTensor.Create(x, 65536))[0].AsSpan<float>().ToArray();
        var wrong = Enumerable.Range(0, x.Length).Where(i => !((float)x[i]).Equals(y[i])).ToArray();
        Assert.True(wrong.Length == 0, $"{wrong.Length} differ, e.g. {string.Join(", ", wrong.Take(5).Select(i => $"{x[i]} -> {y[i]:R}"))}");
    }

    [Fact]
    public void Float16NextToFloat32IsRefusedWithTheReason()
    {
        var model = TinyModels.Single(N("Add", new[] { "A", "B" }), new[] { F16("A", 4), TinyModels.F32("B", 4) }, new[] { F16Out("Y") });
        var (_, _, reason) = Assert.Single(GraphPartitioner.Unsupported(model, Shared.Backend, Shared.Cpu));
        Assert.Contains("input 1 is float32 next to float16 input 0", reason);

        var layerNorm = new Node("LayerNormalization", new[] { "X", "S" }, new[] { "Y", "Mean" }, "ln");
        model = TinyModels.Single(layerNorm, new[] { F16("X", 2, 4), F16("S", 4) },
            new[] { F16Out("Y"), new ValueInfo("Mean", new TensorType(ElementType.Float32, null)) });
        Assert.Contains("output 1 of a float16 LayerNormalization", Assert.Single(GraphPartitioner.Unsupported(model, Shared.Backend, Shared.Cpu)).Reason);
    }

    private static (RunResult Ort, RunResult Ilgpu) RunBoth(Model model, IReadOnlyDictionary<string, AccelTensor> inputs)
    {
        using var reference = new AccelSession(GraphPartitioner.WholeModel(model, Ort.Value, Ort.Value.Devices.Single(d => d.Id == "ort-cpu")));
        using var session = new AccelSession(GraphPartitioner.WholeModel(model, Shared.Backend, Shared.TestDevice));
        return (reference.Run(inputs), session.Run(inputs));
    }
}
