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
        var batchCount = AccelTensor.CountElements(batch);
        if (batchCount == 0 || m == 0 || n == 0) return y;
        var p = new MatMulParams
        {
            M = OpContext.ToInt(m, "M", ctx), N = OpContext.ToInt(n, "N", ctx), K = OpContext.ToInt(k, "K", ctx),
            As0 = (int)k, As1 = 1, Bs0 = (int)n, Alpha = 1f, CBatchStride = (int)(m * n),
        };
        var aCount = AccelTensor.CountElements(aBatch);
        var bCount = AccelTensor.CountElements(bBatch);
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
        if (rank is < 3 or > 5) return NodeSupport.No($"1-D, 2-D and 3-D convolutions (rank 3-5 tensors) are implemented, got rank {rank}");
        var autoPad = node.GetString("auto_pad", "NOTSET");
        if (autoPad is not ("NOTSET" or "VALID" or "SAME_UPPER" or "SAME_LOWER")) return NodeSupport.No($"auto_pad '{autoPad}' is unknown");
        return NodeSupport.Yes;
    }

    /// <summary>
    /// Resolved geometry of a 1-D, 2-D or 3-D window op (Conv or pooling) from its attributes and the spatial size of
    /// its input, as a 3-D window (see <see cref="WindowParams"/>).
    /// </summary>
    internal static WindowParams Window(OpContext ctx, ReadOnlySpan<long> input, ReadOnlySpan<long> kernel, bool ceilMode = false)
    {
        var node = ctx.Node;
        var dims = input.Length;
        if (dims is < 1 or > 3 || kernel.Length != dims) throw ctx.Fail($"a window over {dims} spatial dimension(s) with a {kernel.Length}-D kernel is not supported (1-3 dimensions)");
        var strides = node.GetInts("strides")?.ToArray() ?? Enumerable.Repeat(1L, dims).ToArray();
        var dilations = node.GetInts("dilations")?.ToArray() ?? Enumerable.Repeat(1L, dims).ToArray();
        var pads = node.GetInts("pads")?.ToArray() ?? new long[2 * dims];
        if (strides.Length != dims || dilations.Length != dims || pads.Length != 2 * dims)
        {
            throw ctx.Fail($"strides/dilations need {dims} values and pads {2 * dims} for a {dims}-D window");
        }
        if (strides.Any(v => v <= 0) || dilations.Any(v => v <= 0)) throw ctx.Fail("strides and dilations must be positive");
        if (pads.Any(v => v < 0)) throw ctx.Fail("pads must not be negative");
        var autoPad = node.GetString("auto_pad", "NOTSET");
        // Leading unused dimensions of the 3-D window: size 1, kernel 1, stride 1, dilation 1, no padding.
        Span<long> size = stackalloc long[3], k = stackalloc long[3], st = stackalloc long[3], dil = stackalloc long[3];
        Span<long> begin = stackalloc long[3], end = stackalloc long[3], output = stackalloc long[3];
        size.Fill(1); k.Fill(1); st.Fill(1); dil.Fill(1); begin.Clear(); end.Clear(); output.Fill(1);
        for (var d = 0; d < dims; d++)
        {
            var i = 3 - dims + d;
            size[i] = input[d];
            k[i] = kernel[d];
            st[i] = strides[d];
            dil[i] = dilations[d];
            if (k[i] <= 0) throw ctx.Fail("kernel sizes must be positive");
            var effective = (k[i] - 1) * dil[i] + 1;
            long pb = pads[d], pe = pads[d + dims], o;
            switch (autoPad)
            {
                case "SAME_UPPER":
                case "SAME_LOWER":
                    o = (size[i] + st[i] - 1) / st[i];
                    var total = Math.Max(0, (o - 1) * st[i] + effective - size[i]);
                    pb = autoPad == "SAME_UPPER" ? total / 2 : total - total / 2;
                    pe = total - pb;
                    break;
                case "VALID":
                    pb = pe = 0;
                    o = (size[i] - effective) / st[i] + 1;
                    break;
                default:
                    if (ceilMode)
                    {
                        o = (long)Math.Ceiling((double)(size[i] + pb + pe - effective) / st[i]) + 1;
                        // The last window must start inside the input or the leading padding (ONNX/PyTorch rule).
                        if ((o - 1) * st[i] >= size[i] + pb) o--;
                    }
                    else
                    {
                        o = (size[i] + pb + pe - effective) / st[i] + 1;
                    }
                    break;
            }
            if (o <= 0 || size[i] + pb + pe < effective)
            {
                throw ctx.Fail($"the window (kernel {k[i]}, dilation {dil[i]}) does not fit spatial dimension {d} of size {size[i]} with its padding");
            }
            begin[i] = pb;
            end[i] = pe;
            output[i] = o;
        }
        return new WindowParams
        {
            D = (int)size[0], H = (int)size[1], W = (int)size[2], KD = (int)k[0], KH = (int)k[1], KW = (int)k[2],
            SD = (int)st[0], SH = (int)st[1], SW = (int)st[2], DD = (int)dil[0], DH = (int)dil[1], DW = (int)dil[2],
            PadFront = (int)begin[0], PadTop = (int)begin[1], PadLeft = (int)begin[2], PadBack = (int)end[0], PadBottom = (int)end[1], PadRight = (int)end[2],
            OD = (int)output[0], OH = (int)output[1], OW = (int)output[2],
        };
    }

    /// <summary>The spatial output shape of a window in <paramref name="dims"/> dimensions.</summary>
    internal static long[] WindowOutput(WindowParams p, int dims) => new long[] { p.OD, p.OH, p.OW }[(3 - dims)..];

    private static IlgpuTensor RunConv(OpContext ctx, IlgpuTensor?[] ins)
    {
        var x = ctx.Input(ins, 0);
        var w = ctx.Input(ins, 1);
        var bias = ctx.Optional(ins, 2);
        var rank = x.Shape.Length;
        if (rank is < 3 or > 5 || w.Shape.Length != rank) throw ctx.Fail($"X {TensorShape.Format(x.Shape)} and W {TensorShape.Format(w.Shape)} must both be rank 3, 4 or 5");
        var dims = rank - 2;
        var group = ctx.Node.GetInt("group", 1);
        long batch = x.Shape[0], c = x.Shape[1], m = w.Shape[0], cg = w.Shape[1];
        if (group <= 0 || c != cg * group || m % group != 0)
        {
            throw ctx.Fail($"X has {c} channels, W {TensorShape.Format(w.Shape)} with group {group}: channels must equal W[1]*group and W[0] divide by group");
        }
        if (ctx.Node.GetInts("kernel_shape") is { } ks && !ks.SequenceEqual(w.Shape[2..]))
        {
            throw ctx.Fail($"kernel_shape [{string.Join(",", ks)}] disagrees with W {TensorShape.Format(w.Shape)}");
        }
        if (bias is not null && (bias.Shape.Length != 1 || bias.Shape[0] != m)) throw ctx.Fail($"B must be [{m}], got {TensorShape.Format(bias.Shape)}");
        var p = Window(ctx, x.Shape.AsSpan(2), w.Shape.AsSpan(2));
        var y = ctx.Alloc(ElementType.Float32, new[] { batch, m }.Concat(WindowOutput(p, dims)).ToArray());
        var total = Count(ctx, y.Shape);
        if (total == 0) return y;
        long spatial = (long)p.OD * p.OH * p.OW;
        long mg = m / group;
        p.C = (int)cg;
        p.M = (int)mg;
        p.Groups = (int)group;
        p.BatchInStride = OpContext.ToInt(c * p.D * p.H * p.W, "input size", ctx);
        p.HasBias = bias is null ? 0 : 1;
        var biasView = (bias ?? y).View<float>();
        if (group > 1 && cg * mg <= 4)
        {
            // Depthwise-like: im2col would copy every input element KD*KH*KW times for a product of width 1.
            ctx.Kernels.DirectConv(total, x.View<float>(), w.View<float>(), biasView, y.View<float>(), p);
            return y;
        }
        long rows = cg * p.KD * p.KH * p.KW;
        var pointwise = p.KD == 1 && p.KH == 1 && p.KW == 1 && p.SD == 1 && p.SH == 1 && p.SW == 1 &&
            p.PadFront == 0 && p.PadTop == 0 && p.PadLeft == 0 && p.PadBack == 0 && p.PadBottom == 0 && p.PadRight == 0;
        var col = pointwise || ctx.MatMul == MatMulVariant.Packed ? null : ctx.Alloc(ElementType.Float32, new[] { rows, spatial });
        try
        {
            var mm = new MatMulParams
            {
                M = (int)mg, N = (int)spatial, K = (int)rows, Batch = 1, As0 = (int)rows, As1 = 1, Bs0 = (int)spatial, Alpha = 1f,
                BiasMode = bias is null ? 0 : 1,
            };
            var planeSize = (long)p.D * p.H * p.W;
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
        var rank = x.Shape.Length;
        if (rank is < 3 or > 5 || w.Shape.Length != rank) throw ctx.Fail($"X {TensorShape.Format(x.Shape)} and W {TensorShape.Format(w.Shape)} must both be rank 3, 4 or 5");
        var dims = rank - 2;
        var node = ctx.Node;
        var group = node.GetInt("group", 1);
        long batch = x.Shape[0], c = x.Shape[1];
        if (group <= 0 || w.Shape[0] != c || c % group != 0) throw ctx.Fail($"W {TensorShape.Format(w.Shape)} must have X's {c} channels first, divisible by group {group}");
        long mg = w.Shape[1], m = mg * group;
        var input = x.Shape[2..];
        var kernel = w.Shape[2..];
        if (node.GetInts("kernel_shape") is { } ks && !ks.SequenceEqual(kernel)) throw ctx.Fail($"kernel_shape [{string.Join(",", ks)}] disagrees with W");
        if (bias is not null && (bias.Shape.Length != 1 || bias.Shape[0] != m)) throw ctx.Fail($"B must be [{m}], got {TensorShape.Format(bias.Shape)}");
        var strides = node.GetInts("strides")?.ToArray() ?? Enumerable.Repeat(1L, dims).ToArray();
        var dilations = node.GetInts("dilations")?.ToArray() ?? Enumerable.Repeat(1L, dims).ToArray();
        var outputPadding = node.GetInts("output_padding")?.ToArray() ?? new long[dims];
        var pads = node.GetInts("pads")?.ToArray() ?? new long[2 * dims];
        if (strides.Length != dims || dilations.Length != dims || outputPadding.Length != dims || pads.Length != 2 * dims)
        {
            throw ctx.Fail($"strides, dilations and output_padding need {dims} values and pads {2 * dims}");
        }
        if (strides.Any(v => v <= 0) || dilations.Any(v => v <= 0)) throw ctx.Fail("strides and dilations must be positive");
        var autoPad = node.GetString("auto_pad", "NOTSET");
        var outShape = new long[dims];
        var outputShape = node.GetInts("output_shape");
        if (outputShape is not null && outputShape.Count < dims) throw ctx.Fail($"output_shape needs at least {dims} values");
        for (var d = 0; d < dims; d++)
        {
            var full = strides[d] * (input[d] - 1) + outputPadding[d] + (kernel[d] - 1) * dilations[d] + 1;
            if (outputShape is not null || autoPad is "SAME_UPPER" or "SAME_LOWER")
            {
                var target = outputShape is not null ? outputShape[outputShape.Count - dims + d] : input[d] * strides[d];
                // A negative total (output_shape larger than the input produces) extends the output with zeros;
                // floor division puts the extension at the end, as the ONNX reference does.
                var total = full - target;
                var half = (long)Math.Floor(total / 2.0);
                pads[d] = autoPad == "SAME_UPPER" ? half : total - half;
                pads[d + dims] = total - pads[d];
                outShape[d] = target;
            }
            else
            {
                if (autoPad == "VALID") pads[d] = pads[d + dims] = 0;
                outShape[d] = full - pads[d] - pads[d + dims];
            }
            if (outShape[d] <= 0) throw ctx.Fail($"the output would have size {outShape[d]} in spatial dimension {d}");
        }
        var y = ctx.Alloc(ElementType.Float32, new[] { batch, m }.Concat(outShape).ToArray());
        var count = Count(ctx, y.Shape);
        if (count == 0) return y;
        // Leading unused dimensions of the 3-D window: size 1, kernel 1, stride 1, dilation 1, no padding.
        long At(long[] values, int i, long fill) => i >= 3 - dims ? values[i - (3 - dims)] : fill;
        var p = new WindowParams
        {
            C = (int)(c / group), M = (int)mg, Groups = (int)group,
            D = (int)At(input, 0, 1), H = (int)At(input, 1, 1), W = (int)At(input, 2, 1),
            KD = (int)At(kernel, 0, 1), KH = (int)At(kernel, 1, 1), KW = (int)At(kernel, 2, 1),
            SD = (int)At(strides, 0, 1), SH = (int)At(strides, 1, 1), SW = (int)At(strides, 2, 1),
            DD = (int)At(dilations, 0, 1), DH = (int)At(dilations, 1, 1), DW = (int)At(dilations, 2, 1),
            PadFront = (int)At(pads[..dims], 0, 0), PadTop = (int)At(pads[..dims], 1, 0), PadLeft = (int)At(pads[..dims], 2, 0),
            OD = (int)At(outShape, 0, 1), OH = (int)At(outShape, 1, 1), OW = (int)At(outShape, 2, 1),
            BatchInStride = OpContext.ToInt(AccelTensor.CountElements(x.Shape[1..]), "input size", ctx), HasBias = bias is null ? 0 : 1,
        };
        ctx.Kernels.ConvTranspose(count, x.View<float>(), w.View<float>(), (bias ?? y).View<float>(), y.View<float>(), p);
        return y;
    }
}
