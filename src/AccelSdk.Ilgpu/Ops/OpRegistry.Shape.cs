using AccelSdk.Backends;
using AccelSdk.Ilgpu.Kernels;
using AccelSdk.Ilgpu.Runtime;
using AccelSdk.Ir;

namespace AccelSdk.Ilgpu.Ops;

internal static partial class OpRegistry
{
    private static void RegisterShapeOps(Action<string, Func<Node, NodeContext, NodeSupport>, Func<OpContext, IlgpuTensor?[], IlgpuTensor?[]>, Action<OpContext>> add)
    {
        Func<Node, NodeContext, NodeSupport> movable = (n, c) => All(OutputCount(n, 1), RequireType(n, c, 0, MovableTypes));
        Action<OpContext> none = _ => { };
        Action<OpContext> copies = ctx => _ = ctx.Kernels.StridedCopy<int>();
        add("Identity", movable, (ctx, ins) => new[] { ctx.Input(ins, 0).Alias(ctx.Input(ins, 0).Shape) }, none);
        add("Reshape", (n, c) => All(movable(n, c), RequireType(n, c, 1, ElementType.Int64)), (ctx, ins) => new[] { RunReshape(ctx, ins) }, none);
        add("Flatten", movable, (ctx, ins) => new[] { RunFlatten(ctx, ctx.Input(ins, 0)) }, none);
        add("Squeeze", (n, c) => All(movable(n, c), RequireType(n, c, 1, ElementType.Int64)), (ctx, ins) => new[] { RunSqueeze(ctx, ins) }, none);
        add("Unsqueeze", (n, c) => All(movable(n, c), RequireType(n, c, 1, ElementType.Int64)), (ctx, ins) => new[] { RunUnsqueeze(ctx, ins) }, none);
        add("Shape", (n, c) => c.TensorTypeOf(n.Inputs.FirstOrDefault() ?? "") is null ? NodeSupport.No("the input type is unknown") : OutputCount(n, 1),
            (ctx, ins) => new[] { RunShape(ctx, ctx.Input(ins, 0)) }, none);
        add("Constant", CheckConstant, (ctx, _) => new[] { ctx.UploadHost(ConstantValue(ctx.Node)) }, none);
        add("ConstantOfShape", CheckConstantOfShape, (ctx, ins) => new[] { RunConstantOfShape(ctx, ctx.Input(ins, 0)) },
            ctx => { _ = ctx.Kernels.Fill<float>(); });
        add("Transpose", (n, c) => All(movable(n, c), MaxRank(n, c, 0, 6)), (ctx, ins) => new[] { RunTranspose(ctx, ctx.Input(ins, 0)) }, copies);
        add("Expand", (n, c) => All(movable(n, c), RequireType(n, c, 1, ElementType.Int64), MaxRank(n, c, 0, 6)),
            (ctx, ins) => new[] { RunExpand(ctx, ctx.Input(ins, 0), ctx.Input(ins, 1)) }, copies);
        add("Concat", (n, c) => All(movable(n, c), AllSameType(n, c)), (ctx, ins) => new[] { RunConcat(ctx, ins) }, copies);
        add("Split", (n, c) => All(RequireType(n, c, 0, MovableTypes), RequireType(n, c, 1, ElementType.Int64)), RunSplit, copies);
        add("Slice", (n, c) => All(movable(n, c), RequireType(n, c, 1, ElementType.Int64, ElementType.Int32), MaxRank(n, c, 0, 6)),
            (ctx, ins) => new[] { RunSlice(ctx, ins) }, copies);
        add("Gather", (n, c) => All(movable(n, c), RequireType(n, c, 1, ElementType.Int64, ElementType.Int32)),
            (ctx, ins) => new[] { RunGather(ctx, ctx.Input(ins, 0), ctx.Input(ins, 1)) }, none);
        add("Pad", CheckPad, (ctx, ins) => new[] { RunPad(ctx, ins) }, ctx => _ = ctx.Kernels.Pad);
        add("Resize", CheckResize, (ctx, ins) => new[] { RunResize(ctx, ins) }, ctx => _ = ctx.Kernels.Resize);
    }

