using AccelSdk.Backends;
using AccelSdk.Ilgpu.Kernels;
using AccelSdk.Ilgpu.Runtime;
using AccelSdk.Ir;
using ILGPU;

namespace AccelSdk.Ilgpu.Ops;

internal static partial class OpRegistry
{
    private static void RegisterLinear(Action<string, Func<Node, NodeContext, NodeSupport>, Func<OpContext, IlgpuTensor?[], IlgpuTensor?[]>, Action<OpContext>> add)
    {
        Action<OpContext> matmulKernels = ctx =>
        {
            if (ctx.MatMul == MatMulVariant.Tiled) _ = ctx.Kernels.MatMulTiled;
            else if (ctx.MatMul == MatMulVariant.Packed) PackedMatMul.Prepare(ctx);
            else { _ = ctx.Kernels.MatMulBlocked; _ = ctx.Kernels.MatMulEdge; }
        };
        add("MatMul", (n, c) => All(OutputCount(n, 1), Float32Inputs(n, c, 2), MaxRank(n, c, 0, 6), MaxRank(n, c, 1, 6)),
            (ctx, ins) => new[] { RunMatMul(ctx, ctx.Input(ins, 0), ctx.Input(ins, 1)) }, matmulKernels);
        add("Gemm", (n, c) => All(OutputCount(n, 1), Float32Inputs(n, c, 3), RankIs(n, c, 0, 2), RankIs(n, c, 1, 2)),
            (ctx, ins) => new[] { RunGemm(ctx, ins) },
            ctx => { matmulKernels(ctx); _ = ctx.Kernels.StridedCopy<int>(); _ = ctx.Kernels.Binary; _ = ctx.Kernels.Unary; });
        add("ConvTranspose", CheckConv, (ctx, ins) => new[] { RunConvTranspose(ctx, ins) }, ctx => _ = ctx.Kernels.ConvTranspose);
        add("Conv", CheckConv, (ctx, ins) => new[] { RunConv(ctx, ins) },
            ctx => { matmulKernels(ctx); _ = ctx.Kernels.Im2Col; _ = ctx.Kernels.DirectConv; });
    }

    private static NodeSupport RankIs(Node node, NodeContext ctx, int input, int rank)
    {
        var r = RankOf(node, ctx, input);
        if (r is null) return NodeSupport.No($"the rank of input {input} is unknown");
        return r == rank ? NodeSupport.Yes : NodeSupport.No($"input {input} has rank {r}; only rank {rank} is implemented");
    }

    /// <summary>
    /// Launches the blocked MatMul plus its edge kernel for one [M,K]x[K,N] product repeated over
    /// <paramref name="p"/>.Batch (offsets, strides and bias already set in <paramref name="p"/>).
    /// </summary>
    internal static void LaunchMatMul(OpContext ctx, ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, ArrayView<float> bias, MatMulParams p)
    {
        if (p.M == 0 || p.N == 0 || p.Batch == 0) return;
        if (ctx.MatMul == MatMulVariant.Tiled)
        {
            var grid = new ILGPU.Index3D(
                (p.N + TiledMatMulKernels.Tile - 1) / TiledMatMulKernels.Tile,
                (p.M + TiledMatMulKernels.Tile - 1) / TiledMatMulKernels.Tile,
                p.Batch);
            ctx.Kernels.MatMulTiled(new ILGPU.KernelConfig(grid, new ILGPU.Index3D(TiledMatMulKernels.Threads, TiledMatMulKernels.Threads, 1)), a, b, c, bias, p);
            return;
        }
        if (ctx.MatMul == MatMulVariant.Packed)
        {
            PackedMatMul.Launch(ctx, a, b, c, bias, p);
            return;
        }
        p.BlocksM = p.M / MatMulKernels.BlockM;
        p.BlocksN = p.N / MatMulKernels.BlockN;
        var blocks = (long)p.BlocksM * p.BlocksN * p.Batch;
        if (blocks > 0) ctx.Kernels.MatMulBlocked(OpContext.ToInt(blocks, "block count", ctx), a, b, c, bias, p);
        var edge = ((long)p.M * p.N - (long)p.BlocksM * MatMulKernels.BlockM * p.BlocksN * MatMulKernels.BlockN) * p.Batch;
        if (edge > 0) ctx.Kernels.MatMulEdge(OpContext.ToInt(edge, "element count", ctx), a, b, c, bias, p);
    }

