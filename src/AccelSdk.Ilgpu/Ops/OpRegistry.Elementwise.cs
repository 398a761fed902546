using AccelSdk.Backends;
using AccelSdk.Ilgpu.Kernels;
using AccelSdk.Ilgpu.Runtime;
using AccelSdk.Ir;

namespace AccelSdk.Ilgpu.Ops;

internal static partial class OpRegistry
{
    private static readonly Dictionary<string, UnaryOp> UnaryOps = new(StringComparer.Ordinal)
    {
        ["Relu"] = UnaryOp.Relu, ["LeakyRelu"] = UnaryOp.LeakyRelu, ["Sigmoid"] = UnaryOp.Sigmoid,
        ["HardSigmoid"] = UnaryOp.HardSigmoid, ["HardSwish"] = UnaryOp.HardSwish, ["Tanh"] = UnaryOp.Tanh, ["Elu"] = UnaryOp.Elu,
        ["Selu"] = UnaryOp.Selu, ["Softplus"] = UnaryOp.Softplus, ["Erf"] = UnaryOp.Erf, ["Exp"] = UnaryOp.Exp, ["Log"] = UnaryOp.Log,
        ["Sqrt"] = UnaryOp.Sqrt, ["Neg"] = UnaryOp.Neg, ["Abs"] = UnaryOp.Abs, ["Reciprocal"] = UnaryOp.Reciprocal,
        ["Floor"] = UnaryOp.Floor, ["Ceil"] = UnaryOp.Ceil, ["Softsign"] = UnaryOp.Softsign, ["Sin"] = UnaryOp.Sin, ["Cos"] = UnaryOp.Cos,
    };

    private static readonly Dictionary<string, BinaryOp> BinaryOps = new(StringComparer.Ordinal)
    {
        ["Add"] = BinaryOp.Add, ["Sub"] = BinaryOp.Sub, ["Mul"] = BinaryOp.Mul, ["Div"] = BinaryOp.Div, ["Pow"] = BinaryOp.Pow,
        ["PRelu"] = BinaryOp.PRelu,
    };

    private static readonly Dictionary<string, CompareOp> CompareOps = new(StringComparer.Ordinal)
    {
        ["Equal"] = CompareOp.Equal, ["Greater"] = CompareOp.Greater, ["Less"] = CompareOp.Less,
        ["GreaterOrEqual"] = CompareOp.GreaterOrEqual, ["LessOrEqual"] = CompareOp.LessOrEqual,
    };