    private static NodeSupport AllSameType(Node node, NodeContext ctx)
    {
        var first = TypeOf(node, ctx, 0);
        for (var i = 1; i < node.Inputs.Count; i++)
        {
            if (TypeOf(node, ctx, i) != first) return NodeSupport.No("inputs differ in element type or have unknown types");
        }
        return NodeSupport.Yes;
    }

    // ---- pure shape changes (aliases, no copy) ----

    private static IlgpuTensor RunReshape(OpContext ctx, IlgpuTensor?[] ins)
    {
        var x = ctx.Input(ins, 0);
        var requested = ctx.ReadInts(ctx.Input(ins, 1));
        var allowZero = ctx.Node.GetInt("allowzero", 0) != 0;
        var shape = new long[requested.Length];
        var infer = -1;
        long known = 1;
        for (var i = 0; i < requested.Length; i++)
        {
            var d = requested[i];
            if (d == 0 && !allowZero)
            {
                if (i >= x.Shape.Length) throw ctx.Fail($"shape {TensorShape.Format(requested)} copies dimension {i} that X {TensorShape.Format(x.Shape)} lacks");
                d = x.Shape[i];
            }
            if (d == -1)
            {
                if (infer >= 0) throw ctx.Fail($"shape {TensorShape.Format(requested)} has more than one -1");
                infer = i;
                continue;
            }
            if (d < 0) throw ctx.Fail($"shape {TensorShape.Format(requested)} has a negative dimension");
            shape[i] = d;
            known *= d;
        }
        if (infer >= 0)
        {
            if (known == 0 || x.ElementCount % known != 0) throw ctx.Fail($"cannot reshape {TensorShape.Format(x.Shape)} to {TensorShape.Format(requested)}");
            shape[infer] = x.ElementCount / known;
        }
        if (AccelTensor.CountElements(shape) != x.ElementCount) throw ctx.Fail($"cannot reshape {TensorShape.Format(x.Shape)} ({x.ElementCount} elements) to {TensorShape.Format(shape)}");
        return x.Alias(shape);
    }

    private static IlgpuTensor RunFlatten(OpContext ctx, IlgpuTensor x)
    {
        var rank = x.Shape.Length;
        var axis = ctx.Node.GetInt("axis", 1);
        if (axis < -rank || axis > rank) throw ctx.Fail($"axis {axis} is out of range for rank {rank}");
        if (axis < 0) axis += rank;
        return x.Alias(new[] { AccelTensor.CountElements(x.Shape[..(int)axis]), AccelTensor.CountElements(x.Shape[(int)axis..]) });
    }

    private static long[]? AxesOf(OpContext ctx, IlgpuTensor?[] ins, int inputIndex, long inputSinceOpset) =>
        ctx.Opset >= inputSinceOpset
            ? (ctx.Optional(ins, inputIndex) is { } t ? ctx.ReadInts(t) : null)
            : ctx.Node.GetInts("axes")?.ToArray();

    private static IlgpuTensor RunSqueeze(OpContext ctx, IlgpuTensor?[] ins)
    {
        var x = ctx.Input(ins, 0);
        var axes = AxesOf(ctx, ins, 1, 13);
        var rank = x.Shape.Length;
        var drop = new bool[rank];
        if (axes is null)
        {
            for (var i = 0; i < rank; i++) drop[i] = x.Shape[i] == 1;
        }
        else
        {
            foreach (var a in axes)
            {
                var k = NormalizeAxis(ctx, a, rank, "axes value");
                if (x.Shape[k] != 1) throw ctx.Fail($"cannot squeeze axis {a} of size {x.Shape[k]} in {TensorShape.Format(x.Shape)}");
                drop[k] = true;
            }
        }
        return x.Alias(x.Shape.Where((_, i) => !drop[i]).ToArray());
    }

    private static IlgpuTensor RunUnsqueeze(OpContext ctx, IlgpuTensor?[] ins)
    {
        var x = ctx.Input(ins, 0);
        var axes = AxesOf(ctx, ins, 1, 13) ?? throw ctx.Fail("axes are required");
        var rank = x.Shape.Length + axes.Length;
        var insert = new bool[rank];
        foreach (var a in axes)
        {
            var k = NormalizeAxis(ctx, a, rank, "axes value");
            if (insert[k]) throw ctx.Fail($"axis {a} is listed twice");
            insert[k] = true;
        }
        var shape = new long[rank];
        var src = 0;
        for (var i = 0; i < rank; i++) shape[i] = insert[i] ? 1 : x.Shape[src++];
        return x.Alias(shape);
    }