    private static IlgpuTensor RunMatMul(OpContext ctx, IlgpuTensor a, IlgpuTensor b)
    {
        var aShape = a.Shape.Length == 1 ? new[] { 1, a.Shape[0] } : a.Shape;
        var bShape = b.Shape.Length == 1 ? new[] { b.Shape[0], 1 } : b.Shape;
        if (aShape.Length < 2 || bShape.Length < 2) throw ctx.Fail("MatMul of scalars is undefined");
        long m = aShape[^2], k = aShape[^1], k2 = bShape[^2], n = bShape[^1];
        if (k != k2) throw ctx.Fail($"inner dimensions differ: A {TensorShape.Format(a.Shape)}, B {TensorShape.Format(b.Shape)}");
        var aBatch = aShape[..^2];
        var bBatch = bShape[..^2];
        var batch = BroadcastShape(ctx, aBatch, bBatch);
        var outShape = batch.Concat(new[] { m, n }).ToList();
        if (a.Shape.Length == 1) outShape.RemoveAt(outShape.Count - 2);
        if (b.Shape.Length == 1) outShape.RemoveAt(outShape.Count - 1);
        var y = ctx.Alloc(ElementType.Float32, outShape.ToArray());
        var batchCount = Tensor.CountElements(batch);
        if (batchCount == 0 || m == 0 || n == 0) return y;
        var p = new MatMulParams
        {
            M = OpContext.ToInt(m, "M", ctx), N = OpContext.ToInt(n, "N", ctx), K = OpContext.ToInt(k, "K", ctx),
            As0 = (int)k, As1 = 1, Bs0 = (int)n, Alpha = 1f, CBatchStride = (int)(m * n),
        };
        var aCount = Tensor.CountElements(aBatch);
        var bCount = Tensor.CountElements(bBatch);
        var simple = (aCount == 1 || aBatch.AsSpan().SequenceEqual(batch)) && (bCount == 1 || bBatch.AsSpan().SequenceEqual(batch));
        var av = a.View<float>();
        var bv = b.View<float>();
        var yv = y.View<float>();
        if (simple)
        {
            p.Batch = (int)batchCount;
            p.ABatchStride = aCount == 1 ? 0 : (int)(m * k);
            p.BBatchStride = bCount == 1 ? 0 : (int)(k * n);
            LaunchMatMul(ctx, av, bv, yv, yv, p);
            return y;
        }
        // General batch broadcasting: one launch per output batch element.
        var aStrides = BroadcastStrides(aBatch, batch);
        var bStrides = BroadcastStrides(bBatch, batch);
        var dims = Dims6.From(batch, 1);
        p.Batch = 1;
        for (var i = 0; i < (int)batchCount; i++)
        {
            p.AOffset = Dims6.Offset(i, dims, aStrides) * (int)(m * k);
            p.BOffset = Dims6.Offset(i, dims, bStrides) * (int)(k * n);
            p.COffset = i * (int)(m * n);
            LaunchMatMul(ctx, av, bv, yv, yv, p);
        }
        return y;
    }