    private static void RegisterElementwise(Action<string, Func<Node, NodeContext, NodeSupport>, Func<OpContext, IlgpuTensor?[], IlgpuTensor?[]>, Action<OpContext>> add)
    {
        foreach (var (name, op) in UnaryOps)
        {
            var integerToo = op is UnaryOp.Abs or UnaryOp.Neg;
            add(name, (n, c) => All(OutputCount(n, 1), integerToo ? RequireType(n, c, 0, IntegerArithmeticTypes) : RequireType(n, c, 0, ElementType.Float32)),
                (ctx, ins) => new[] { RunUnary(ctx, ctx.Input(ins, 0), op, UnaryAttributes(ctx.Node, op)) },
                ctx => { _ = ctx.Kernels.Unary; if (integerToo) { _ = ctx.Kernels.TypedUnary<long>("UnaryInt64", ElementwiseKernels.UnaryInt64); _ = ctx.Kernels.TypedUnary<int>("UnaryInt32", ElementwiseKernels.UnaryInt32); } });
        }
        add("Clip", (n, c) => All(OutputCount(n, 1), Float32Inputs(n, c, 3)), RunClip, ctx => _ = ctx.Kernels.Unary);
        foreach (var (name, op) in BinaryOps)
        {
            var integerToo = op is not BinaryOp.PRelu;
            add(name, (n, c) => All(OutputCount(n, 1),
                    op == BinaryOp.Pow ? CheckPowTypes(n, c) : integerToo ? All(RequireType(n, c, 0, IntegerArithmeticTypes), SameType(n, c)) : Float32Inputs(n, c, 2),
                    MaxRank(n, c, 0, 6), MaxRank(n, c, 1, 6), LegacyBroadcast(n)),
                (ctx, ins) => new[] { RunBinary(ctx, ctx.Input(ins, 0), ctx.Input(ins, 1), op) },
                ctx =>
                {
                    _ = ctx.Kernels.Binary;
                    if (integerToo) { _ = ctx.Kernels.BinaryInt64; _ = ctx.Kernels.BinaryInt32; }
                    if (op == BinaryOp.Pow) PreparePowMixed(ctx.Kernels);
                });
        }
        foreach (var (name, op) in new[] { ("Sum", BinaryOp.Add), ("Max", BinaryOp.Max), ("Min", BinaryOp.Min) })
        {
            add(name, (n, c) => All(OutputCount(n, 1), n.Inputs.Count == 0 ? NodeSupport.No("no inputs") : NodeSupport.Yes, SameTypeAll(n, c, IntegerArithmeticTypes)),
                (ctx, ins) => new[] { RunVariadic(ctx, ins, op) }, ctx => { _ = ctx.Kernels.Binary; _ = ctx.Kernels.StridedCopy<int>(); });
        }
        foreach (var (name, op) in CompareOps)
        {
            add(name, (n, c) => All(OutputCount(n, 1), RequireType(n, c, 0, ElementType.Float32, ElementType.Int64, ElementType.Int32),
                    SameType(n, c), MaxRank(n, c, 0, 6), MaxRank(n, c, 1, 6)),
                (ctx, ins) => new[] { RunCompare(ctx, ctx.Input(ins, 0), ctx.Input(ins, 1), op) },
                ctx => { _ = ctx.Kernels.Compare; _ = ctx.Kernels.CompareInt64; _ = ctx.Kernels.CompareInt32; });
        }
        add("Where", (n, c) => All(OutputCount(n, 1), RequireType(n, c, 0, ElementType.Bool), RequireType(n, c, 1, MovableTypes), SameType(n, c, 1, 2)),
            (ctx, ins) => new[] { RunWhere(ctx, ctx.Input(ins, 0), ctx.Input(ins, 1), ctx.Input(ins, 2)) }, _ => { });
        add("Cast", CheckCast, (ctx, ins) => new[] { RunCast(ctx, ctx.Input(ins, 0)) }, _ => { });
    }

    private static NodeSupport LegacyBroadcast(Node node) =>
        node.Attribute("broadcast") is not null || node.Attribute("axis") is not null
            ? NodeSupport.No("the legacy broadcast/axis attributes (opset < 7) are not supported")
            : NodeSupport.Yes;

    /// <summary>Element types of the arithmetic kernels: float32 compute, int64/int32 with ONNX integer semantics.</summary>
    private static readonly ElementType[] IntegerArithmeticTypes = { ElementType.Float32, ElementType.Int64, ElementType.Int32 };

    /// <summary>Every (present) input has the same element type, one of <paramref name="allowed"/>.</summary>
    private static NodeSupport SameTypeAll(Node node, NodeContext ctx, ElementType[] allowed)
    {
        for (var i = 0; i < node.Inputs.Count; i++)
        {
            var r = All(RequireType(node, ctx, i, allowed), HasInput(node, i) ? SameType(node, ctx, 0, i) : NodeSupport.Yes);
            if (!r.IsSupported) return r;
        }
        return NodeSupport.Yes;
    }

    /// <summary>Pow: base float32/int64/int32 with an exponent of the same type, or float32 with an integer exponent, or an integer base with a float32 exponent.</summary>
    private static NodeSupport CheckPowTypes(Node node, NodeContext ctx)
    {
        var r = All(RequireType(node, ctx, 0, IntegerArithmeticTypes), RequireType(node, ctx, 1, IntegerArithmeticTypes));
        if (!r.IsSupported) return r;
        if (TypeOf(node, ctx, 0) is not { } a || TypeOf(node, ctx, 1) is not { } b) return NodeSupport.No("Pow needs both its base and exponent inputs with known element types");
        if (a == b || a == ElementType.Float32 || b == ElementType.Float32) return NodeSupport.Yes;
        return NodeSupport.No($"Pow of {a.ShortName()} by {b.ShortName()} has no ILGPU kernel");
    }