    private static IlgpuTensor RunShape(OpContext ctx, IlgpuTensor x)
    {
        var rank = x.Shape.Length;
        long start = ctx.Node.GetInt("start", 0), end = ctx.Node.GetInt("end", rank);
        if (start < 0) start += rank;
        if (end < 0) end += rank;
        start = Math.Clamp(start, 0, rank);
        end = Math.Clamp(end, 0, rank);
        var dims = x.Shape[(int)start..(int)Math.Max(start, end)];
        return ctx.UploadHost(AccelTensor.Create<long>(dims, dims.Length));
    }

    private static NodeSupport CheckConstant(Node node, NodeContext ctx)
    {
        if (node.Attribute("value") is { Kind: AttributeKind.Tensor } v)
        {
            return MovableTypes.Contains(v.AsTensor().ElementType) ? OutputCount(node, 1) : NodeSupport.No($"constant of {v.AsTensor().ElementType.ShortName()} is not supported");
        }
        foreach (var name in new[] { "value_float", "value_floats", "value_int", "value_ints" })
        {
            if (node.Attribute(name) is not null) return OutputCount(node, 1);
        }
        return NodeSupport.No("only tensor, float(s) and int(s) constants are supported");
    }

    private static AccelTensor ConstantValue(Node node)
    {
        if (node.Attribute("value") is { Kind: AttributeKind.Tensor } v) return v.AsTensor();
        if (node.Attribute("value_float") is { } f) return AccelTensor.Scalar(f.AsFloat());
        if (node.Attribute("value_floats") is { } fs) return AccelTensor.FromArray(fs.AsFloats().ToArray());
        if (node.Attribute("value_int") is { } i) return AccelTensor.Scalar(i.AsInt());
        if (node.Attribute("value_ints") is { } ints) return AccelTensor.FromArray(ints.AsInts().ToArray());
        throw new InvalidModelException($"{node.Describe()}: no supported value attribute", node.Name, node.OpType);
    }

    private static NodeSupport CheckConstantOfShape(Node node, NodeContext ctx)
    {
        var type = node.Attribute("value") is { Kind: AttributeKind.Tensor } v ? v.AsTensor().ElementType : ElementType.Float32;
        if (type.SizeInBytes() is not (1 or 2 or 4 or 8)) return NodeSupport.No($"ConstantOfShape of {type.ShortName()} is not supported");
        return All(OutputCount(node, 1), RequireType(node, ctx, 0, ElementType.Int64));
    }

    private static IlgpuTensor RunConstantOfShape(OpContext ctx, IlgpuTensor shapeTensor)
    {
        var shape = ctx.ReadInts(shapeTensor);
        if (shape.Any(d => d < 0)) throw ctx.Fail($"shape {TensorShape.Format(shape)} has a negative dimension");
        var value = ctx.Node.Attribute("value") is { Kind: AttributeKind.Tensor } v ? v.AsTensor() : AccelTensor.FromArray(0f);
        if (value.ElementCount != 1) throw ctx.Fail("value must hold one element");
        var y = ctx.Alloc(value.ElementType, shape);
        var n = Count(ctx, shape);
        if (n == 0) return y;
        var k = ctx.Kernels;
        switch (value.ElementType.SizeInBytes())
        {
            case 1: k.Fill<byte>()(n, y.View<byte>(), value.Bytes[0]); break;
            case 2: k.Fill<short>()(n, y.View<short>(), value.AsSpanOfSize<short>()); break;
            case 4: k.Fill<int>()(n, y.View<int>(), value.AsSpanOfSize<int>()); break;
            case 8: k.Fill<long>()(n, y.View<long>(), value.AsSpanOfSize<long>()); break;
            default: y.Dispose(); throw ctx.Fail($"value of {value.ElementType.ShortName()} is not supported");
        }
        return y;
    }

    // ---- copies ----