    private static IlgpuTensor RunGemm(OpContext ctx, IlgpuTensor?[] ins)
    {
        var a = ctx.Input(ins, 0);
        var b = ctx.Input(ins, 1);
        var c = ctx.Optional(ins, 2);
        if (a.Shape.Length != 2 || b.Shape.Length != 2) throw ctx.Fail($"A and B must be 2-D, got {TensorShape.Format(a.Shape)} and {TensorShape.Format(b.Shape)}");
        var transA = ctx.Node.GetInt("transA", 0) != 0;
        var transB = ctx.Node.GetInt("transB", 0) != 0;
        var alpha = ctx.Node.GetFloat("alpha", 1f);
        var beta = ctx.Node.GetFloat("beta", 1f);
        long m = transA ? a.Shape[1] : a.Shape[0], k = transA ? a.Shape[0] : a.Shape[1];
        long kb = transB ? b.Shape[1] : b.Shape[0], n = transB ? b.Shape[0] : b.Shape[1];
        if (k != kb) throw ctx.Fail($"inner dimensions differ: A' is [{m},{k}], B' is [{kb},{n}]");
        IlgpuTensor? bT = null;
        if (transB)
        {
            // The blocked kernel wants B with unit column stride: materialise B' once per run (weights are small next to activations).
            bT = ctx.Alloc(ElementType.Float32, new[] { kb, n });
            ctx.Kernels.StridedCopy(ElementType.Float32, Count(ctx, bT.Shape), b, bT, new CopyParams
            {
                Dims = Dims6.From(new[] { kb, n }, 1),
                SrcStrides = Dims6.From(new[] { 1L, k }, 0),
                DstStrides = Dims6.From(new[] { n, 1L }, 0),
            });
        }
        var y = ctx.Alloc(ElementType.Float32, new[] { m, n });
        try
        {
            var p = new MatMulParams
            {
                M = OpContext.ToInt(m, "M", ctx), N = OpContext.ToInt(n, "N", ctx), K = OpContext.ToInt(k, "K", ctx), Batch = 1,
                As0 = transA ? 1 : (int)k, As1 = transA ? (int)m : 1, Bs0 = (int)n, Alpha = alpha,
            };
            var bias = y.View<float>();
            var fused = false;
            if (c is not null && beta == 1f && beta != 0f)
            {
                if (c.ElementCount == n && (c.Shape.Length == 1 || (c.Shape.Length == 2 && c.Shape[0] == 1)))
                {
                    p.BiasMode = 2;
                    fused = true;
                }
                else if (c.Shape.Length == 2 && c.Shape[0] == m && c.Shape[1] == 1 && m != 1)
                {
                    p.BiasMode = 1;
                    fused = true;
                }
                if (fused) bias = c.View<float>();
            }
            LaunchMatMul(ctx, a.View<float>(), (bT ?? b).View<float>(), y.View<float>(), bias, p);
            if (c is null || fused || beta == 0f) return y;
            BroadcastShape(ctx, c.Shape, y.Shape);
            var scaled = beta == 1f ? null : RunUnary(ctx, c, UnaryOp.Scale, new UnaryParams { Alpha = beta });
            var sum = RunBinary(ctx, y, scaled ?? c, BinaryOp.Add);
            scaled?.Dispose();
            if (!sum.Shape.AsSpan().SequenceEqual(y.Shape))
            {
                sum.Dispose();
                throw ctx.Fail($"C {TensorShape.Format(c.Shape)} does not broadcast to [{m},{n}]");
            }
            y.Dispose();
            return sum;
        }
        catch
        {
            y.Dispose();
            throw;
        }
        finally
        {
            bT?.Dispose();
        }
    }

    private static NodeSupport CheckConv(Node node, NodeContext ctx)
    {
        var basic = All(OutputCount(node, 1), Float32Inputs(node, ctx, 3));
        if (!basic.IsSupported) return basic;
        var rank = RankOf(node, ctx, 1) ?? RankOf(node, ctx, 0);
        if (rank is null) return NodeSupport.No("the rank of X and W is unknown");
        if (rank != 4) return NodeSupport.No($"only 2-D convolution (rank-4 tensors) is implemented, got rank {rank}");
        var autoPad = node.GetString("auto_pad", "NOTSET");
        if (autoPad is not ("NOTSET" or "VALID" or "SAME_UPPER" or "SAME_LOWER")) return NodeSupport.No($"auto_pad '{autoPad}' is unknown");
        return NodeSupport.Yes;
    }