    private static void PreparePowMixed(KernelSet k)
    {
        _ = k.Broadcast<float, long, float>("PowFloatInt64", ElementwiseKernels.PowFloatInt64);
        _ = k.Broadcast<float, int, float>("PowFloatInt32", ElementwiseKernels.PowFloatInt32);
        _ = k.Broadcast<long, float, long>("PowInt64Float", ElementwiseKernels.PowInt64Float);
        _ = k.Broadcast<int, float, int>("PowInt32Float", ElementwiseKernels.PowInt32Float);
    }

    private static NodeSupport SameType(Node node, NodeContext ctx, int a = 0, int b = 1)
    {
        var ta = TypeOf(node, ctx, a);
        var tb = TypeOf(node, ctx, b);
        if (ta is null || tb is null) return NodeSupport.No("input element types are unknown");
        return ta == tb ? NodeSupport.Yes : NodeSupport.No($"inputs differ in element type ({ta.Value.ShortName()} vs {tb.Value.ShortName()})");
    }

    private static UnaryParams UnaryAttributes(Node node, UnaryOp op) => op switch
    {
        UnaryOp.LeakyRelu => new UnaryParams { Op = (int)op, Alpha = node.GetFloat("alpha", 0.01f) },
        UnaryOp.HardSigmoid => new UnaryParams { Op = (int)op, Alpha = node.GetFloat("alpha", 0.2f), Beta = node.GetFloat("beta", 0.5f) },
        UnaryOp.Elu => new UnaryParams { Op = (int)op, Alpha = node.GetFloat("alpha", 1f) },
        UnaryOp.Selu => new UnaryParams { Op = (int)op, Alpha = node.GetFloat("alpha", 1.67326319217681884765625f), Beta = node.GetFloat("gamma", 1.05070102214813232421875f) },
        _ => new UnaryParams { Op = (int)op },
    };

    internal static IlgpuTensor RunUnary(OpContext ctx, IlgpuTensor x, UnaryOp op, UnaryParams p)
    {
        p.Op = (int)op;
        var y = ctx.Alloc(x.ElementType, x.Shape);
        var n = Count(ctx, x.Shape);
        if (n == 0) return y;
        switch (x.ElementType)
        {
            case ElementType.Float32: ctx.Kernels.Unary(n, x.View<float>(), y.View<float>(), p); break;
            case ElementType.Int64 when op is UnaryOp.Abs or UnaryOp.Neg:
                ctx.Kernels.TypedUnary<long>("UnaryInt64", ElementwiseKernels.UnaryInt64)(n, x.View<long>(), y.View<long>(), p); break;
            case ElementType.Int32 when op is UnaryOp.Abs or UnaryOp.Neg:
                ctx.Kernels.TypedUnary<int>("UnaryInt32", ElementwiseKernels.UnaryInt32)(n, x.View<int>(), y.View<int>(), p); break;
            default: y.Dispose(); throw ctx.Fail($"{op} of {x.ElementType.ShortName()} is not supported");
        }
        return y;
    }

    private static IlgpuTensor?[] RunClip(OpContext ctx, IlgpuTensor?[] ins)
    {
        var x = ctx.Input(ins, 0);
        // ONNX: an absent bound is numeric_limits::lowest() / max(), so infinities are clipped to the finite range.
        float min, max;
        if (ctx.Opset < 11)
        {
            min = ctx.Node.GetFloat("min", float.MinValue);
            max = ctx.Node.GetFloat("max", float.MaxValue);
        }
        else
        {
            min = ctx.Optional(ins, 1) is { } lo ? ScalarOf(ctx, lo, "min") : float.MinValue;
            max = ctx.Optional(ins, 2) is { } hi ? ScalarOf(ctx, hi, "max") : float.MaxValue;
        }
        return new[] { RunUnary(ctx, x, UnaryOp.Clip, new UnaryParams { Alpha = min, Beta = max }) };
    }

    private static float ScalarOf(OpContext ctx, IlgpuTensor t, string what)
    {
        if (t.ElementCount != 1) throw ctx.Fail($"{what} must be a scalar, got shape {TensorShape.Format(t.Shape)}");
        return ctx.ReadHost(t).AsSpan<float>()[0];
    }