    private static IlgpuTensor RunTranspose(OpContext ctx, IlgpuTensor x)
    {
        CheckRank(ctx, x, "data");
        var rank = x.Shape.Length;
        var perm = ctx.Node.GetInts("perm")?.ToArray() ?? Enumerable.Range(0, rank).Reverse().Select(i => (long)i).ToArray();
        if (perm.Length != rank || perm.Distinct().Count() != rank || perm.Any(p => p < 0 || p >= rank))
        {
            throw ctx.Fail($"perm [{string.Join(",", perm)}] is not a permutation of rank {rank}");
        }
        var inStrides = Strides(x.Shape);
        var outShape = perm.Select(p => x.Shape[(int)p]).ToArray();
        var y = ctx.Alloc(x.ElementType, outShape);
        ctx.Kernels.StridedCopy(x.ElementType, Count(ctx, outShape), x, y, new CopyParams
        {
            Dims = Dims6.From(outShape, 1),
            SrcStrides = Dims6.From(perm.Select(p => inStrides[(int)p]).ToArray(), 0),
            DstStrides = Dims6.From(Strides(outShape), 0),
        });
        return y;
    }

    private static IlgpuTensor RunExpand(OpContext ctx, IlgpuTensor x, IlgpuTensor shapeTensor)
    {
        var shape = ctx.ReadInts(shapeTensor);
        var outShape = BroadcastShape(ctx, x.Shape, shape);
        if (outShape.Length > Dims6.MaxRank) throw ctx.Fail($"rank {outShape.Length} exceeds {Dims6.MaxRank}");
        var y = ctx.Alloc(x.ElementType, outShape);
        ctx.Kernels.StridedCopy(x.ElementType, Count(ctx, outShape), x, y, new CopyParams
        {
            Dims = Dims6.From(outShape, 1),
            SrcStrides = BroadcastStrides(x.Shape, outShape),
            DstStrides = Dims6.From(Strides(outShape), 0),
        });
        return y;
    }

    private static IlgpuTensor RunConcat(OpContext ctx, IlgpuTensor?[] ins)
    {
        var inputs = ins.Where(t => t is not null).Select(t => t!).ToArray();
        if (inputs.Length == 0) throw ctx.Fail("needs at least one input");
        var first = inputs[0];
        var rank = first.Shape.Length;
        var axis = NormalizeAxis(ctx, ctx.Node.GetInt("axis", ctx.Opset < 4 ? 1 : 0), rank);
        long total = 0;
        foreach (var t in inputs)
        {
            CheckRank(ctx, t, "input");
            if (t.ElementType != first.ElementType || t.Shape.Length != rank) throw ctx.Fail("inputs differ in element type or rank");
            for (var d = 0; d < rank; d++)
            {
                if (d != axis && t.Shape[d] != first.Shape[d]) throw ctx.Fail($"input shapes {TensorShape.Format(first.Shape)} and {TensorShape.Format(t.Shape)} differ outside axis {axis}");
            }
            total += t.Shape[axis];
        }
        var outShape = (long[])first.Shape.Clone();
        outShape[axis] = total;
        var y = ctx.Alloc(first.ElementType, outShape);
        var outStrides = Strides(outShape);
        long offset = 0;
        foreach (var t in inputs)
        {
            ctx.Kernels.StridedCopy(t.ElementType, Count(ctx, t.Shape), t, y, new CopyParams
            {
                Dims = Dims6.From(t.Shape, 1),
                SrcStrides = Dims6.From(Strides(t.Shape), 0),
                DstStrides = Dims6.From(outStrides, 0),
                DstOffset = OpContext.ToInt(offset * outStrides[axis], "offset", ctx),
            });
            offset += t.Shape[axis];
        }
        return y;
    }

