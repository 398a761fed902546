namespace AccelSdk.Ir;

/// <summary>
/// Shapes of ops that take shapes, scales, sizes, pads, repeats, starts/ends or k as inputs. Those inputs are used when
/// they are constant (initializers, <c>Constant</c> nodes, or small integer values folded from them, e.g.
/// <c>Shape -> Gather -> Concat</c>); otherwise the rank is still inferred where the op keeps it, so backends that need
/// the rank of a later node's input are not left without it.
/// </summary>
public static partial class ShapeInference
{
    private static void InferFromShapeInputs(Node node, string op, TensorType? x, Func<int, TensorType?> input, Func<int, AccelTensor?> constant,
        Action<int, ElementType, TensorShape?> set, long opset)
    {
        switch (op)
        {
            case "ConstantOfShape":
            {
                var value = node.Attribute("value");
                var type = value?.Kind == AttributeKind.Tensor ? value.AsTensor().ElementType : ElementType.Float32;
                set(0, type, constant(0) is { } dims ? new TensorShape(dims.ToInt64Array()) : UnknownDimsOfLength(input(0)));
                return;
            }
            case "Range":
            {
                var start = constant(0);
                if (start is null && input(0) is null) return;
                var type = start?.ElementType ?? input(0)!.ElementType;
                set(0, type, new TensorShape(new[] { RangeLength(start, constant(1), constant(2)) }));
                return;
            }
        }
        if (x is null) return;
        if (op == "Split")
        {
            var shapes = x.Shape is { } ss ? SplitShapes(node, ss, opset, constant) : null;
            for (var i = 0; i < node.Outputs.Count; i++) set(i, x.ElementType, shapes?[i]);
            return;
        }
        var shape = x.Shape is { } xs ? op switch
        {
            "Expand" => ExpandShape(xs, input(1), constant(1)),
            "Tile" => TileShape(xs, constant(1)),
            "Slice" => SliceShape(node, xs, opset, constant),
            "Pad" => PadShape(node, xs, opset, constant),
            "Resize" or "Upsample" => ResizeShape(node, xs, opset, constant),
            "TopK" => TopKShape(node, xs, opset, constant),
            "DepthToSpace" or "SpaceToDepth" => DepthSpaceShape(node, xs),
            _ => null,
        } : null;
        set(0, x.ElementType, shape);
        if (op == "TopK") set(1, ElementType.Int64, shape);
    }

    /// <summary>A shape of the length a 1-D shape tensor has, every dimension unknown; null when that length is unknown.</summary>
    private static TensorShape? UnknownDimsOfLength(TensorType? shapeTensor) =>
        shapeTensor?.Shape is { Rank: 1 } s && s[0].Value is { } n && n <= 64 ? new TensorShape(Enumerable.Repeat(Dimension.Unknown, (int)n)) : null;

    private static TensorShape SameRankUnknown(TensorShape x) => new(Enumerable.Repeat(Dimension.Unknown, x.Rank));

    private static Dimension RangeLength(AccelTensor? start, AccelTensor? limit, AccelTensor? delta)
    {
        if (start is null || limit is null || delta is null || start.ElementCount != 1 || limit.ElementCount != 1 || delta.ElementCount != 1) return Dimension.Unknown;
        double s = start.GetAsDouble(0), l = limit.GetAsDouble(0), d = delta.GetAsDouble(0);
        if (d == 0 || double.IsNaN(s + l + d)) return Dimension.Unknown;
        return (long)Math.Max(Math.Ceiling((l - s) / d), 0);
    }

    private static TensorShape? ExpandShape(TensorShape x, TensorType? shapeInput, AccelTensor? shape)
    {
        if (shape is not null) return Broadcast(new[] { x, new TensorShape(shape.ToInt64Array()) });
        return UnknownDimsOfLength(shapeInput) is { } target ? new TensorShape(Enumerable.Repeat(Dimension.Unknown, Math.Max(target.Rank, x.Rank))) : null;
    }

