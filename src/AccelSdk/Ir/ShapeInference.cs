namespace AccelSdk.Ir;

/// <summary>
/// Element-type and shape inference for the common ONNX operators, so partitions know the tensors they move.
/// Declared types (inputs, value_info, outputs) are kept; inference fills what is missing. Ops it does not
/// know get no entry (callers treat that as unknown), never a guess.
/// </summary>
public static partial class ShapeInference
{
    private static readonly HashSet<string> SameTypeUnary = new(StringComparer.Ordinal)
    {
        "Relu", "Sigmoid", "Tanh", "Exp", "Log", "Sqrt", "Neg", "Abs", "Reciprocal", "LeakyRelu", "Elu", "Selu",
        "Softplus", "Softsign", "HardSigmoid", "HardSwish", "Erf", "Clip", "Identity", "Softmax", "LogSoftmax",
        "Hardmax", "Floor", "Ceil", "Round", "Sign", "Sin", "Cos", "Tan", "Asin", "Acos", "Atan", "Sinh", "Cosh",
        "Asinh", "Acosh", "Atanh", "Mish", "Gelu", "Celu", "ThresholdedRelu", "Shrink", "LRN", "InstanceNormalization",
        "MeanVarianceNormalization", "BatchNormalization", "LayerNormalization", "Dropout", "Not", "BitwiseNot",
        "CumSum", "GroupNormalization",
    };

    private static readonly HashSet<string> Broadcasting = new(StringComparer.Ordinal)
    {
        "Add", "Sub", "Mul", "Div", "Pow", "Max", "Min", "Sum", "Mean", "PRelu", "Mod", "BitShift", "And", "Or", "Xor",
        "BitwiseAnd", "BitwiseOr", "BitwiseXor",
    };

    private static readonly HashSet<string> Comparisons = new(StringComparer.Ordinal)
    {
        "Equal", "Greater", "Less", "GreaterOrEqual", "LessOrEqual", "IsNaN", "IsInf",
    };

    /// <summary>Types of every value of the main graph that declarations or inference determine.</summary>
    public static Dictionary<string, ValueType> Infer(Model model)
    {
        var graph = model.Graph;
        var types = graph.DeclaredTypes();
        var constants = new Dictionary<string, AccelTensor>(StringComparer.Ordinal);
        var opset = model.OpsetOf("") ?? 0;
        foreach (var t in graph.Initializers) constants[t.Name!] = t;
        foreach (var node in graph.Nodes)
        {
            try
            {
                InferNode(node, types, constants, opset);
                FoldConstant(node, constants);
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException or IndexOutOfRangeException or OverflowException
                                          or DivideByZeroException or InvalidCastException or InvalidTensorException)
            {
                // A node whose attributes or inputs do not fit its op leaves its outputs unknown; the backend that runs it reports the error.
            }
        }
        return types;
    }