    private static IlgpuTensor?[] RunSplit(OpContext ctx, IlgpuTensor?[] ins)
    {
        var x = ctx.Input(ins, 0);
        CheckRank(ctx, x, "input");
        var rank = x.Shape.Length;
        var axis = NormalizeAxis(ctx, ctx.Node.GetInt("axis", 0), rank);
        var outputs = ctx.Node.Outputs.Count;
        long[]? split = ctx.Opset >= 13
            ? (ctx.Optional(ins, 1) is { } s ? ctx.ReadInts(s) : null)
            : ctx.Node.GetInts("split")?.ToArray();
        var dim = x.Shape[axis];
        if (split is null)
        {
            if (ctx.Opset >= 18 && ctx.Node.Attribute("num_outputs") is { } no) outputs = (int)no.AsInt();
            var chunk = (dim + outputs - 1) / outputs;
            split = Enumerable.Range(0, outputs).Select(i => Math.Max(0, Math.Min(chunk, dim - i * chunk))).ToArray();
            if (ctx.Opset < 18 && dim % outputs != 0) throw ctx.Fail($"axis {axis} of size {dim} does not split evenly into {outputs} outputs");
        }
        if (split.Length != ctx.Node.Outputs.Count || split.Sum() != dim || split.Any(v => v < 0))
        {
            throw ctx.Fail($"split [{string.Join(",", split)}] does not divide axis {axis} of size {dim} into {ctx.Node.Outputs.Count} outputs");
        }
        var inStrides = Strides(x.Shape);
        var result = new IlgpuTensor?[split.Length];
        long offset = 0;
        for (var i = 0; i < split.Length; i++)
        {
            var shape = (long[])x.Shape.Clone();
            shape[axis] = split[i];
            var y = ctx.Alloc(x.ElementType, shape);
            ctx.Kernels.StridedCopy(x.ElementType, Count(ctx, shape), x, y, new CopyParams
            {
                Dims = Dims6.From(shape, 1),
                SrcStrides = Dims6.From(inStrides, 0),
                DstStrides = Dims6.From(Strides(shape), 0),
                SrcOffset = OpContext.ToInt(offset * inStrides[axis], "offset", ctx),
            });
            result[i] = y;
            offset += split[i];
        }
        return result;
    }

    private static IlgpuTensor RunSlice(OpContext ctx, IlgpuTensor?[] ins)
    {
        var x = ctx.Input(ins, 0);
        CheckRank(ctx, x, "data");
        var rank = x.Shape.Length;
        long[] starts, ends;
        long[]? axes, steps = null;
        if (ctx.Opset < 10)
        {
            starts = ctx.Node.GetInts("starts")?.ToArray() ?? throw ctx.Fail("starts is required");
            ends = ctx.Node.GetInts("ends")?.ToArray() ?? throw ctx.Fail("ends is required");
            axes = ctx.Node.GetInts("axes")?.ToArray();
        }
        else
        {
            starts = ctx.ReadInts(ctx.Input(ins, 1));
            ends = ctx.ReadInts(ctx.Input(ins, 2));
            axes = ctx.Optional(ins, 3) is { } a ? ctx.ReadInts(a) : null;
            steps = ctx.Optional(ins, 4) is { } s ? ctx.ReadInts(s) : null;
        }
        axes ??= Enumerable.Range(0, starts.Length).Select(i => (long)i).ToArray();
        steps ??= Enumerable.Repeat(1L, starts.Length).ToArray();
        if (ends.Length != starts.Length || axes.Length != starts.Length || steps.Length != starts.Length)
        {
            throw ctx.Fail("starts, ends, axes and steps differ in length");
        }
        var begin = new long[rank];
        var step = Enumerable.Repeat(1L, rank).ToArray();
        var outShape = (long[])x.Shape.Clone();
        var seen = new bool[rank];
        for (var i = 0; i < starts.Length; i++)
        {
            var axis = NormalizeAxis(ctx, axes[i], rank, "axes value");
            if (seen[axis]) throw ctx.Fail($"axis {axes[i]} is listed twice");
            seen[axis] = true;
            var dim = x.Shape[axis];
            var st = steps[i];
            if (st == 0) throw ctx.Fail("a step of 0 is invalid");
            long b = starts[i], e = ends[i];
            if (b < 0) b += dim;
            if (e < 0) e += dim;
            if (st > 0)
            {
                b = Math.Clamp(b, 0, dim);
                e = Math.Clamp(e, 0, dim);
                outShape[axis] = e > b ? (e - b + st - 1) / st : 0;
            }
            else
            {
                b = Math.Clamp(b, -1, dim - 1);
                e = Math.Clamp(e, -1, dim - 1);
                outShape[axis] = b > e ? (b - e + (-st) - 1) / (-st) : 0;
            }
            begin[axis] = b;
            step[axis] = st;
        }
        var inStrides = Strides(x.Shape);
        var y = ctx.Alloc(x.ElementType, outShape);
        if (AccelTensor.CountElements(outShape) == 0) return y;
        long srcOffset = 0;
        for (var d = 0; d < rank; d++) srcOffset += begin[d] * inStrides[d];
        ctx.Kernels.StridedCopy(x.ElementType, Count(ctx, outShape), x, y, new CopyParams
        {
            Dims = Dims6.From(outShape, 1),
            SrcStrides = Dims6.From(inStrides.Select((s, d) => s * step[d]).ToArray(), 0),
            DstStrides = Dims6.From(Strides(outShape), 0),
            SrcOffset = OpContext.ToInt(srcOffset, "offset", ctx),
        });
        return y;
    }