    /// <summary>Resolved geometry of a 2-D window op (Conv or pooling) from its attributes and input size.</summary>
    internal static WindowParams Window(OpContext ctx, long h, long w, long kh, long kw, bool ceilMode = false)
    {
        var node = ctx.Node;
        var strides = node.GetInts("strides") ?? new long[] { 1, 1 };
        var dilations = node.GetInts("dilations") ?? new long[] { 1, 1 };
        var pads = node.GetInts("pads") ?? new long[] { 0, 0, 0, 0 };
        if (strides.Count != 2 || dilations.Count != 2 || pads.Count != 4) throw ctx.Fail("strides/dilations need 2 values and pads 4 for a 2-D window");
        if (strides.Any(s => s <= 0) || dilations.Any(d => d <= 0) || kh <= 0 || kw <= 0) throw ctx.Fail("kernel sizes, strides and dilations must be positive");
        var autoPad = node.GetString("auto_pad", "NOTSET");
        long sh = strides[0], sw = strides[1], dh = dilations[0], dw = dilations[1];
        long ekh = (kh - 1) * dh + 1, ekw = (kw - 1) * dw + 1;
        long pt = pads[0], pl = pads[1], pb = pads[2], pr = pads[3];
        long oh, ow;
        switch (autoPad)
        {
            case "SAME_UPPER":
            case "SAME_LOWER":
                oh = (h + sh - 1) / sh;
                ow = (w + sw - 1) / sw;
                var th = Math.Max(0, (oh - 1) * sh + ekh - h);
                var tw = Math.Max(0, (ow - 1) * sw + ekw - w);
                pt = autoPad == "SAME_UPPER" ? th / 2 : th - th / 2;
                pl = autoPad == "SAME_UPPER" ? tw / 2 : tw - tw / 2;
                pb = th - pt;
                pr = tw - pl;
                break;
            case "VALID":
                pt = pl = pb = pr = 0;
                oh = (h - ekh) / sh + 1;
                ow = (w - ekw) / sw + 1;
                break;
            default:
                if (ceilMode)
                {
                    oh = (long)Math.Ceiling((double)(h + pt + pb - ekh) / sh) + 1;
                    ow = (long)Math.Ceiling((double)(w + pl + pr - ekw) / sw) + 1;
                    // The last window must start inside the input or the left padding (ONNX/PyTorch rule).
                    if ((oh - 1) * sh >= h + pt) oh--;
                    if ((ow - 1) * sw >= w + pl) ow--;
                }
                else
                {
                    oh = (h + pt + pb - ekh) / sh + 1;
                    ow = (w + pl + pr - ekw) / sw + 1;
                }
                break;
        }
        if (oh <= 0 || ow <= 0) throw ctx.Fail($"the window ({kh}x{kw}, dilation {dh}x{dw}) does not fit the {h}x{w} input with its padding");
        return new WindowParams
        {
            H = (int)h, W = (int)w, KH = (int)kh, KW = (int)kw, SH = (int)sh, SW = (int)sw, DH = (int)dh, DW = (int)dw,
            PadTop = (int)pt, PadLeft = (int)pl, PadBottom = (int)pb, PadRight = (int)pr, OH = (int)oh, OW = (int)ow,
        };
    }