    private static void InferNode(Node node, Dictionary<string, ValueType> types, Dictionary<string, AccelTensor> constants, long opset)
    {
        if (node.Domain.Length > 0 && node.Domain != "ai.onnx") return;
        TensorType? In(int i) => i < node.Inputs.Count && node.Inputs[i].Length > 0 && types.TryGetValue(node.Inputs[i], out var t) ? t as TensorType : null;
        AccelTensor? Const(int i) => i < node.Inputs.Count && constants.TryGetValue(node.Inputs[i], out var t) ? t : null;
        void Set(int i, ElementType type, TensorShape? shape)
        {
            if (i >= node.Outputs.Count || node.Outputs[i].Length == 0) return;
            var name = node.Outputs[i];
            if (types.TryGetValue(name, out var declared) && declared is TensorType d && d.Shape is not null && (shape is null || d.Shape.IsFullyKnown)) return;
            types[name] = new TensorType(type, shape);
        }

        var op = node.OpType;
        var x = In(0);
        if (op == "Constant")
        {
            var value = node.Attribute("value");
            if (value?.Kind == AttributeKind.Tensor)
            {
                var t = value.AsTensor();
                constants[node.Outputs[0]] = t;
                Set(0, t.ElementType, new TensorShape(t.ShapeArray));
            }
            else if (node.Attribute("value_int") is { } vi) { constants[node.Outputs[0]] = AccelTensor.Scalar(vi.AsInt()); Set(0, ElementType.Int64, TensorShape.Scalar); }
            else if (node.Attribute("value_ints") is { } vis) { var a = vis.AsInts().ToArray(); constants[node.Outputs[0]] = AccelTensor.FromArray(a); Set(0, ElementType.Int64, new TensorShape(a.Length)); }
            else if (node.Attribute("value_float") is { } vf) { constants[node.Outputs[0]] = AccelTensor.Scalar(vf.AsFloat()); Set(0, ElementType.Float32, TensorShape.Scalar); }
            else if (node.Attribute("value_floats") is { } vfs) { var a = vfs.AsFloats().ToArray(); constants[node.Outputs[0]] = AccelTensor.FromArray(a); Set(0, ElementType.Float32, new TensorShape(a.Length)); }
            return;
        }
        if (SameTypeUnary.Contains(op))
        {
            if (x is null) return;
            Set(0, x.ElementType, x.Shape);
            if (op == "Dropout") Set(1, ElementType.Bool, x.Shape);
            return;
        }
        if (Broadcasting.Contains(op) || Comparisons.Contains(op) || op == "Where")
        {
            var start = op == "Where" ? 1 : 0;
            var inputs = Enumerable.Range(0, node.Inputs.Count).Select(In).ToList();
            if (op == "IsNaN" || op == "IsInf") { if (x is not null) Set(0, ElementType.Bool, x.Shape); return; }
            var typed = inputs.Skip(start).FirstOrDefault(t => t is not null);
            if (typed is null) return;
            var shape = inputs.All(t => t?.Shape is not null) ? Broadcast(inputs.Select(t => t!.Shape!)) : null;
            var elem = Comparisons.Contains(op) ? ElementType.Bool : (op == "Pow" ? (x ?? typed).ElementType : typed.ElementType);
            Set(0, elem, shape);
            return;
        }
        switch (op)
        {
            case "Cast":
                Set(0, (ElementType)node.GetInt("to", 0), x?.Shape);
                return;
            case "CastLike":
                if (In(1) is { } like) Set(0, like.ElementType, x?.Shape);
                return;
            case "Shape":
                if (x?.Shape is { } s0)
                {
                    var start = node.GetInt("start", 0);
                    var end = node.GetInt("end", s0.Rank);
                    start = Math.Clamp(start < 0 ? start + s0.Rank : start, 0, s0.Rank);
                    end = Math.Clamp(end < 0 ? end + s0.Rank : end, 0, s0.Rank);
                    var len = Math.Max(0, end - start);
                    Set(0, ElementType.Int64, new TensorShape(len));
                    var dims = s0.Dims.Skip((int)start).Take((int)len).ToList();
                    if (dims.All(d => d.IsKnown)) constants[node.Outputs[0]] = AccelTensor.FromArray(dims.Select(d => d.Value!.Value).ToArray());
                }
                else Set(0, ElementType.Int64, null);
                return;
            case "Size":
                Set(0, ElementType.Int64, TensorShape.Scalar);
                return;
            case "MatMul":
            case "MatMulInteger":
            {
                if (x is null) return;
                var elem = op == "MatMulInteger" ? ElementType.Int32 : x.ElementType;
                Set(0, elem, In(1) is { Shape: { } bs } && x.Shape is { } asp ? MatMulShape(asp, bs) : null);
                return;
            }
            case "Gemm":
            {
                if (x is null) return;
                var b = In(1);
                TensorShape? shape = null;
                if (x.Shape is { Rank: 2 } a2 && b?.Shape is { Rank: 2 } b2)
                {
                    var m = node.GetInt("transA", 0) != 0 ? a2[1] : a2[0];
                    var n = node.GetInt("transB", 0) != 0 ? b2[0] : b2[1];
                    shape = new TensorShape(new[] { m, n });
                }
                Set(0, x.ElementType, shape);
                return;
            }
            case "Conv":
            case "ConvInteger":
            case "MaxPool":
            case "AveragePool":
            case "LpPool":
            {
                if (x is null) return;
                var elem = op == "ConvInteger" ? ElementType.Int32 : x.ElementType;
                Set(0, elem, WindowShape(node, x.Shape, op.StartsWith("Conv", StringComparison.Ordinal) ? In(1)?.Shape : null));
                if (op == "MaxPool") Set(1, ElementType.Int64, types.TryGetValue(node.Outputs[0], out var o) ? (o as TensorType)?.Shape : null);
                return;
            }
            case "GlobalAveragePool":
            case "GlobalMaxPool":
            case "GlobalLpPool":
                if (x is null) return;
                Set(0, x.ElementType, x.Shape is { } gs ? new TensorShape(gs.Dims.Select((d, i) => i < 2 ? d : Dimension.Known(1))) : null);
                return;
            case "Flatten":
            {
                if (x is null) return;
                TensorShape? shape = null;
                if (x.Shape is { } fs)
                {
                    var axis = node.GetInt("axis", 1);
                    if (axis < 0) axis += fs.Rank;
                    shape = new TensorShape(new[] { Product(fs.Dims.Take((int)axis)), Product(fs.Dims.Skip((int)axis)) });
                }
                Set(0, x.ElementType, shape);
                return;
            }
            case "Reshape":
            {
                if (x is null) return;
                TensorShape? shape = null;
                if (Const(1) is { } target)
                {
                    var dims = target.ToInt64Array();
                    var allowZero = node.GetInt("allowzero", 0) != 0;
                    var result = new Dimension[dims.Length];
                    var inferIndex = -1;
                    for (var i = 0; i < dims.Length; i++)
                    {
                        if (dims[i] == -1) { inferIndex = i; result[i] = Dimension.Unknown; }
                        else if (dims[i] == 0 && !allowZero) result[i] = x.Shape is { } xs && i < xs.Rank ? xs[i] : Dimension.Unknown;
                        else result[i] = dims[i];
                    }
                    if (inferIndex >= 0 && x.Shape?.ElementCount is { } total)
                    {
                        var known = result.Where((d, i) => i != inferIndex).Select(d => d.Value).ToArray();
                        if (known.All(v => v.HasValue))
                        {
                            var prod = known.Aggregate(1L, (a, v) => a * v!.Value);
                            if (prod != 0) result[inferIndex] = total / prod;
                        }
                    }
                    shape = new TensorShape(result);
                }
                else shape = UnknownDimsOfLength(In(1));
                Set(0, x.ElementType, shape);
                return;
            }
            case "Transpose":
            {
                if (x is null) return;
                TensorShape? shape = null;
                if (x.Shape is { } ts)
                {
                    var perm = node.GetInts("perm")?.ToArray() ?? Enumerable.Range(0, ts.Rank).Reverse().Select(i => (long)i).ToArray();
                    shape = new TensorShape(perm.Select(p => ts[(int)p]));
                }
                Set(0, x.ElementType, shape);
                return;
            }
            case "Concat":
            {
                var inputs = Enumerable.Range(0, node.Inputs.Count).Select(In).ToList();
                var first = inputs.FirstOrDefault(t => t is not null);
                if (first is null) return;
                TensorShape? shape = null;
                if (inputs.All(t => t?.Shape is not null))
                {
                    var rank = first.Shape!.Rank;
                    var axis = (int)node.GetInt("axis", 0);
                    if (axis < 0) axis += rank;
                    var dims = first.Shape.Dims.ToArray();
                    dims[axis] = inputs.Select(t => t!.Shape![axis]).Aggregate((a, b) => a.IsKnown && b.IsKnown ? Dimension.Known(a.Value!.Value + b.Value!.Value) : Dimension.Unknown);
                    shape = new TensorShape(dims);
                }
                Set(0, first.ElementType, shape);
                return;
            }
            case "Unsqueeze":
            case "Squeeze":
            {
                if (x is null) return;
                var axesList = node.GetInts("axes")?.ToArray() ?? Const(1)?.ToInt64Array();
                // Axes given as an input whose value is unknown: which dims go (or come) cannot be decided.
                var unknownAxes = axesList is null && node.Inputs.Count > 1 && node.Inputs[1].Length > 0;
                TensorShape? shape = null;
                if (x.Shape is { } us && !unknownAxes && (axesList is not null || op == "Squeeze"))
                {
                    if (op == "Unsqueeze")
                    {
                        var rank = us.Rank + axesList!.Length;
                        var axes = axesList.Select(a => a < 0 ? a + rank : a).ToHashSet();
                        var dims = new List<Dimension>();
                        var src = 0;
                        for (var i = 0; i < rank; i++) dims.Add(axes.Contains(i) ? Dimension.Known(1) : us[src++]);
                        shape = new TensorShape(dims);
                    }
                    else if (axesList is not null)
                    {
                        var axes = axesList.Select(a => a < 0 ? a + us.Rank : a).ToHashSet();
                        shape = new TensorShape(us.Dims.Where((d, i) => !axes.Contains(i)));
                    }
                    else if (us.IsFullyKnown)
                    {
                        shape = new TensorShape(us.Dims.Where(d => d.Value != 1));
                    }
                }
                Set(0, x.ElementType, shape);
                return;
            }
            case "ReduceMean":
            case "ReduceSum":
            case "ReduceMax":
            case "ReduceMin":
            case "ReduceProd":
            case "ReduceL1":
            case "ReduceL2":
            case "ReduceLogSum":
            case "ReduceLogSumExp":
            case "ReduceSumSquare":
            case "ArgMax":
            case "ArgMin":
            {
                if (x is null) return;
                var elem = op.StartsWith("Arg", StringComparison.Ordinal) ? ElementType.Int64 : x.ElementType;
                TensorShape? shape = null;
                var keep = node.GetInt("keepdims", 1) != 0;
                long[]? axes = op.StartsWith("Arg", StringComparison.Ordinal)
                    ? new[] { node.GetInt("axis", 0) }
                    : node.GetInts("axes")?.ToArray() ?? Const(1)?.ToInt64Array();
                var inputAxesGiven = node.Inputs.Count > 1 && node.Inputs[1].Length > 0;
                if (x.Shape is { } rs && (axes is not null || !inputAxesGiven))
                {
                    var set = axes is null || axes.Length == 0
                        ? (node.GetInt("noop_with_empty_axes", 0) != 0 ? new HashSet<long>() : Enumerable.Range(0, rs.Rank).Select(i => (long)i).ToHashSet())
                        : axes.Select(a => a < 0 ? a + rs.Rank : a).ToHashSet();
                    var dims = new List<Dimension>();
                    for (var i = 0; i < rs.Rank; i++)
                    {
                        if (!set.Contains(i)) dims.Add(rs[i]);
                        else if (keep) dims.Add(1);
                    }
                    shape = new TensorShape(dims);
                }
                Set(0, elem, shape);
                return;
            }
            case "Gather":
            {
                if (x is null) return;
                TensorShape? shape = null;
                if (x.Shape is { } gsh && In(1)?.Shape is { } idx)
                {
                    var axis = (int)node.GetInt("axis", 0);
                    if (axis < 0) axis += gsh.Rank;
                    shape = new TensorShape(gsh.Dims.Take(axis).Concat(idx.Dims).Concat(gsh.Dims.Skip(axis + 1)));
                }
                Set(0, x.ElementType, shape);
                return;
            }
            case "Expand":
            case "ConstantOfShape":
            case "Tile":
            case "Slice":
            case "Pad":
            case "Resize":
            case "Upsample":
            case "Split":
            case "TopK":
            case "Range":
            case "DepthToSpace":
            case "SpaceToDepth":
                InferFromShapeInputs(node, op, x, In, Const, Set, opset);
                return;
            case "NonZero":
            case "OneHot":
            case "ConvTranspose":
                InferTypeOnly(node, op, x, Set);
                return;
            case "QuantizeLinear":
                Set(0, In(2)?.ElementType ?? ElementType.UInt8, x?.Shape);
                return;
            case "DequantizeLinear":
                Set(0, ElementType.Float32, x?.Shape);
                return;
            case "DynamicQuantizeLinear":
                Set(0, ElementType.UInt8, x?.Shape);
                Set(1, ElementType.Float32, TensorShape.Scalar);
                Set(2, ElementType.UInt8, TensorShape.Scalar);
                return;
            case "QLinearConv":
                if (In(7) is { } yzp) Set(0, yzp.ElementType, null);
                return;
            case "QLinearMatMul":
                if (In(7) is { } mzp) Set(0, mzp.ElementType, x?.Shape is { } qa && In(3)?.Shape is { } qb ? MatMulShape(qa, qb) : null);
                return;
        }
    }

