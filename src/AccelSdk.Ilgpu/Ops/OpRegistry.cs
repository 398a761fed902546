using AccelSdk.Backends;
using AccelSdk.Ilgpu.Runtime;
using AccelSdk.Ir;

namespace AccelSdk.Ilgpu.Ops;

/// <summary>How one ONNX operator is checked, prepared (kernels compiled) and run.</summary>
/// <param name="OpType">ONNX op type (default domain).</param>
/// <param name="Check">The exact capability answer for a node.</param>
/// <param name="Run">Runs the node on accelerator tensors; returns its outputs in order.</param>
/// <param name="Prepare">Compiles the kernels the node will launch.</param>
internal sealed record OpDefinition(
    string OpType,
    Func<Node, NodeContext, NodeSupport> Check,
    Func<OpContext, IlgpuTensor?[], IlgpuTensor?[]> Run,
    Action<OpContext> Prepare);

/// <summary>
/// The operator table of the ILGPU backend. A node is claimed only when its op, opset, element types, attributes and
/// (where known) shapes are ones the kernels compute exactly as ONNX specifies.
/// </summary>
internal static partial class OpRegistry
{
    // Lazy: the op tables the builder reads live in other parts of this partial class, whose static initialisers
    // have no defined order relative to this one.
    private static readonly Lazy<Dictionary<string, OpDefinition>> LazyTable = new(Build);

    private static Dictionary<string, OpDefinition> Table => LazyTable.Value;

    public static IReadOnlyCollection<string> OpTypes => Table.Keys;

    /// <summary>Ops whose early opsets take inputs as attributes or differ otherwise from what is implemented.</summary>
    private static readonly Dictionary<string, long> MinimumOpset = new(StringComparer.Ordinal)
    {
        ["Reshape"] = 5, ["Pad"] = 2, ["Split"] = 2, ["BatchNormalization"] = 7, ["Cast"] = 6, ["Gemm"] = 6, ["Upsample"] = 9,
        ["Clip"] = 6, ["Resize"] = 11, ["Sum"] = 6, ["Max"] = 6, ["Min"] = 6, ["Concat"] = 4, ["Gather"] = 1,
        // PRelu before opset 7 applied the slope along axis 1 instead of broadcasting it from the right.
        ["PRelu"] = 7,
    };

    /// <summary>
    /// Operators that take float16 data by converting every float16 input to float32 on the accelerator, running the
    /// float32 kernel and rounding output 0 back to float16 once (ONNX Runtime's CPU EP does the same through inserted
    /// Casts). Data-movement ops need no conversion: they move float16 bits as they are.
    /// </summary>
    private static readonly Lazy<HashSet<string>> LazyHalfViaFloat = new(() =>
    {
        var ops = new HashSet<string>(StringComparer.Ordinal)
        {
            "Clip", "Sum", "Max", "Min", "MatMul", "Gemm", "Conv", "ConvTranspose", "MaxPool", "AveragePool", "GlobalAveragePool",
            "GlobalMaxPool", "BatchNormalization", "Softmax", "LogSoftmax", "LayerNormalization", "Pad", "Resize",
        };
        ops.UnionWith(UnaryOps!.Keys);
        ops.UnionWith(BinaryOps!.Keys);
        ops.UnionWith(CompareOps!.Keys);
        ops.UnionWith(ReduceOps!.Keys);
        return ops;
    });

    /// <summary>Inputs of float16 nodes that ONNX lets be float32 (or another float type) next to float16 data.</summary>
    private static readonly Dictionary<string, int[]> OtherFloatTypeInputs = new(StringComparer.Ordinal)
    {
        ["Pow"] = new[] { 1 }, ["Resize"] = new[] { 1, 2 }, ["BatchNormalization"] = new[] { 1, 2, 3, 4 },
    };

    /// <summary>Whether <paramref name="op"/> runs float16 data through its float32 kernel.</summary>
    internal static bool ComputesHalfInFloat(string op) => LazyHalfViaFloat.Value.Contains(op);

    /// <summary>
    /// The capability answer for <paramref name="node"/>. Never throws: a node the checks cannot read (missing inputs or
    /// type information, attributes of the wrong kind) is answered "unsupported" with the reason.
    /// </summary>
    public static NodeSupport Supports(Node node, NodeContext context)
    {
        try
        {
            if (node.EffectiveDomain == "ai.onnx" && ComputesHalfInFloat(node.OpType) && TypeOf(node, context, 0) == ElementType.Float16)
            {
                return SupportsHalf(node, context);
            }
            return SupportsAsIs(node, context);
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or IndexOutOfRangeException or NullReferenceException
                                      or OverflowException or InvalidCastException or KeyNotFoundException)
        {
            // A safety net for what the explicit checks below miss: an answer, not an exception, is the contract.
            return NodeSupport.No($"the ILGPU backend cannot read this {node.OpType} node ({e.GetType().Name}: {e.Message})");
        }
    }

