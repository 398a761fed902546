namespace AccelSdk.Ir;

/// <summary>
/// Folding of small constant values so shape inputs computed in the graph are known: <c>Shape -> Gather -> Concat</c>,
/// <c>Shape -> Slice -> Cast -> Mul</c> and the like, as exporters write them in front of Reshape, Resize, Expand...
/// Only small int64/int32/float32 tensors are folded; the folded values serve inference only and never replace a node.
/// </summary>
public static partial class ShapeInference
{
    private const int MaxFoldedElements = 1024;

    private static void FoldConstant(Node node, Dictionary<string, AccelTensor> constants)
    {
        if (node.Domain.Length > 0 && node.Domain != "ai.onnx") return;
        if (node.Outputs.Count == 0 || node.Outputs[0].Length == 0 || constants.ContainsKey(node.Outputs[0])) return;
        var inputs = new AccelTensor?[node.Inputs.Count];
        for (var i = 0; i < inputs.Length; i++)
        {
            if (node.Inputs[i].Length == 0) continue;
            if (!constants.TryGetValue(node.Inputs[i], out var t) || !Foldable(t)) return;
            inputs[i] = t;
        }
        if (inputs.Length == 0 || inputs[0] is null) return;
        var folded = node.OpType switch
        {
            "Identity" => inputs[0],
            "Cast" => CastConstant(inputs[0]!, (ElementType)node.GetInt("to", 0)),
            // Shape-only ops keep the data in a new shape, recomputed here from the op's own inputs.
            "Unsqueeze" or "Squeeze" or "Reshape" or "Flatten" => ReshapedConstant(inputs[0]!, node, constants),
            "Concat" => ConcatConstants(inputs, node.GetInt("axis", 0)),
            "Gather" => GatherConstant(inputs[0]!, inputs.Length > 1 ? inputs[1] : null, node.GetInt("axis", 0)),
            "Slice" when inputs.Length >= 3 => SliceConstant(inputs),
            "Add" or "Sub" or "Mul" or "Div" when inputs.Length == 2 && inputs[1] is not null => ArithmeticConstant(node.OpType, inputs[0]!, inputs[1]!),
            _ => null,
        };
        if (folded is not null && Foldable(folded)) constants[node.Outputs[0]] = folded;
    }

    private static bool Foldable(AccelTensor t) =>
        t.ElementType is ElementType.Int64 or ElementType.Int32 or ElementType.Float32 && t.ElementCount <= MaxFoldedElements;

    private static AccelTensor? ReshapedConstant(AccelTensor x, Node node, Dictionary<string, AccelTensor> constants)
    {
        long[]? shape = node.OpType switch
        {
            "Reshape" when node.Inputs.Count > 1 && constants.TryGetValue(node.Inputs[1], out var s) => ReshapeTarget(x, s.ToInt64Array(), node.GetInt("allowzero", 0) != 0),
            "Flatten" => FlattenTarget(x, node.GetInt("axis", 1)),
            "Unsqueeze" => UnsqueezeTarget(x, node.GetInts("axes")?.ToArray() ?? (node.Inputs.Count > 1 && constants.TryGetValue(node.Inputs[1], out var a) ? a.ToInt64Array() : null)),
            "Squeeze" => SqueezeTarget(x, node.GetInts("axes")?.ToArray() ?? (node.Inputs.Count > 1 && constants.TryGetValue(node.Inputs[1], out var q) ? q.ToInt64Array() : null)),
            _ => null,
        };
        return shape is null || AccelTensor.CountElements(shape) != x.ElementCount ? null : x.Reshape(shape);
    }

    private static long[]? ReshapeTarget(AccelTensor x, long[] requested, bool allowZero)
    {
        var shape = new long[requested.Length];
        var infer = -1;
        long known = 1;
        for (var i = 0; i < requested.Length; i++)
        {
            var d = requested[i] == 0 && !allowZero ? (i < x.Rank ? x.Shape[i] : -2) : requested[i];
            if (d == -1 && infer < 0) { infer = i; continue; }
            if (d < 0) return null;
            shape[i] = d;
            known *= d;
        }
        if (infer >= 0)
        {
            if (known == 0 || x.ElementCount % known != 0) return null;
            shape[infer] = x.ElementCount / known;
        }
        return shape;
    }

    private static long[]? FlattenTarget(AccelTensor x, long axis)
    {
        if (axis < 0) axis += x.Rank;
        if (axis < 0 || axis > x.Rank) return null;
        return new[] { AccelTensor.CountElements(x.Shape[..(int)axis]), AccelTensor.CountElements(x.Shape[(int)axis..]) };
    }

    private static long[]? UnsqueezeTarget(AccelTensor x, long[]? axes)
    {
        if (axes is null) return null;
        var rank = x.Rank + axes.Length;
        var set = axes.Select(a => a < 0 ? a + rank : a).ToHashSet();
        if (set.Count != axes.Length || set.Any(a => a < 0 || a >= rank)) return null;
        var shape = new long[rank];
        var src = 0;
        for (var i = 0; i < rank; i++) shape[i] = set.Contains(i) ? 1 : x.Shape[src++];
        return shape;
    }