    private static IlgpuTensor RunGather(OpContext ctx, IlgpuTensor x, IlgpuTensor indices)
    {
        var rank = x.Shape.Length;
        if (rank == 0) throw ctx.Fail("data must have rank >= 1");
        var axis = NormalizeAxis(ctx, ctx.Node.GetInt("axis", 0), rank);
        var dim = x.Shape[axis];
        // Indices are validated on the host before any kernel runs: an out-of-range index must never reach the device.
        foreach (var i in ctx.ReadInts(indices))
        {
            if (i < -dim || i >= dim) throw ctx.Fail($"index {i} is out of range for axis {axis} of size {dim}");
        }
        var outShape = x.Shape[..axis].Concat(indices.Shape).Concat(x.Shape[(axis + 1)..]).ToArray();
        var y = ctx.Alloc(x.ElementType, outShape);
        var n = Count(ctx, outShape);
        if (n == 0) return y;
        var p = new GatherParams
        {
            AxisDim = (int)dim,
            Inner = Math.Max(1, Count(ctx, x.Shape[(axis + 1)..])),
            IndexCount = Math.Max(1, Count(ctx, indices.Shape)),
        };
        if (AccelTensor.CountElements(x.Shape[(axis + 1)..]) == 0) return y;
        var k = ctx.Kernels;
        var i64 = indices.ElementType == ElementType.Int64;
        switch (x.ElementType.SizeInBytes())
        {
            case 1: if (i64) k.GatherInt64<byte>()(n, x.View<byte>(), indices.View<long>(), y.View<byte>(), p); else k.GatherInt32<byte>()(n, x.View<byte>(), indices.View<int>(), y.View<byte>(), p); break;
            case 2: if (i64) k.GatherInt64<short>()(n, x.View<short>(), indices.View<long>(), y.View<short>(), p); else k.GatherInt32<short>()(n, x.View<short>(), indices.View<int>(), y.View<short>(), p); break;
            case 4: if (i64) k.GatherInt64<int>()(n, x.View<int>(), indices.View<long>(), y.View<int>(), p); else k.GatherInt32<int>()(n, x.View<int>(), indices.View<int>(), y.View<int>(), p); break;
            default: if (i64) k.GatherInt64<long>()(n, x.View<long>(), indices.View<long>(), y.View<long>(), p); else k.GatherInt32<long>()(n, x.View<long>(), indices.View<int>(), y.View<long>(), p); break;
        }
        return y;
    }

    private static NodeSupport CheckPad(Node node, NodeContext ctx)
    {
        var mode = node.GetString("mode", "constant");
        if (mode is not ("constant" or "reflect" or "edge")) return NodeSupport.No($"Pad mode '{mode}' is not implemented");
        if (HasInput(node, 3)) return NodeSupport.No("Pad with an axes input is not implemented");
        return All(OutputCount(node, 1), RequireType(node, ctx, 0, ElementType.Float32), RequireType(node, ctx, 1, ElementType.Int64),
            RequireType(node, ctx, 2, ElementType.Float32), MaxRank(node, ctx, 0, 6));
    }