    /// <summary>
    /// A float16 node is claimed when the same node with float32 in place of float16 is, every other float input is
    /// float16 too (unless ONNX allows another type there) and only output 0 is used.
    /// </summary>
    private static NodeSupport SupportsHalf(Node node, NodeContext context)
    {
        var otherTypes = OtherFloatTypeInputs.GetValueOrDefault(node.OpType) ?? Array.Empty<int>();
        for (var i = 1; i < node.Inputs.Count; i++)
        {
            if (!HasInput(node, i) || Array.IndexOf(otherTypes, i) >= 0) continue;
            if (TypeOf(node, context, i) is ElementType.Float32 or ElementType.Float64 or ElementType.BFloat16)
            {
                return NodeSupport.No($"input {i} is {TypeOf(node, context, i)!.Value.ShortName()} next to float16 input 0");
            }
        }
        for (var o = 1; o < node.Outputs.Count; o++)
        {
            if (node.Outputs[o].Length > 0) return NodeSupport.No($"output {o} of a float16 {node.OpType} is not produced by the ILGPU backend");
        }
        var asFloat = new Dictionary<string, Ir.ValueType>(StringComparer.Ordinal);
        foreach (var name in node.Inputs.Concat(node.Outputs))
        {
            if (context.TensorTypeOf(name) is not { } t) continue;
            asFloat[name] = t.ElementType == ElementType.Float16 ? t with { ElementType = ElementType.Float32 } : t;
        }
        var support = SupportsAsIs(node, context with { Types = asFloat });
        return support.IsSupported ? support : NodeSupport.No($"{support.Reason} (float16 is computed with the float32 kernel)");
    }

    private static NodeSupport SupportsAsIs(Node node, NodeContext context)
    {
        if (node.EffectiveDomain != "ai.onnx") return NodeSupport.No($"domain '{node.Domain}' is not supported by the ILGPU backend");
        if (!Table.TryGetValue(node.OpType, out var def)) return NodeSupport.No($"op {node.OpType} is not implemented by the ILGPU backend");
        var opset = context.OpsetOf(node);
        if (MinimumOpset.TryGetValue(node.OpType, out var minimum) && opset < minimum)
        {
            return NodeSupport.No($"{node.OpType} before opset {minimum} (this model: {opset}) has a different signature that is not implemented");
        }
        var structure = All(RequiredInputsPresent(node, opset), AttributeKindsMatch(node));
        return structure.IsSupported ? def.Check(node, context) : structure;
    }

    /// <summary>Inputs ONNX requires (by position), for ops whose count differs from 1; opset-dependent ones by opset.</summary>
    private static int RequiredInputCount(string op, long opset) => op switch
    {
        "Constant" => 0,
        "Where" => 3,
        "BatchNormalization" => 5,
        "Slice" => opset >= 10 ? 3 : 1,
        "Unsqueeze" => opset >= 13 ? 2 : 1,
        "Pad" => opset >= 11 ? 2 : 1,
        "Reshape" or "Expand" or "Gather" or "MatMul" or "Gemm" or "Conv" or "ConvTranspose" or "LayerNormalization" => 2,
        _ when BinaryOps.ContainsKey(op) || CompareOps.ContainsKey(op) => 2,
        _ => 1,
    };

    private static NodeSupport RequiredInputsPresent(Node node, long opset)
    {
        var required = RequiredInputCount(node.OpType, opset);
        for (var i = 0; i < required; i++)
        {
            if (!HasInput(node, i)) return NodeSupport.No($"required input {i} of {node.OpType} is missing");
        }
        if (node.OpType == "Resize" && !HasInput(node, 2) && !HasInput(node, 3)) return NodeSupport.No("Resize needs its scales or sizes input");
        return NodeSupport.Yes;
    }

    /// <summary>The kind ONNX gives each attribute the kernels read (the <c>value*</c> ones by op, in <see cref="ExpectedKind"/>).</summary>
    private static readonly Dictionary<string, AttributeKind> AttributeKinds = BuildAttributeKinds();