    private static long[]? SqueezeTarget(AccelTensor x, long[]? axes)
    {
        var set = axes?.Select(a => a < 0 ? a + x.Rank : a).ToHashSet();
        if (set is not null && set.Any(a => a < 0 || a >= x.Rank || x.Shape[(int)a] != 1)) return null;
        return x.ShapeArray.Where((d, i) => set is null ? d != 1 : !set.Contains(i)).ToArray();
    }

    private static AccelTensor? CastConstant(AccelTensor x, ElementType to) => to switch
    {
        ElementType.Int64 => AccelTensor.Create(Doubles(x).Select(v => (long)v).ToArray(), x.ShapeArray),
        ElementType.Int32 => AccelTensor.Create(Doubles(x).Select(v => (int)v).ToArray(), x.ShapeArray),
        ElementType.Float32 => AccelTensor.Create(Doubles(x).Select(v => (float)v).ToArray(), x.ShapeArray),
        _ => null,
    };

    private static double[] Doubles(AccelTensor t) => Enumerable.Range(0, (int)t.ElementCount).Select(i => t.GetAsDouble(i)).ToArray();

    /// <summary>A tensor of <paramref name="type"/> from values computed in double (integers are exact below 2^53).</summary>
    private static AccelTensor? FromDoubles(ElementType type, double[] values, long[] shape) => type switch
    {
        ElementType.Int64 => AccelTensor.Create(values.Select(v => (long)v).ToArray(), shape),
        ElementType.Int32 => AccelTensor.Create(values.Select(v => (int)v).ToArray(), shape),
        ElementType.Float32 => AccelTensor.Create(values.Select(v => (float)v).ToArray(), shape),
        _ => null,
    };

    private static AccelTensor? ConcatConstants(AccelTensor?[] inputs, long axis)
    {
        if (inputs.Any(t => t is null)) return null;
        var parts = inputs.Select(t => t!).ToArray();
        if (parts.Any(p => p.Rank != 1 || p.ElementType != parts[0].ElementType) || (axis != 0 && axis != -1)) return null;
        var values = parts.SelectMany(Doubles).ToArray();
        return FromDoubles(parts[0].ElementType, values, new long[] { values.Length });
    }

    private static AccelTensor? GatherConstant(AccelTensor data, AccelTensor? indices, long axis)
    {
        if (indices is null || data.Rank != 1 || (axis != 0 && axis != -1)) return null;
        var values = Doubles(data);
        var picked = indices.ToInt64Array().Select(i => values[(int)(i < 0 ? i + values.Length : i)]).ToArray();
        return FromDoubles(data.ElementType, picked, indices.ShapeArray);
    }

    private static AccelTensor? SliceConstant(AccelTensor?[] inputs)
    {
        var data = inputs[0]!;
        if (data.Rank != 1 || inputs[1] is null || inputs[2] is null) return null;
        var starts = inputs[1]!.ToInt64Array();
        var ends = inputs[2]!.ToInt64Array();
        if (starts.Length != 1 || ends.Length != 1) return null;
        if (inputs.Length > 3 && inputs[3] is { } axes && axes.ToInt64Array() is not ([0] or [-1])) return null;
        var step = inputs.Length > 4 && inputs[4] is { } steps ? steps.ToInt64Array().Single() : 1;
        var values = Doubles(data);
        var length = SliceLength(values.Length, starts[0], ends[0], step);
        var begin = starts[0] < 0 ? starts[0] + values.Length : starts[0];
        begin = step > 0 ? Math.Clamp(begin, 0, values.Length) : Math.Clamp(begin, -1, values.Length - 1);
        var picked = Enumerable.Range(0, (int)length).Select(i => values[(int)(begin + i * step)]).ToArray();
        return FromDoubles(data.ElementType, picked, new long[] { picked.Length });
    }

    private static AccelTensor? ArithmeticConstant(string op, AccelTensor a, AccelTensor b)
    {
        if (a.ElementType != b.ElementType) return null;
        var shape = Broadcast(new[] { a.TensorType.Shape!, b.TensorType.Shape! }).ToArray();
        if (shape.Length > 1) return null;
        var length = shape.Length == 0 ? 1 : (int)shape[0];
        var (x, y) = (Doubles(a), Doubles(b));
        var integer = a.ElementType is ElementType.Int64 or ElementType.Int32;
        var values = Enumerable.Range(0, length).Select(i =>
        {
            var (u, v) = (x[x.Length == 1 ? 0 : i], y[y.Length == 1 ? 0 : i]);
            return op switch
            {
                "Add" => u + v,
                "Sub" => u - v,
                "Mul" => u * v,
                _ when integer => v == 0 ? throw new DivideByZeroException() : Math.Truncate(u / v),
                _ => u / v,
            };
        }).ToArray();
        return FromDoubles(a.ElementType, values, shape);
    }
}
