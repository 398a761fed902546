using AccelSdk.Backends;
using AccelSdk.Ilgpu.Kernels;
using AccelSdk.Ilgpu.Runtime;
using AccelSdk.Ir;

namespace AccelSdk.Ilgpu.Ops;

internal static partial class OpRegistry
{
    private static void RegisterPooling(Action<string, Func<Node, NodeContext, NodeSupport>, Func<OpContext, IlgpuTensor?[], IlgpuTensor?[]>, Action<OpContext>> add)
    {
        add("MaxPool", CheckPool, (ctx, ins) => new[] { RunPool(ctx, ctx.Input(ins, 0), 0) }, ctx => _ = ctx.Kernels.Pool);
        add("AveragePool", CheckPool, (ctx, ins) => new[] { RunPool(ctx, ctx.Input(ins, 0), 1) }, ctx => _ = ctx.Kernels.Pool);
        add("GlobalAveragePool", (n, c) => All(OutputCount(n, 1), RequireType(n, c, 0, ElementType.Float32)),
            (ctx, ins) => new[] { RunGlobalPool(ctx, ctx.Input(ins, 0), 1) }, ctx => _ = ctx.Kernels.GlobalPool);
        add("GlobalMaxPool", (n, c) => All(OutputCount(n, 1), RequireType(n, c, 0, ElementType.Float32)),
            (ctx, ins) => new[] { RunGlobalPool(ctx, ctx.Input(ins, 0), 0) }, ctx => _ = ctx.Kernels.GlobalPool);
    }

    private static NodeSupport CheckPool(Node node, NodeContext ctx)
    {
        var basic = All(OutputCount(node, 1), RequireType(node, ctx, 0, ElementType.Float32));
        if (!basic.IsSupported) return basic;
        var kernel = node.GetInts("kernel_shape");
        if (kernel is null) return NodeSupport.No("kernel_shape is required");
        if (kernel.Count is < 1 or > 3) return NodeSupport.No($"1-D, 2-D and 3-D pooling are implemented, kernel_shape has {kernel.Count} dims");
        if (RankOf(node, ctx, 0) is { } rank && rank != kernel.Count + 2) return NodeSupport.No($"X has rank {rank}, kernel_shape {kernel.Count} dims");
        if (node.GetInt("storage_order", 0) != 0) return NodeSupport.No("storage_order=1 is not implemented");
        var autoPad = node.GetString("auto_pad", "NOTSET");
        if (autoPad is not ("NOTSET" or "VALID" or "SAME_UPPER" or "SAME_LOWER")) return NodeSupport.No($"auto_pad '{autoPad}' is unknown");
        if (node.OpType == "AveragePool" && node.GetInts("dilations") is { } d && d.Any(v => v != 1))
        {
            return NodeSupport.No("AveragePool with dilations is not implemented");
        }
        if (node.GetInt("ceil_mode", 0) != 0 && autoPad != "NOTSET") return NodeSupport.No("ceil_mode with auto_pad is not implemented");
        return NodeSupport.Yes;
    }

    private static IlgpuTensor RunPool(OpContext ctx, IlgpuTensor x, int mode)
    {
        var kernel = ctx.Node.GetInts("kernel_shape")!.ToArray();
        if (x.Shape.Length != kernel.Length + 2) throw ctx.Fail($"X {TensorShape.Format(x.Shape)} must have rank {kernel.Length + 2} for a {kernel.Length}-D kernel_shape");
        var p = Window(ctx, x.Shape.AsSpan(2), kernel, ctx.Node.GetInt("ceil_mode", 0) != 0);
        p.Mode = mode;
        p.M = (int)ctx.Node.GetInt("count_include_pad", 0);
        var y = ctx.Alloc(ElementType.Float32, new[] { x.Shape[0], x.Shape[1] }.Concat(WindowOutput(p, kernel.Length)).ToArray());
        var n = Count(ctx, y.Shape);
        if (n > 0) ctx.Kernels.Pool(n, x.View<float>(), y.View<float>(), p);
        return y;
    }

    private static IlgpuTensor RunGlobalPool(OpContext ctx, IlgpuTensor x, int mode)
    {
        if (x.Shape.Length < 3) throw ctx.Fail($"X must be at least rank 3 (N,C,spatial...), got {TensorShape.Format(x.Shape)}");
        var outShape = x.Shape.Select((d, i) => i < 2 ? d : 1L).ToArray();
        var y = ctx.Alloc(ElementType.Float32, outShape);
        var planes = Count(ctx, outShape);
        var spatial = Count(ctx, x.Shape[2..]);
        if (planes > 0 && spatial > 0) ctx.Kernels.GlobalPool(planes, x.View<float>(), y.View<float>(), new WindowParams { H = spatial, Mode = mode });
        else if (planes > 0) throw ctx.Fail("global pooling over an empty spatial extent");
        return y;
    }
}