    private static Dictionary<string, AttributeKind> BuildAttributeKinds()
    {
        var kinds = new Dictionary<string, AttributeKind>(StringComparer.Ordinal);
        foreach (var name in new[]
                 {
                     "axis", "keepdims", "to", "group", "transA", "transB", "ceil_mode", "count_include_pad", "storage_order", "allowzero",
                     "noop_with_empty_axes", "training_mode", "spatial", "stash_type", "exclude_outside", "antialias", "start", "end",
                     "num_outputs", "broadcast",
                 })
        {
            kinds[name] = AttributeKind.Int;
        }
        foreach (var name in new[] { "alpha", "beta", "gamma", "epsilon", "min", "max", "cubic_coeff_a", "extrapolation_value", "momentum" })
        {
            kinds[name] = AttributeKind.Float;
        }
        foreach (var name in new[] { "mode", "auto_pad", "coordinate_transformation_mode", "nearest_mode", "keep_aspect_ratio_policy" })
        {
            kinds[name] = AttributeKind.String;
        }
        foreach (var name in new[] { "kernel_shape", "strides", "dilations", "pads", "perm", "axes", "output_padding", "output_shape", "split", "starts", "ends" })
        {
            kinds[name] = AttributeKind.Ints;
        }
        return kinds;
    }

    private static NodeSupport AttributeKindsMatch(Node node)
    {
        foreach (var attribute in node.Attributes)
        {
            if (ExpectedKind(node.OpType, attribute.Name) is { } expected && attribute.Kind != expected)
            {
                return NodeSupport.No($"attribute '{attribute.Name}' is of kind {attribute.Kind}; ONNX defines it as {expected}");
            }
        }
        return NodeSupport.Yes;
    }

    private static AttributeKind? ExpectedKind(string op, string attribute) => (op, attribute) switch
    {
        ("Pad", "value") => AttributeKind.Float,
        (_, "value") => AttributeKind.Tensor,
        (_, "value_float") => AttributeKind.Float,
        (_, "value_floats") => AttributeKind.Floats,
        (_, "value_int") => AttributeKind.Int,
        (_, "value_ints") => AttributeKind.Ints,
        _ => AttributeKinds.TryGetValue(attribute, out var kind) ? kind : null,
    };

    public static void Prepare(OpContext ctx)
    {
        if (Table.TryGetValue(ctx.Node.OpType, out var def)) def.Prepare(ctx);
    }

    public static IlgpuTensor?[] Run(OpContext ctx, IlgpuTensor?[] inputs)
    {
        if (!Table.TryGetValue(ctx.Node.OpType, out var def)) throw ctx.Fail("op is not implemented by the ILGPU backend");
        if (inputs.Length > 0 && inputs[0]?.ElementType == ElementType.Float16 && ComputesHalfInFloat(ctx.Node.OpType)) return RunHalfInFloat(ctx, def, inputs);
        return def.Run(ctx, inputs);
    }

    /// <summary>Float16 data through a float32 kernel: widen the float16 inputs, run, round output 0 back to float16.</summary>
    private static IlgpuTensor?[] RunHalfInFloat(OpContext ctx, OpDefinition def, IlgpuTensor?[] inputs)
    {
        var widened = new IlgpuTensor?[inputs.Length];
        try
        {
            for (var i = 0; i < inputs.Length; i++)
            {
                widened[i] = inputs[i] is { ElementType: ElementType.Float16 } h ? ConvertFloat(ctx, h, ElementType.Float32) : null;
            }
            var outputs = def.Run(ctx, inputs.Select((t, i) => widened[i] ?? t).ToArray());
            if (outputs.Length > 0 && outputs[0] is { ElementType: ElementType.Float32 } y)
            {
                try
                {
                    outputs[0] = ConvertFloat(ctx, y, ElementType.Float16);
                }
                finally
                {
                    y.Dispose();
                }
            }
            return outputs;
        }
        finally
        {
            foreach (var w in widened) w?.Dispose();
        }
    }

    /// <summary>float16 to float32 or back (round to nearest even) on the accelerator.</summary>
    internal static IlgpuTensor ConvertFloat(OpContext ctx, IlgpuTensor x, ElementType to)
    {
        var y = ctx.Alloc(to, x.Shape);
        var n = Count(ctx, x.Shape);
        if (n == 0) return y;
        var k = ctx.Kernels;
        if (to == ElementType.Float32) k.Cast<ILGPU.Half, float>(Kernels.ElementwiseKernels.CastHalfToFloat)(n, x.View<ILGPU.Half>(), y.View<float>());
        else k.Cast<float, ILGPU.Half>(Kernels.ElementwiseKernels.CastFloatToHalf)(n, x.View<float>(), y.View<ILGPU.Half>());
        return y;
    }

    /// <summary>Compiles the float16 conversion kernels (partitions that carry float16 data).</summary>
    public static void PrepareHalf(OpContext ctx)
    {
        _ = ctx.Kernels.Cast<ILGPU.Half, float>(Kernels.ElementwiseKernels.CastHalfToFloat);
        _ = ctx.Kernels.Cast<float, ILGPU.Half>(Kernels.ElementwiseKernels.CastFloatToHalf);
    }