    private static IlgpuTensor RunPad(OpContext ctx, IlgpuTensor?[] ins)
    {
        var x = ctx.Input(ins, 0);
        CheckRank(ctx, x, "data");
        var rank = x.Shape.Length;
        var mode = ctx.Node.GetString("mode", "constant");
        long[] pads;
        float value;
        if (ctx.Opset < 11)
        {
            pads = ctx.Node.GetInts("pads")?.ToArray() ?? throw ctx.Fail("pads is required");
            value = ctx.Node.GetFloat("value", 0f);
        }
        else
        {
            pads = ctx.ReadInts(ctx.Input(ins, 1));
            value = ctx.Optional(ins, 2) is { } v ? ScalarOf(ctx, v, "constant_value") : 0f;
        }
        if (pads.Length != 2 * rank) throw ctx.Fail($"pads has {pads.Length} values; rank {rank} needs {2 * rank}");
        var outShape = new long[rank];
        for (var d = 0; d < rank; d++)
        {
            outShape[d] = x.Shape[d] + pads[d] + pads[d + rank];
            if (outShape[d] < 0) throw ctx.Fail($"pads [{string.Join(",", pads)}] remove more than dimension {d} holds");
            if (pads[d] < 0 || pads[d + rank] < 0) throw ctx.Fail("negative pads (cropping) are not implemented");
            if (mode == "reflect" && (pads[d] > 0 || pads[d + rank] > 0) && (x.Shape[d] < 2 || pads[d] >= x.Shape[d] || pads[d + rank] >= x.Shape[d]))
            {
                throw ctx.Fail($"reflect padding of {pads[d]}/{pads[d + rank]} needs dimension {d} (size {x.Shape[d]}) to be larger than the pads");
            }
            if (mode == "edge" && x.Shape[d] == 0 && outShape[d] > 0) throw ctx.Fail($"edge padding of an empty dimension {d}");
        }
        var y = ctx.Alloc(ElementType.Float32, outShape);
        var n = Count(ctx, outShape);
        if (n == 0) return y;
        ctx.Kernels.Pad(n, x.View<float>(), y.View<float>(), new PadParams
        {
            Out = Dims6.From(outShape, 1),
            In = Dims6.From(x.Shape, 1),
            InStrides = Dims6.From(Strides(x.Shape), 0),
            Begin = Dims6.From(pads[..rank], 0),
            Mode = mode == "constant" ? 0 : mode == "reflect" ? 1 : 2,
            Value = value,
        });
        return y;
    }

    private static NodeSupport CheckResize(Node node, NodeContext ctx)
    {
        if (ctx.OpsetOf(node) < 11) return NodeSupport.No("Resize before opset 11 is not implemented");
        var mode = node.GetString("mode", "nearest");
        if (mode is not ("nearest" or "linear" or "cubic")) return NodeSupport.No($"Resize mode '{mode}' is not implemented");
        var transform = node.GetString("coordinate_transformation_mode", "half_pixel");
        if (transform is not ("half_pixel" or "asymmetric" or "align_corners" or "pytorch_half_pixel" or "tf_half_pixel_for_nn" or "tf_crop_and_resize"))
        {
            return NodeSupport.No($"coordinate_transformation_mode '{transform}' is not implemented");
        }
        var nearest = node.GetString("nearest_mode", "round_prefer_floor");
        if (nearest is not ("round_prefer_floor" or "round_prefer_ceil" or "floor" or "ceil")) return NodeSupport.No($"nearest_mode '{nearest}' is unknown");
        if (node.GetInt("antialias", 0) != 0 || node.Attribute("axes") is not null || node.GetString("keep_aspect_ratio_policy", "stretch") != "stretch")
        {
            return NodeSupport.No("antialias, axes and keep_aspect_ratio_policy are not implemented");
        }
        if (node.GetInt("exclude_outside", 0) != 0 && mode != "cubic") return NodeSupport.No($"exclude_outside with mode '{mode}' is not implemented (only with cubic)");
        var rank = RankOf(node, ctx, 0);
        if (rank is not null && rank != 4) return NodeSupport.No($"only rank-4 (N,C,H,W) Resize is implemented, got rank {rank}");
        if (rank is null) return NodeSupport.No("the rank of X is unknown");
        var roi = transform == "tf_crop_and_resize" ? RequireType(node, ctx, 1, ElementType.Float32) : NodeSupport.Yes;
        if (transform == "tf_crop_and_resize" && !HasInput(node, 1)) roi = NodeSupport.No("tf_crop_and_resize needs the roi input");
        return All(OutputCount(node, 1), RequireType(node, ctx, 0, ElementType.Float32), roi, RequireType(node, ctx, 2, ElementType.Float32), RequireType(node, ctx, 3, ElementType.Int64));
    }