    internal static long[] BroadcastShape(OpContext ctx, params long[][] shapes)
    {
        var rank = shapes.Max(s => s.Length);
        var result = new long[rank];
        for (var i = 0; i < rank; i++)
        {
            long d = 1;
            foreach (var s in shapes)
            {
                var k = i - (rank - s.Length);
                if (k < 0) continue;
                var v = s[k];
                if (v == d || v == 1) continue;
                if (d == 1) d = v;
                else throw ctx.Fail($"shapes {string.Join(" and ", shapes.Select(x => TensorShape.Format(x)))} do not broadcast (dimension {i}: {d} vs {v})");
            }
            // A zero-sized dimension wins over 1.
            foreach (var s in shapes)
            {
                var k = i - (rank - s.Length);
                if (k >= 0 && s[k] == 0) d = 0;
            }
            result[i] = d;
        }
        return result;
    }

    /// <summary>Strides of <paramref name="shape"/> as read through the broadcast output index space.</summary>
    internal static Dims6 BroadcastStrides(long[] shape, long[] outShape)
    {
        var strides = Strides(shape);
        var padded = new long[outShape.Length];
        var offset = outShape.Length - shape.Length;
        for (var i = 0; i < shape.Length; i++) padded[offset + i] = shape[i] == 1 ? 0 : strides[i];
        return Dims6.From(padded, 0);
    }

    internal static IlgpuTensor RunBinary(OpContext ctx, IlgpuTensor a, IlgpuTensor b, BinaryOp op)
    {
        CheckRank(ctx, a, "input 0");
        CheckRank(ctx, b, "input 1");
        var outShape = op == BinaryOp.PRelu ? PreluShape(ctx, a, b) : BroadcastShape(ctx, a.Shape, b.Shape);
        var mixedPow = op == BinaryOp.Pow && a.ElementType != b.ElementType;
        if (!mixedPow && a.ElementType != b.ElementType) throw ctx.Fail($"inputs differ in element type ({a.ElementType.ShortName()} vs {b.ElementType.ShortName()})");
        var y = ctx.Alloc(a.ElementType, outShape);
        var n = Count(ctx, outShape);
        if (n == 0) return y;
        var p = new BroadcastParams
        {
            Op = (int)op,
            Out = Dims6.From(outShape, 1),
            A = BroadcastStrides(a.Shape, outShape),
            B = BroadcastStrides(b.Shape, outShape),
        };
        var k = ctx.Kernels;
        switch (a.ElementType, b.ElementType)
        {
            case (ElementType.Float32, ElementType.Float32): k.Binary(n, a.View<float>(), b.View<float>(), y.View<float>(), p); break;
            case (ElementType.Int64, ElementType.Int64) when op is not BinaryOp.PRelu: k.BinaryInt64(n, a.View<long>(), b.View<long>(), y.View<long>(), p); break;
            case (ElementType.Int32, ElementType.Int32) when op is not BinaryOp.PRelu: k.BinaryInt32(n, a.View<int>(), b.View<int>(), y.View<int>(), p); break;
            case (ElementType.Float32, ElementType.Int64) when mixedPow:
                k.Broadcast<float, long, float>("PowFloatInt64", ElementwiseKernels.PowFloatInt64)(n, a.View<float>(), b.View<long>(), y.View<float>(), p); break;
            case (ElementType.Float32, ElementType.Int32) when mixedPow:
                k.Broadcast<float, int, float>("PowFloatInt32", ElementwiseKernels.PowFloatInt32)(n, a.View<float>(), b.View<int>(), y.View<float>(), p); break;
            case (ElementType.Int64, ElementType.Float32) when mixedPow:
                k.Broadcast<long, float, long>("PowInt64Float", ElementwiseKernels.PowInt64Float)(n, a.View<long>(), b.View<float>(), y.View<long>(), p); break;
            case (ElementType.Int32, ElementType.Float32) when mixedPow:
                k.Broadcast<int, float, int>("PowInt32Float", ElementwiseKernels.PowInt32Float)(n, a.View<int>(), b.View<float>(), y.View<int>(), p); break;
            default: y.Dispose(); throw ctx.Fail($"{op} of {a.ElementType.ShortName()} by {b.ElementType.ShortName()} is not supported");
        }
        return y;
    }

