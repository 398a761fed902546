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
    };

    public static NodeSupport Supports(Node node, NodeContext context)
    {
        if (node.EffectiveDomain != "ai.onnx") return NodeSupport.No($"domain '{node.Domain}' is not supported by the ILGPU backend");
        if (!Table.TryGetValue(node.OpType, out var def)) return NodeSupport.No($"op {node.OpType} is not implemented by the ILGPU backend");
        var opset = context.OpsetOf(node);
        if (MinimumOpset.TryGetValue(node.OpType, out var minimum) && opset < minimum)
        {
            return NodeSupport.No($"{node.OpType} before opset {minimum} (this model: {opset}) has a different signature that is not implemented");
        }
        return def.Check(node, context);
    }

    public static void Prepare(OpContext ctx)
    {
        if (Table.TryGetValue(ctx.Node.OpType, out var def)) def.Prepare(ctx);
    }

    public static IlgpuTensor?[] Run(OpContext ctx, IlgpuTensor?[] inputs)
    {
        if (!Table.TryGetValue(ctx.Node.OpType, out var def)) throw ctx.Fail("op is not implemented by the ILGPU backend");
        return def.Run(ctx, inputs);
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

    internal static int Count(OpContext ctx, long[] shape) => OpContext.ToInt(Tensor.CountElements(shape), "element count", ctx);

    internal static void CheckRank(OpContext ctx, IlgpuTensor t, string what)
    {
        if (t.Shape.Length > Kernels.Dims6.MaxRank) throw ctx.Fail($"{what} has rank {t.Shape.Length}; the ILGPU kernels handle rank <= {Kernels.Dims6.MaxRank}");
    }
}