    private static void InferTypeOnly(Node node, string op, TensorType? x, Action<int, ElementType, TensorShape?> set)
    {
        switch (op)
        {
            case "NonZero":
                set(0, ElementType.Int64, null);
                return;
            case "OneHot":
                return;
            default:
                if (x is not null) set(0, x.ElementType, null);
                return;
        }
    }

    private static Dimension Product(IEnumerable<Dimension> dims)
    {
        long n = 1;
        foreach (var d in dims)
        {
            if (d.Value is not { } v) return Dimension.Unknown;
            n *= v;
        }
        return n;
    }

    /// <summary>Multidirectional (numpy) broadcasting of shapes; unknown where a dimension cannot be decided.</summary>
    public static TensorShape Broadcast(IEnumerable<TensorShape> shapes)
    {
        var list = shapes.ToList();
        var rank = list.Max(s => s.Rank);
        var dims = new Dimension[rank];
        for (var i = 0; i < rank; i++)
        {
            Dimension result = 1;
            foreach (var s in list)
            {
                var j = i - (rank - s.Rank);
                if (j < 0) continue;
                var d = s[j];
                if (d.Value == 1) continue;
                if (result.Value == 1) result = d;
                else if (d.IsKnown && result.IsKnown && d.Value != result.Value)
                {
                    throw new ArgumentException($"shapes {string.Join(" and ", list)} do not broadcast");
                }
                else if (!result.IsKnown && d.IsKnown) result = d;
            }
            dims[i] = result;
        }
        return new TensorShape(dims);
    }