    private static long[] PreluShape(OpContext ctx, IlgpuTensor x, IlgpuTensor slope)
    {
        var shape = BroadcastShape(ctx, x.Shape, slope.Shape);
        if (!shape.AsSpan().SequenceEqual(x.Shape)) throw ctx.Fail($"slope {TensorShape.Format(slope.Shape)} must broadcast to X {TensorShape.Format(x.Shape)}");
        return shape;
    }

    private static IlgpuTensor RunVariadic(OpContext ctx, IlgpuTensor?[] ins, BinaryOp op)
    {
        var inputs = ins.Where(t => t is not null).Select(t => t!).ToArray();
        if (inputs.Length == 0) throw ctx.Fail("needs at least one input");
        if (inputs.Length == 1) return inputs[0].Alias(inputs[0].Shape);
        var acc = RunBinary(ctx, inputs[0], inputs[1], op);
        for (var i = 2; i < inputs.Length; i++)
        {
            var next = RunBinary(ctx, acc, inputs[i], op);
            acc.Dispose();
            acc = next;
        }
        return acc;
    }

    private static IlgpuTensor RunCompare(OpContext ctx, IlgpuTensor a, IlgpuTensor b, CompareOp op)
    {
        CheckRank(ctx, a, "input 0");
        CheckRank(ctx, b, "input 1");
        if (a.ElementType != b.ElementType) throw ctx.Fail($"inputs differ in element type ({a.ElementType.ShortName()} vs {b.ElementType.ShortName()})");
        var outShape = BroadcastShape(ctx, a.Shape, b.Shape);
        var y = ctx.Alloc(ElementType.Bool, outShape);
        var n = Count(ctx, outShape);
        if (n == 0) return y;
        var p = new BroadcastParams { Op = (int)op, Out = Dims6.From(outShape, 1), A = BroadcastStrides(a.Shape, outShape), B = BroadcastStrides(b.Shape, outShape) };
        switch (a.ElementType)
        {
            case ElementType.Float32: ctx.Kernels.Compare(n, a.View<float>(), b.View<float>(), y.View<byte>(), p); break;
            case ElementType.Int64: ctx.Kernels.CompareInt64(n, a.View<long>(), b.View<long>(), y.View<byte>(), p); break;
            case ElementType.Int32: ctx.Kernels.CompareInt32(n, a.View<int>(), b.View<int>(), y.View<byte>(), p); break;
            default: y.Dispose(); throw ctx.Fail($"comparison of {a.ElementType.ShortName()} is not supported");
        }
        return y;
    }

    private static IlgpuTensor RunWhere(OpContext ctx, IlgpuTensor cond, IlgpuTensor x, IlgpuTensor y)
    {
        CheckRank(ctx, cond, "condition");
        CheckRank(ctx, x, "X");
        CheckRank(ctx, y, "Y");
        if (x.ElementType != y.ElementType) throw ctx.Fail("X and Y differ in element type");
        var outShape = BroadcastShape(ctx, cond.Shape, x.Shape, y.Shape);
        var z = ctx.Alloc(x.ElementType, outShape);
        var n = Count(ctx, outShape);
        if (n == 0) return z;
        var p = new BroadcastParams
        {
            Out = Dims6.From(outShape, 1),
            A = BroadcastStrides(x.Shape, outShape),
            B = BroadcastStrides(y.Shape, outShape),
            C = BroadcastStrides(cond.Shape, outShape),
        };
        var k = ctx.Kernels;
        switch (x.ElementType.SizeInBytes())
        {
            case 1: k.Where<byte>()(n, cond.View<byte>(), x.View<byte>(), y.View<byte>(), z.View<byte>(), p); break;
            case 2: k.Where<short>()(n, cond.View<byte>(), x.View<short>(), y.View<short>(), z.View<short>(), p); break;
            case 4: k.Where<int>()(n, cond.View<byte>(), x.View<int>(), y.View<int>(), z.View<int>(), p); break;
            default: k.Where<long>()(n, cond.View<byte>(), x.View<long>(), y.View<long>(), z.View<long>(), p); break;
        }
        return z;
    }