    private static TensorShape TileShape(TensorShape x, AccelTensor? repeats)
    {
        if (repeats is null) return SameRankUnknown(x);
        var r = repeats.ToInt64Array();
        if (r.Length != x.Rank) throw new ArgumentException($"Tile repeats [{string.Join(",", r)}] do not match rank {x.Rank}");
        return new TensorShape(x.Dims.Select((d, i) => d.Value is { } v ? Dimension.Known(v * r[i]) : r[i] == 1 ? d : Dimension.Unknown));
    }

    private static TensorShape SliceShape(Node node, TensorShape x, long opset, Func<int, AccelTensor?> constant)
    {
        long[]? starts, ends, axes, steps = null;
        if (opset < 10)
        {
            starts = node.GetInts("starts")?.ToArray();
            ends = node.GetInts("ends")?.ToArray();
            axes = node.GetInts("axes")?.ToArray();
        }
        else
        {
            starts = constant(1)?.ToInt64Array();
            ends = constant(2)?.ToInt64Array();
            var axesGiven = node.Inputs.Count > 3 && node.Inputs[3].Length > 0;
            axes = constant(3)?.ToInt64Array();
            steps = constant(4)?.ToInt64Array();
            if (axesGiven && axes is null) return SameRankUnknown(x);
            if (node.Inputs.Count > 4 && node.Inputs[4].Length > 0 && steps is null) return SameRankUnknown(x);
        }
        if (starts is null || ends is null || ends.Length != starts.Length) return SameRankUnknown(x);
        axes ??= Enumerable.Range(0, starts.Length).Select(i => (long)i).ToArray();
        steps ??= Enumerable.Repeat(1L, starts.Length).ToArray();
        var dims = x.Dims.ToArray();
        for (var i = 0; i < starts.Length; i++)
        {
            var axis = (int)(axes[i] < 0 ? axes[i] + x.Rank : axes[i]);
            dims[axis] = x[axis].Value is { } dim ? SliceLength(dim, starts[i], ends[i], steps[i]) : Dimension.Unknown;
        }
        return new TensorShape(dims);
    }

    /// <summary>Elements ONNX Slice keeps of a dimension of size <paramref name="dim"/>.</summary>
    private static long SliceLength(long dim, long start, long end, long step)
    {
        if (step == 0) throw new ArgumentException("Slice step 0");
        if (start < 0) start += dim;
        if (end < 0) end += dim;
        if (step > 0)
        {
            start = Math.Clamp(start, 0, dim);
            end = Math.Clamp(end, 0, dim);
            return end > start ? (end - start + step - 1) / step : 0;
        }
        start = Math.Clamp(start, -1, dim - 1);
        end = Math.Clamp(end, -1, dim - 1);
        return start > end ? (start - end - step - 1) / -step : 0;
    }

    private static TensorShape PadShape(Node node, TensorShape x, long opset, Func<int, AccelTensor?> constant)
    {
        var pads = opset < 11 ? node.GetInts("pads")?.ToArray() : constant(1)?.ToInt64Array();
        if (pads is null) return SameRankUnknown(x);
        var axes = node.Inputs.Count > 3 && node.Inputs[3].Length > 0 ? constant(3)?.ToInt64Array() : Enumerable.Range(0, x.Rank).Select(i => (long)i).ToArray();
        if (axes is null) return SameRankUnknown(x);
        if (pads.Length != 2 * axes.Length) throw new ArgumentException($"Pad has {pads.Length} pads for {axes.Length} axes");
        var dims = x.Dims.ToArray();
        for (var i = 0; i < axes.Length; i++)
        {
            var axis = (int)(axes[i] < 0 ? axes[i] + x.Rank : axes[i]);
            dims[axis] = x[axis].Value is { } d ? d + pads[i] + pads[i + axes.Length] : Dimension.Unknown;
        }
        return new TensorShape(dims);
    }