    private static IlgpuTensor RunConv(OpContext ctx, IlgpuTensor?[] ins)
    {
        var x = ctx.Input(ins, 0);
        var w = ctx.Input(ins, 1);
        var bias = ctx.Optional(ins, 2);
        if (x.Shape.Length != 4 || w.Shape.Length != 4) throw ctx.Fail($"X {TensorShape.Format(x.Shape)} and W {TensorShape.Format(w.Shape)} must be rank 4");
        var group = ctx.Node.GetInt("group", 1);
        long batch = x.Shape[0], c = x.Shape[1], m = w.Shape[0], cg = w.Shape[1];
        if (group <= 0 || c != cg * group || m % group != 0)
        {
            throw ctx.Fail($"X has {c} channels, W {TensorShape.Format(w.Shape)} with group {group}: channels must equal W[1]*group and W[0] divide by group");
        }
        if (ctx.Node.GetInts("kernel_shape") is { } ks && (ks.Count != 2 || ks[0] != w.Shape[2] || ks[1] != w.Shape[3]))
        {
            throw ctx.Fail($"kernel_shape [{string.Join(",", ks)}] disagrees with W {TensorShape.Format(w.Shape)}");
        }
        if (bias is not null && (bias.Shape.Length != 1 || bias.Shape[0] != m)) throw ctx.Fail($"B must be [{m}], got {TensorShape.Format(bias.Shape)}");
        var p = Window(ctx, x.Shape[2], x.Shape[3], w.Shape[2], w.Shape[3]);
        var y = ctx.Alloc(ElementType.Float32, new[] { batch, m, (long)p.OH, (long)p.OW });
        var total = Count(ctx, y.Shape);
        if (total == 0) return y;
        long spatial = (long)p.OH * p.OW;
        long mg = m / group;
        p.C = (int)cg;
        p.M = (int)mg;
        p.Groups = (int)group;
        p.BatchInStride = OpContext.ToInt(c * x.Shape[2] * x.Shape[3], "input size", ctx);
        p.HasBias = bias is null ? 0 : 1;
        var biasView = (bias ?? y).View<float>();
        if (group > 1 && cg * mg <= 4)
        {
            // Depthwise-like: im2col would copy every input element KH*KW times for a product of width 1.
            ctx.Kernels.DirectConv(total, x.View<float>(), w.View<float>(), biasView, y.View<float>(), p);
            return y;
        }
        long rows = cg * p.KH * p.KW;
        var pointwise = p.KH == 1 && p.KW == 1 && p.SH == 1 && p.SW == 1 && p.PadTop == 0 && p.PadLeft == 0 && p.PadBottom == 0 && p.PadRight == 0;
        var col = pointwise || ctx.MatMul == MatMulVariant.Packed ? null : ctx.Alloc(ElementType.Float32, new[] { rows, spatial });
        try
        {
            var mm = new MatMulParams
            {
                M = (int)mg, N = (int)spatial, K = (int)rows, Batch = 1, As0 = (int)rows, As1 = 1, Bs0 = (int)spatial, Alpha = 1f,
                BiasMode = bias is null ? 0 : 1,
            };
            var planeSize = (int)(x.Shape[2] * x.Shape[3]);
            for (long n = 0; n < batch; n++)
            {
                for (long g = 0; g < group; g++)
                {
                    var inOffset = OpContext.ToInt((n * c + g * cg) * planeSize, "offset", ctx);
                    mm.AOffset = (int)(g * mg * rows);
                    mm.COffset = OpContext.ToInt((n * m + g * mg) * spatial, "offset", ctx);
                    mm.BiasOffset = (int)(g * mg);
                    if (pointwise)
                    {
                        mm.BOffset = inOffset;
                        LaunchMatMul(ctx, w.View<float>(), x.View<float>(), y.View<float>(), biasView, mm);
                    }
                    else if (col is null)
                    {
                        p.InOffset = inOffset;
                        PackedMatMul.LaunchConv(ctx, w.View<float>(), x.View<float>(), y.View<float>(), biasView, mm, p);
                    }
                    else
                    {
                        p.InOffset = inOffset;
                        ctx.Kernels.Im2Col(OpContext.ToInt(rows * spatial, "im2col size", ctx), x.View<float>(), col.View<float>(), p);
                        mm.BOffset = 0;
                        LaunchMatMul(ctx, w.View<float>(), col.View<float>(), y.View<float>(), biasView, mm);
                    }
                }
            }
        }
        finally
        {
            col?.Dispose();
        }
        return y;
    }

