using AccelSdk.Backends;
using AccelSdk.Ilgpu.Kernels;
using AccelSdk.Ilgpu.Runtime;
using AccelSdk.Ir;

namespace AccelSdk.Ilgpu.Ops;

internal static partial class OpRegistry
{
    private static readonly Dictionary<string, ReduceOp> ReduceOps = new(StringComparer.Ordinal)
    {
        ["ReduceSum"] = ReduceOp.Sum, ["ReduceMean"] = ReduceOp.Mean, ["ReduceMax"] = ReduceOp.Max, ["ReduceMin"] = ReduceOp.Min,
        ["ReduceProd"] = ReduceOp.Prod, ["ReduceL1"] = ReduceOp.L1, ["ReduceL2"] = ReduceOp.L2, ["ReduceSumSquare"] = ReduceOp.SumSquare,
        ["ReduceLogSum"] = ReduceOp.LogSum, ["ReduceLogSumExp"] = ReduceOp.LogSumExp,
    };

    private static void RegisterNormalization(Action<string, Func<Node, NodeContext, NodeSupport>, Func<OpContext, IlgpuTensor?[], IlgpuTensor?[]>, Action<OpContext>> add)
    {
        add("BatchNormalization", (n, c) => All(OutputCount(n, 1), Float32Inputs(n, c, 5),
                n.GetInt("training_mode", 0) != 0 ? NodeSupport.No("training_mode=1 is not implemented") : NodeSupport.Yes,
                c.OpsetOf(n) < 9 && n.GetInt("spatial", 1) != 1 ? NodeSupport.No("spatial=0 is not implemented") : NodeSupport.Yes),
            (ctx, ins) => new[] { RunBatchNorm(ctx, ins) }, ctx => _ = ctx.Kernels.BatchNorm);
        add("Softmax", (n, c) => All(OutputCount(n, 1), RequireType(n, c, 0, ElementType.Float32)),
            (ctx, ins) => new[] { RunSoftmax(ctx, ctx.Input(ins, 0), false) }, ctx => _ = ctx.Kernels.Softmax);
        add("LogSoftmax", (n, c) => All(OutputCount(n, 1), RequireType(n, c, 0, ElementType.Float32)),
            (ctx, ins) => new[] { RunSoftmax(ctx, ctx.Input(ins, 0), true) }, ctx => _ = ctx.Kernels.Softmax);
        add("LayerNormalization", (n, c) => All(OutputCount(n, 3), Float32Inputs(n, c, 3),
                n.GetInt("stash_type", 1) != 1 ? NodeSupport.No("stash_type other than float32 is not implemented") : NodeSupport.Yes),
            RunLayerNorm, ctx => { _ = ctx.Kernels.LayerNorm; _ = ctx.Kernels.LayerNormStats; });
        foreach (var (name, op) in ReduceOps)
        {
            add(name, (n, c) => All(OutputCount(n, 1), RequireType(n, c, 0, ElementType.Float32), MaxRank(n, c, 0, 6)),
                (ctx, ins) => new[] { RunReduce(ctx, ins, op) }, ctx => { _ = ctx.Kernels.Reduce; _ = ctx.Kernels.StridedCopy<int>(); });
        }
    }

    private static IlgpuTensor RunBatchNorm(OpContext ctx, IlgpuTensor?[] ins)
    {
        var x = ctx.Input(ins, 0);
        if (x.Shape.Length < 2) throw ctx.Fail($"X must have a channel dimension, got {TensorShape.Format(x.Shape)}");
        var channels = x.Shape[1];
        for (var i = 1; i <= 4; i++)
        {
            var t = ctx.Input(ins, i);
            if (t.Shape.Length != 1 || t.Shape[0] != channels) throw ctx.Fail($"input {i} must be [{channels}], got {TensorShape.Format(t.Shape)}");
        }
        var y = ctx.Alloc(ElementType.Float32, x.Shape);
        var n = Count(ctx, x.Shape);
        if (n == 0) return y;
        var p = new NormParams { Channels = (int)channels, Inner = Count(ctx, x.Shape[2..]), Epsilon = ctx.Node.GetFloat("epsilon", 1e-5f) };
        ctx.Kernels.BatchNorm(n, x.View<float>(), ins[1]!.View<float>(), ins[2]!.View<float>(), ins[3]!.View<float>(), ins[4]!.View<float>(), y.View<float>(), p);
        return y;
    }

    private static IlgpuTensor RunSoftmax(OpContext ctx, IlgpuTensor x, bool log)
    {
        var rank = x.Shape.Length;
        if (rank == 0) throw ctx.Fail("Softmax of a scalar is undefined");
        var legacy = ctx.Opset < 13;
        var axis = NormalizeAxis(ctx, ctx.Node.GetInt("axis", legacy ? 1 : -1), rank);
        long outer = AccelTensor.CountElements(x.Shape[..axis]);
        long channels = legacy ? AccelTensor.CountElements(x.Shape[axis..]) : x.Shape[axis];
        long inner = legacy ? 1 : AccelTensor.CountElements(x.Shape[(axis + 1)..]);
        var y = ctx.Alloc(ElementType.Float32, x.Shape);
        var rows = OpContext.ToInt(outer * inner, "row count", ctx);
        if (rows == 0 || channels == 0) return y;
        ctx.Kernels.Softmax(rows, x.View<float>(), y.View<float>(),
            new NormParams { Outer = (int)outer, Channels = (int)channels, Inner = (int)inner, Log = log ? 1 : 0 });
        return y;
    }