    /// <summary>
    /// Resize (X, roi, scales, sizes; opset 10: X, scales) and Upsample (X, scales; opset 7: the scales attribute):
    /// sizes give the shape, scales floor(dim * scale) (times the roi extent under tf_crop_and_resize), else the rank.
    /// </summary>
    private static TensorShape ResizeShape(Node node, TensorShape x, long opset, Func<int, AccelTensor?> constant)
    {
        var legacy = node.OpType == "Upsample" || opset < 11;
        var axes = node.GetInts("axes")?.Select(a => (int)(a < 0 ? a + x.Rank : a)).ToArray() ?? Enumerable.Range(0, x.Rank).ToArray();
        var sizes = legacy ? null : constant(3);
        if (sizes is { ElementCount: > 0 } && node.GetString("keep_aspect_ratio_policy", "stretch") == "stretch")
        {
            var values = sizes.ToInt64Array();
            if (values.Length != axes.Length) throw new ArgumentException("Resize sizes do not match the axes");
            var dims = x.Dims.ToArray();
            for (var i = 0; i < axes.Length; i++) dims[axes[i]] = values[i];
            return new TensorShape(dims);
        }
        float[]? scales = node.OpType == "Upsample" && opset < 9
            ? node.Attribute("scales")?.AsFloats().ToArray()
            : constant(legacy ? 1 : 2) is { ElementCount: > 0 } s ? s.ToArray<float>() : null;
        if (scales is null || scales.Length != axes.Length) return SameRankUnknown(x);
        var crop = !legacy && node.GetString("coordinate_transformation_mode", "half_pixel") == "tf_crop_and_resize";
        var roi = crop ? constant(1)?.ToArray<float>() : null;
        if (crop && (roi is null || roi.Length != 2 * axes.Length)) return SameRankUnknown(x);
        var result = x.Dims.ToArray();
        for (var i = 0; i < axes.Length; i++)
        {
            var extent = crop ? roi![i + axes.Length] - roi[i] : 1.0;
            result[axes[i]] = x[axes[i]].Value is { } d ? (long)Math.Floor(d * extent * scales[i]) : Dimension.Unknown;
        }
        return new TensorShape(result);
    }

    private static TensorShape TopKShape(Node node, TensorShape x, long opset, Func<int, AccelTensor?> constant)
    {
        var axis = (int)node.GetInt("axis", -1);
        if (axis < 0) axis += x.Rank;
        long? k = opset < 10 ? node.GetInt("k", -1) : constant(1) is { ElementCount: 1 } kt ? kt.ToInt64Array()[0] : null;
        var dims = x.Dims.ToArray();
        dims[axis] = k is { } kv and >= 0 ? kv : Dimension.Unknown;
        return new TensorShape(dims);
    }

    private static TensorShape? DepthSpaceShape(Node node, TensorShape x)
    {
        if (x.Rank != 4) return null;
        var b = node.GetInt("blocksize", 0);
        if (b <= 0) return null;
        Dimension Scale(Dimension d, bool multiply) => d.Value is { } v ? (multiply ? v * b : v / b) : Dimension.Unknown;
        var toSpace = node.OpType == "DepthToSpace";
        var channels = x[1].Value is { } c ? Dimension.Known(toSpace ? c / (b * b) : c * b * b) : Dimension.Unknown;
        return new TensorShape(new[] { x[0], channels, Scale(x[2], toSpace), Scale(x[3], toSpace) });
    }

    private static TensorShape[]? SplitShapes(Node node, TensorShape x, long opset, Func<int, AccelTensor?> constant)
    {
        var axis = (int)node.GetInt("axis", 0);
        if (axis < 0) axis += x.Rank;
        var outputs = node.Outputs.Count;
        var inputGiven = opset >= 13 && node.Inputs.Count > 1 && node.Inputs[1].Length > 0;
        var split = opset >= 13 ? (inputGiven ? constant(1)?.ToInt64Array() : null) : node.GetInts("split")?.ToArray();
        if (opset >= 18 && node.Attribute("num_outputs") is { } n) outputs = (int)n.AsInt();
        if (split is null && !inputGiven && x[axis].Value is { } dim && outputs > 0)
        {
            var chunk = (dim + outputs - 1) / outputs;
            split = Enumerable.Range(0, outputs).Select(i => Math.Max(0, Math.Min(chunk, dim - i * chunk))).ToArray();
        }
        return Enumerable.Range(0, outputs).Select(i =>
        {
            var dims = x.Dims.ToArray();
            dims[axis] = split is not null && i < split.Length ? split[i] : Dimension.Unknown;
            return new TensorShape(dims);
        }).Concat(Enumerable.Repeat(SameRankUnknown(x), Math.Max(0, node.Outputs.Count - outputs))).ToArray();
    }
}