    private static IlgpuTensor RunConvTranspose(OpContext ctx, IlgpuTensor?[] ins)
    {
        var x = ctx.Input(ins, 0);
        var w = ctx.Input(ins, 1);
        var bias = ctx.Optional(ins, 2);
        if (x.Shape.Length != 4 || w.Shape.Length != 4) throw ctx.Fail($"X {TensorShape.Format(x.Shape)} and W {TensorShape.Format(w.Shape)} must be rank 4");
        var node = ctx.Node;
        var group = node.GetInt("group", 1);
        long batch = x.Shape[0], c = x.Shape[1], h = x.Shape[2], wd = x.Shape[3];
        if (group <= 0 || w.Shape[0] != c || c % group != 0) throw ctx.Fail($"W {TensorShape.Format(w.Shape)} must have X's {c} channels first, divisible by group {group}");
        long mg = w.Shape[1], m = mg * group, kh = w.Shape[2], kw = w.Shape[3];
        if (node.GetInts("kernel_shape") is { } ks && (ks.Count != 2 || ks[0] != kh || ks[1] != kw)) throw ctx.Fail($"kernel_shape [{string.Join(",", ks)}] disagrees with W");
        if (bias is not null && (bias.Shape.Length != 1 || bias.Shape[0] != m)) throw ctx.Fail($"B must be [{m}], got {TensorShape.Format(bias.Shape)}");
        var strides = node.GetInts("strides") ?? new long[] { 1, 1 };
        var dilations = node.GetInts("dilations") ?? new long[] { 1, 1 };
        var outputPadding = node.GetInts("output_padding") ?? new long[] { 0, 0 };
        var pads = (node.GetInts("pads") ?? new long[] { 0, 0, 0, 0 }).ToArray();
        if (strides.Count != 2 || dilations.Count != 2 || outputPadding.Count != 2 || pads.Length != 4) throw ctx.Fail("strides, dilations and output_padding need 2 values and pads 4");
        if (strides.Any(v => v <= 0) || dilations.Any(v => v <= 0)) throw ctx.Fail("strides and dilations must be positive");
        var autoPad = node.GetString("auto_pad", "NOTSET");
        var input = new[] { h, wd };
        var kernel = new[] { kh, kw };
        var outShape = new long[2];
        var outputShape = node.GetInts("output_shape");
        for (var d = 0; d < 2; d++)
        {
            var full = strides[d] * (input[d] - 1) + outputPadding[d] + (kernel[d] - 1) * dilations[d] + 1;
            if (outputShape is not null || autoPad is "SAME_UPPER" or "SAME_LOWER")
            {
                var target = outputShape is not null ? outputShape[outputShape.Count - 2 + d] : input[d] * strides[d];
                // A negative total (output_shape larger than the input produces) extends the output with zeros;
                // floor division puts the extension at the end, as the ONNX reference does.
                var total = full - target;
                var half = (long)Math.Floor(total / 2.0);
                pads[d] = autoPad == "SAME_UPPER" ? half : total - half;
                pads[d + 2] = total - pads[d];
                outShape[d] = target;
            }
            else
            {
                if (autoPad == "VALID") pads[d] = pads[d + 2] = 0;
                outShape[d] = full - pads[d] - pads[d + 2];
            }
            if (outShape[d] <= 0) throw ctx.Fail($"the output would have size {outShape[d]} in spatial dimension {d}");
        }
        var y = ctx.Alloc(ElementType.Float32, new[] { batch, m, outShape[0], outShape[1] });
        var total2 = Count(ctx, y.Shape);
        if (total2 == 0) return y;
        var p = new WindowParams
        {
            C = (int)(c / group), M = (int)mg, Groups = (int)group, H = (int)h, W = (int)wd, KH = (int)kh, KW = (int)kw,
            SH = (int)strides[0], SW = (int)strides[1], DH = (int)dilations[0], DW = (int)dilations[1],
            PadTop = (int)pads[0], PadLeft = (int)pads[1], OH = (int)outShape[0], OW = (int)outShape[1],
            BatchInStride = OpContext.ToInt(c * h * wd, "input size", ctx), HasBias = bias is null ? 0 : 1,
        };
        ctx.Kernels.ConvTranspose(total2, x.View<float>(), w.View<float>(), (bias ?? y).View<float>(), y.View<float>(), p);
        return y;
    }
}