    private static Dictionary<string, OpDefinition> Build()
    {
        var table = new Dictionary<string, OpDefinition>(StringComparer.Ordinal);
        void Add(string op, Func<Node, NodeContext, NodeSupport> check, Func<OpContext, IlgpuTensor?[], IlgpuTensor?[]> run, Action<OpContext> prepare) =>
            table[op] = new OpDefinition(op, check, run, prepare);
        RegisterElementwise(Add);
        RegisterLinear(Add);
        RegisterPooling(Add);
        RegisterNormalization(Add);
        RegisterShapeOps(Add);
        return table;
    }

    // ---- capability helpers ----

    internal static ElementType? TypeOf(Node node, NodeContext ctx, int input) =>
        input < node.Inputs.Count ? ctx.TensorTypeOf(node.Inputs[input])?.ElementType : null;

    internal static int? RankOf(Node node, NodeContext ctx, int input) =>
        input < node.Inputs.Count ? ctx.TensorTypeOf(node.Inputs[input])?.Shape?.Rank : null;

    internal static bool HasInput(Node node, int input) => input < node.Inputs.Count && node.Inputs[input].Length > 0;

    internal static NodeSupport RequireType(Node node, NodeContext ctx, int input, params ElementType[] allowed)
    {
        if (!HasInput(node, input)) return NodeSupport.Yes;
        var type = TypeOf(node, ctx, input);
        if (type is null) return NodeSupport.No($"the element type of input {input} ('{node.Inputs[input]}') is unknown");
        if (Array.IndexOf(allowed, type.Value) < 0)
        {
            return NodeSupport.No($"input {input} is {type.Value.ShortName()}; the ILGPU kernels take {string.Join("/", allowed.Select(a => a.ShortName()))}");
        }
        return NodeSupport.Yes;
    }

    internal static NodeSupport All(params NodeSupport[] checks)
    {
        foreach (var c in checks)
        {
            if (!c.IsSupported) return c;
        }
        return NodeSupport.Yes;
    }

    internal static NodeSupport Float32Inputs(Node node, NodeContext ctx, int count)
    {
        for (var i = 0; i < Math.Min(count, node.Inputs.Count); i++)
        {
            var r = RequireType(node, ctx, i, ElementType.Float32);
            if (!r.IsSupported) return r;
        }
        return NodeSupport.Yes;
    }

    internal static NodeSupport MaxRank(Node node, NodeContext ctx, int input, int max)
    {
        var rank = RankOf(node, ctx, input);
        return rank is { } r && r > max ? NodeSupport.No($"input {input} has rank {r}; the ILGPU kernels handle rank <= {max}") : NodeSupport.Yes;
    }

    internal static NodeSupport OutputCount(Node node, int max)
    {
        var used = node.Outputs.Count(o => o.Length > 0);
        for (var i = max; i < node.Outputs.Count; i++)
        {
            if (node.Outputs[i].Length > 0) return NodeSupport.No($"output {i} ('{node.Outputs[i]}') is not produced by the ILGPU backend");
        }
        return used == 0 ? NodeSupport.No("the node has no output") : NodeSupport.Yes;
    }

    internal static readonly ElementType[] MovableTypes =
    {
        ElementType.Float32, ElementType.Float16, ElementType.BFloat16, ElementType.Float64, ElementType.Int64, ElementType.Int32,
        ElementType.Int16, ElementType.Int8, ElementType.UInt8, ElementType.UInt16, ElementType.UInt32, ElementType.UInt64, ElementType.Bool,
    };

    // ---- run helpers ----

    internal static long[] Strides(ReadOnlySpan<long> shape)
    {
        var s = new long[shape.Length];
        long acc = 1;
        for (var i = shape.Length - 1; i >= 0; i--)
        {
            s[i] = acc;
            acc *= shape[i];
        }
        return s;
    }

    internal static int NormalizeAxis(OpContext ctx, long axis, int rank, string what = "axis")
    {
        if (axis < -rank || axis >= rank) throw ctx.Fail($"{what} {axis} is out of range for rank {rank}");
        return (int)(axis < 0 ? axis + rank : axis);
    }

    internal static int Count(OpContext ctx, long[] shape) => OpContext.ToInt(AccelTensor.CountElements(shape), "element count", ctx);

    internal static void CheckRank(OpContext ctx, IlgpuTensor t, string what)
    {
        if (t.Shape.Length > Kernels.Dims6.MaxRank) throw ctx.Fail($"{what} has rank {t.Shape.Length}; the ILGPU kernels handle rank <= {Kernels.Dims6.MaxRank}");
    }
}