    private static IlgpuTensor RunResize(OpContext ctx, IlgpuTensor?[] ins)
    {
        var x = ctx.Input(ins, 0);
        if (x.Shape.Length != 4) throw ctx.Fail($"X must be rank 4, got {TensorShape.Format(x.Shape)}");
        var scalesTensor = ctx.Optional(ins, 2);
        var sizesTensor = ctx.Optional(ins, 3);
        var transform = ctx.Node.GetString("coordinate_transformation_mode", "half_pixel");
        var crop = transform == "tf_crop_and_resize";
        var roi = new float[] { 0, 0, 0, 0, 1, 1, 1, 1 };
        if (crop)
        {
            if (ctx.Optional(ins, 1) is not { } roiTensor || roiTensor.ElementCount != 8 || roiTensor.ElementType != ElementType.Float32)
            {
                throw ctx.Fail("tf_crop_and_resize needs roi as 8 float values (start and end per axis)");
            }
            roi = ctx.ReadHost(roiTensor).ToArray<float>();
        }
        float[] scales;
        long[] outShape;
        if (sizesTensor is not null && sizesTensor.ElementCount > 0)
        {
            outShape = ctx.ReadInts(sizesTensor);
            if (outShape.Length != 4) throw ctx.Fail("sizes must have 4 values");
            scales = outShape.Select((s, i) => (float)s / x.Shape[i]).ToArray();
        }
        else if (scalesTensor is not null && scalesTensor.ElementCount > 0)
        {
            scales = ctx.ReadHost(scalesTensor).ToArray<float>();
            if (scales.Length != 4) throw ctx.Fail("scales must have 4 values");
            outShape = scales.Select((s, i) => (long)Math.Floor(x.Shape[i] * (double)s)).ToArray();
            if (crop)
            {
                // tf_crop_and_resize scales the cropped extent: floor(input * (roi_end - roi_start) * scale).
                outShape = scales.Select((s, i) => (long)Math.Floor(x.Shape[i] * (double)(roi[i + 4] - roi[i]) * s)).ToArray();
            }
        }
        else
        {
            throw ctx.Fail("one of scales and sizes is required");
        }
        if (outShape[0] != x.Shape[0] || outShape[1] != x.Shape[1]) throw ctx.Fail("resizing the N and C dimensions is not implemented");
        if (scales.Any(s => s <= 0)) throw ctx.Fail("scales must be positive");
        var y = ctx.Alloc(ElementType.Float32, outShape);
        var n = Count(ctx, outShape);
        if (n == 0) return y;
        var nearest = ctx.Node.GetString("nearest_mode", "round_prefer_floor");
        ctx.Kernels.Resize(n, x.View<float>(), y.View<float>(), new ResizeParams
        {
            InH = (int)x.Shape[2], InW = (int)x.Shape[3], OutH = (int)outShape[2], OutW = (int)outShape[3],
            ScaleH = scales[2], ScaleW = scales[3],
            Transform = transform switch { "asymmetric" => 1, "align_corners" => 2, "pytorch_half_pixel" => 3, "tf_half_pixel_for_nn" => 4, "tf_crop_and_resize" => 5, _ => 0 },
            RoiStartH = roi[2], RoiStartW = roi[3], RoiEndH = roi[6], RoiEndW = roi[7],
            Extrapolation = ctx.Node.GetFloat("extrapolation_value", 0f),
            Mode = ctx.Node.GetString("mode", "nearest") switch { "linear" => 1, "cubic" => 2, _ => 0 },
            CubicA = ctx.Node.GetFloat("cubic_coeff_a", -0.75f),
            ExcludeOutside = ctx.Node.GetInt("exclude_outside", 0) != 0 ? 1 : 0,
            NearestMode = nearest switch { "round_prefer_ceil" => 1, "floor" => 2, "ceil" => 3, _ => 0 },
        });
        return y;
    }
}

internal static class TensorScalarExtensions
{
    /// <summary>The single element of a tensor reinterpreted as <typeparamref name="T"/> of the same size.</summary>
    public static T AsSpanOfSize<T>(this AccelTensor t) where T : unmanaged =>
        System.Runtime.InteropServices.MemoryMarshal.Read<T>(t.Bytes);
}