    private static IlgpuTensor?[] RunLayerNorm(OpContext ctx, IlgpuTensor?[] ins)
    {
        var x = ctx.Input(ins, 0);
        var scale = ctx.Input(ins, 1);
        var bias = ctx.Optional(ins, 2);
        var axis = NormalizeAxis(ctx, ctx.Node.GetInt("axis", -1), x.Shape.Length);
        long norm = AccelTensor.CountElements(x.Shape[axis..]);
        if (scale.ElementCount != norm || (bias is not null && bias.ElementCount != norm))
        {
            throw ctx.Fail($"Scale {TensorShape.Format(scale.Shape)} and B must hold the {norm} elements of the normalised dims (broadcast Scale/B are not implemented)");
        }
        var y = ctx.Alloc(ElementType.Float32, x.Shape);
        var rows = Count(ctx, x.Shape[..axis]);
        var p = new NormParams { Channels = (int)norm, Epsilon = ctx.Node.GetFloat("epsilon", 1e-5f), HasBias = bias is null ? 0 : 1 };
        if (rows > 0 && norm > 0) ctx.Kernels.LayerNorm(rows, x.View<float>(), scale.View<float>(), (bias ?? scale).View<float>(), y.View<float>(), p);
        var outputs = new IlgpuTensor?[ctx.Node.Outputs.Count];
        outputs[0] = y;
        if (outputs.Length > 1)
        {
            // Mean and InvStdDev keep the leading dims and have 1 for each normalised one.
            var statsShape = x.Shape.Select((d, i) => i < axis ? d : 1L).ToArray();
            var mean = ctx.Alloc(ElementType.Float32, statsShape);
            var inv = ctx.Alloc(ElementType.Float32, statsShape);
            if (rows > 0 && norm > 0) ctx.Kernels.LayerNormStats(rows, x.View<float>(), mean.View<float>(), inv.View<float>(), p);
            outputs[1] = mean;
            if (outputs.Length > 2) outputs[2] = inv;
            else inv.Dispose();
        }
        return outputs;
    }

    private static IlgpuTensor RunReduce(OpContext ctx, IlgpuTensor?[] ins, ReduceOp op)
    {
        var x = ctx.Input(ins, 0);
        CheckRank(ctx, x, "data");
        var rank = x.Shape.Length;
        var axesFromInput = ctx.Node.OpType == "ReduceSum" ? ctx.Opset >= 13 : ctx.Opset >= 18;
        long[]? axes = axesFromInput
            ? (ctx.Optional(ins, 1) is { } a ? ctx.ReadInts(a) : null)
            : ctx.Node.GetInts("axes")?.ToArray();
        var keepDims = ctx.Node.GetInt("keepdims", 1) != 0;
        var noop = ctx.Node.GetInt("noop_with_empty_axes", 0) != 0;
        if (axes is null || axes.Length == 0)
        {
            if (noop) return x.Alias(x.Shape);
            axes = Enumerable.Range(0, rank).Select(i => (long)i).ToArray();
        }
        var reduced = new bool[rank];
        foreach (var axis in axes)
        {
            var k = NormalizeAxis(ctx, axis, rank, "axes value");
            if (reduced[k]) throw ctx.Fail($"axis {axis} is listed twice");
            reduced[k] = true;
        }
        var strides = Strides(x.Shape);
        var keptDims = new List<long>();
        var keptStrides = new List<long>();
        var redDims = new List<long>();
        var redStrides = new List<long>();
        var outShape = new List<long>();
        for (var i = 0; i < rank; i++)
        {
            if (reduced[i])
            {
                redDims.Add(x.Shape[i]);
                redStrides.Add(strides[i]);
                if (keepDims) outShape.Add(1);
            }
            else
            {
                keptDims.Add(x.Shape[i]);
                keptStrides.Add(strides[i]);
                outShape.Add(x.Shape[i]);
            }
        }
        var redCount = AccelTensor.CountElements(redDims.ToArray());
        if (redCount == 0 && op is ReduceOp.Max or ReduceOp.Min) throw ctx.Fail($"{ctx.Node.OpType} over an empty set is undefined");
        var y = ctx.Alloc(ElementType.Float32, outShape.ToArray());
        var n = Count(ctx, y.Shape);
        if (n == 0) return y;
        ctx.Kernels.Reduce(n, x.View<float>(), y.View<float>(), new ReduceParams
        {
            Op = (int)op,
            Out = Dims6.From(keptDims.ToArray(), 1),
            OutStrides = Dims6.From(keptStrides.ToArray(), 0),
            Red = Dims6.From(redDims.ToArray(), 1),
            RedStrides = Dims6.From(redStrides.ToArray(), 0),
            RedCount = OpContext.ToInt(redCount, "reduced count", ctx),
        });
        return y;
    }
}