    private static readonly (ElementType From, ElementType To)[] CastPairs =
    {
        (ElementType.Float32, ElementType.Int64), (ElementType.Int64, ElementType.Float32), (ElementType.Float32, ElementType.Int32),
        (ElementType.Int32, ElementType.Float32), (ElementType.Int64, ElementType.Int32), (ElementType.Int32, ElementType.Int64),
        (ElementType.Bool, ElementType.Float32), (ElementType.Float32, ElementType.Bool), (ElementType.Int64, ElementType.Bool),
        (ElementType.Bool, ElementType.Int64), (ElementType.Float32, ElementType.Float16), (ElementType.Float16, ElementType.Float32),
    };

    private static NodeSupport CheckCast(Node node, NodeContext ctx)
    {
        var from = TypeOf(node, ctx, 0);
        if (from is null) return NodeSupport.No("the element type of the input is unknown");
        var to = (ElementType)node.GetInt("to", 0);
        if (from == to && MovableTypes.Contains(to)) return OutputCount(node, 1);
        if (CastPairs.Contains((from.Value, to))) return OutputCount(node, 1);
        return NodeSupport.No($"Cast {from.Value.ShortName()} -> {to.ShortName()} has no ILGPU kernel");
    }

    private static IlgpuTensor RunCast(OpContext ctx, IlgpuTensor x)
    {
        var to = (ElementType)ctx.Node.GetInt("to", 0);
        if (to == x.ElementType) return x.Alias(x.Shape);
        var y = ctx.Alloc(to, x.Shape);
        var n = Count(ctx, x.Shape);
        if (n == 0) return y;
        var k = ctx.Kernels;
        switch ((x.ElementType, to))
        {
            case (ElementType.Float32, ElementType.Int64): k.Cast<float, long>(ElementwiseKernels.CastFloatToInt64)(n, x.View<float>(), y.View<long>()); break;
            case (ElementType.Int64, ElementType.Float32): k.Cast<long, float>(ElementwiseKernels.CastInt64ToFloat)(n, x.View<long>(), y.View<float>()); break;
            case (ElementType.Float32, ElementType.Int32): k.Cast<float, int>(ElementwiseKernels.CastFloatToInt32)(n, x.View<float>(), y.View<int>()); break;
            case (ElementType.Int32, ElementType.Float32): k.Cast<int, float>(ElementwiseKernels.CastInt32ToFloat)(n, x.View<int>(), y.View<float>()); break;
            case (ElementType.Int64, ElementType.Int32): k.Cast<long, int>(ElementwiseKernels.CastInt64ToInt32)(n, x.View<long>(), y.View<int>()); break;
            case (ElementType.Int32, ElementType.Int64): k.Cast<int, long>(ElementwiseKernels.CastInt32ToInt64)(n, x.View<int>(), y.View<long>()); break;
            case (ElementType.Bool, ElementType.Float32): k.Cast<byte, float>(ElementwiseKernels.CastBoolToFloat)(n, x.View<byte>(), y.View<float>()); break;
            case (ElementType.Float32, ElementType.Bool): k.Cast<float, byte>(ElementwiseKernels.CastFloatToBool)(n, x.View<float>(), y.View<byte>()); break;
            case (ElementType.Int64, ElementType.Bool): k.Cast<long, byte>(ElementwiseKernels.CastInt64ToBool)(n, x.View<long>(), y.View<byte>()); break;
            case (ElementType.Bool, ElementType.Int64): k.Cast<byte, long>(ElementwiseKernels.CastBoolToInt64)(n, x.View<byte>(), y.View<long>()); break;
            case (ElementType.Float32, ElementType.Float16): k.Cast<float, ILGPU.Half>(ElementwiseKernels.CastFloatToHalf)(n, x.View<float>(), y.View<ILGPU.Half>()); break;
            case (ElementType.Float16, ElementType.Float32): k.Cast<ILGPU.Half, float>(ElementwiseKernels.CastHalfToFloat)(n, x.View<ILGPU.Half>(), y.View<float>()); break;
            default: y.Dispose(); throw ctx.Fail($"Cast {x.ElementType.ShortName()} -> {to.ShortName()} is not supported");
        }
        return y;
    }
}