    private static TensorShape? MatMulShape(TensorShape a, TensorShape b)
    {
        if (a.Rank == 0 || b.Rank == 0) return null;
        var aDims = a.Rank == 1 ? new[] { Dimension.Known(1), a[0] } : a.Dims.ToArray();
        var bDims = b.Rank == 1 ? new[] { b[0], Dimension.Known(1) } : b.Dims.ToArray();
        var batch = Broadcast(new[] { new TensorShape(aDims[..^2]), new TensorShape(bDims[..^2]) });
        var dims = batch.Dims.ToList();
        if (a.Rank != 1) dims.Add(aDims[^2]);
        if (b.Rank != 1) dims.Add(bDims[^1]);
        return new TensorShape(dims);
    }

    private static TensorShape? WindowShape(Node node, TensorShape? x, TensorShape? weights)
    {
        if (x is null || x.Rank < 3) return null;
        var spatial = x.Rank - 2;
        var kernel = node.GetInts("kernel_shape")?.ToArray();
        if (kernel is null && weights is { } w && w.Dims.Skip(2).All(d => d.IsKnown)) kernel = w.Dims.Skip(2).Select(d => d.Value!.Value).ToArray();
        if (kernel is null) return null;
        var strides = node.GetInts("strides")?.ToArray() ?? Enumerable.Repeat(1L, spatial).ToArray();
        var dilations = node.GetInts("dilations")?.ToArray() ?? Enumerable.Repeat(1L, spatial).ToArray();
        var pads = node.GetInts("pads")?.ToArray() ?? new long[spatial * 2];
        var autoPad = node.GetString("auto_pad", "NOTSET");
        var ceil = node.GetInt("ceil_mode", 0) != 0;
        var dims = new List<Dimension> { x[0] };
        dims.Add(weights is not null ? weights[0] : x[1]);
        for (var i = 0; i < spatial; i++)
        {
            if (x[i + 2].Value is not { } size) { dims.Add(Dimension.Unknown); continue; }
            var effective = (kernel[i] - 1) * dilations[i] + 1;
            long outSize;
            if (autoPad is "SAME_UPPER" or "SAME_LOWER") outSize = (size + strides[i] - 1) / strides[i];
            else if (autoPad == "VALID") outSize = (size - effective) / strides[i] + 1;
            else
            {
                var total = size + pads[i] + pads[i + spatial] - effective;
                outSize = (ceil ? (total + strides[i] - 1) / strides[i] : total / strides[i]) + 1;
            }
            dims.Add(outSize);
        }
        return new TensorShape(dims);
    }
}
