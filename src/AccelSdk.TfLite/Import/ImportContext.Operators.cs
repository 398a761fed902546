using AccelSdk.Ir;
using AccelSdk.TfLite.Native;
using Op = AccelSdk.TfLite.Native.TfLiteBuiltinOperator;

namespace AccelSdk.TfLite.Import;

internal sealed partial class ImportContext
{
    private static readonly long[] ToNchw = { 0, 3, 1, 2 };
    private static readonly long[] ToNhwc = { 0, 2, 3, 1 };
    private FbTable _lastOptions;

    private void ConvertOperator(int index, FbTable op, Op code, string? customCode)
    {
        // TfLiteValidator checked every index and the inputs and outputs each operator kind requires.
        var inputs = op.GetInts(OperatorFields.Inputs);
        var outputs = op.GetInts(OperatorFields.Outputs);
        var opName = TfLiteValidator.OperatorName(code, customCode);
        _opLabel = $"{opName}_{index}";
        _opWhere = $"subgraph {_subgraphIndex} operator {index} ({opName})";
        var options = op.GetUnion(OperatorFields.BuiltinOptions);
        _lastOptions = options;
        var converted = code == Op.kTfLiteBuiltinCustom
            ? TryConvertCustom(customCode, inputs, outputs, op.GetVectorBytes(OperatorFields.CustomOptions, 1))
            : TryConvertVariableOp(code, inputs, outputs, options) || TryConvert(code, inputs, outputs, options);
        if (!converted) KeepAsTfLiteOp(opName, inputs, outputs);
    }

    /// <summary>An op with no IR form stays a node of the TFLite domain, named after the op.</summary>
    private void KeepAsTfLiteOp(string opName, int[] inputs, int[] outputs)
    {
        _usesCustomDomain = true;
        var node = new Node(opName, inputs.Select(t => t < 0 ? "" : Raw(t)), outputs.Select(t => _names[t]), Unique(_opLabel), TfLiteImporter.CustomDomain);
        _graph.Nodes.Add(node);
    }

    private bool TryConvert(Op code, int[] i, int[] o, FbTable options)
    {
        switch (code)
        {
            case Op.kTfLiteBuiltinAdd: Binary("Add", i, o, Activation(options, 0)); return true;
            case Op.kTfLiteBuiltinSub: Binary("Sub", i, o, Activation(options, 0)); return true;
            case Op.kTfLiteBuiltinMul: Binary("Mul", i, o, Activation(options, 0)); return true;
            case Op.kTfLiteBuiltinDiv: Binary("Div", i, o, Activation(options, 0)); return true;
            case Op.kTfLiteBuiltinGreaterEqual: Compare("GreaterOrEqual", i, o); return true;
            case Op.kTfLiteBuiltinGreater: Compare("Greater", i, o); return true;
            case Op.kTfLiteBuiltinLess: Compare("Less", i, o); return true;
            case Op.kTfLiteBuiltinLessEqual: Compare("LessOrEqual", i, o); return true;
            case Op.kTfLiteBuiltinEqual: Compare("Equal", i, o); return true;
            case Op.kTfLiteBuiltinMaximum: Binary("Max", i, o, FusedActivation.None); return true;
            case Op.kTfLiteBuiltinMinimum: Binary("Min", i, o, FusedActivation.None); return true;
            case Op.kTfLiteBuiltinSquaredDifference:
            {
                var diff = Temp(_opLabel + "_diff");
                AddNode("Sub", new[] { Float(i[0]), Float(i[1]) }, new[] { diff });
                var y = OutFloat(o[0]);
                AddNode("Mul", new[] { diff, diff }, new[] { y });
                FinishOutput(o[0], y);
                return true;
            }
            case Op.kTfLiteBuiltinRelu: Unary("Relu", i, o); return true;
            case Op.kTfLiteBuiltinRelu6: Clip(i, o, 0, 6); return true;
            case Op.kTfLiteBuiltinReluN1To1: Clip(i, o, -1, 1); return true;
            case Op.kTfLiteBuiltinLogistic: Unary("Sigmoid", i, o); return true;
            case Op.kTfLiteBuiltinTanh: Unary("Tanh", i, o); return true;
            case Op.kTfLiteBuiltinHardSwish: Unary("HardSwish", i, o); return true;
            case Op.kTfLiteBuiltinLog: Unary("Log", i, o); return true;
            case Op.kTfLiteBuiltinExp: Unary("Exp", i, o); return true;
            case Op.kTfLiteBuiltinSqrt: Unary("Sqrt", i, o); return true;
            case Op.kTfLiteBuiltinAbs: Unary("Abs", i, o); return true;
            case Op.kTfLiteBuiltinNeg: Unary("Neg", i, o); return true;
            case Op.kTfLiteBuiltinFloor: Unary("Floor", i, o); return true;
            case Op.kTfLiteBuiltinRsqrt:
            {
                var root = Temp(_opLabel + "_sqrt");
                AddNode("Sqrt", new[] { Float(i[0]) }, new[] { root });
                var y = OutFloat(o[0]);
                AddNode("Reciprocal", new[] { root }, new[] { y });
                FinishOutput(o[0], y);
                return true;
            }
            case Op.kTfLiteBuiltinSquare:
            {
                var x = Float(i[0]);
                var y = OutFloat(o[0]);
                AddNode("Mul", new[] { x, x }, new[] { y });
                FinishOutput(o[0], y);
                return true;
            }
            case Op.kTfLiteBuiltinLeakyRelu:
            {
                var y = OutFloat(o[0]);
                AddNode("LeakyRelu", new[] { Float(i[0]) }, new[] { y }, NodeAttribute.Float("alpha", options.IsNull ? 0.2f : options.GetFloat(0)));
                FinishOutput(o[0], y);
                return true;
            }
            case Op.kTfLiteBuiltinPrelu:
            {
                var y = OutFloat(o[0]);
                AddNode("PRelu", new[] { Float(i[0]), Float(i[1]) }, new[] { y });
                FinishOutput(o[0], y);
                return true;
            }
            case Op.kTfLiteBuiltinSoftmax:
            {
                var beta = options.IsNull ? 1f : options.GetFloat(0, 1f);
                var x = Float(i[0]);
                if (beta != 1f)
                {
                    var scaled = Temp(_opLabel + "_scaled");
                    AddNode("Mul", new[] { x, Const(AccelTensor.Scalar(beta), _opLabel + "_beta") }, new[] { scaled });
                    x = scaled;
                }
                var y = OutFloat(o[0]);
                AddNode("Softmax", new[] { x }, new[] { y }, NodeAttribute.Int("axis", -1));
                FinishOutput(o[0], y);
                return true;
            }
            case Op.kTfLiteBuiltinReshape:
            case Op.kTfLiteBuiltinSqueeze:
            case Op.kTfLiteBuiltinExpandDims:
                return Reshape(code, i, o);
            case Op.kTfLiteBuiltinTranspose:
            {
                var perm = IntsOf(i[1]);
                if (perm is null) return false;
                Passthrough("Transpose", i[0], o[0], NodeAttribute.Ints("perm", perm));
                return true;
            }
            case Op.kTfLiteBuiltinConcatenation:
            {
                var rank = ShapeOf(o[0]).Length;
                var axis = (long)options.GetInt(0);
                if (axis < 0) axis += rank;
                var y = ActivationTarget(o[0], Activation(options, 1), out var finish);
                AddNode("Concat", i.Select(Float), new[] { y }, NodeAttribute.Int("axis", axis));
                finish();
                return true;
            }
            case Op.kTfLiteBuiltinPad:
            case Op.kTfLiteBuiltinPadv2:
            case Op.kTfLiteBuiltinMirrorPad:
                return Pad(code, i, o, options);
            case Op.kTfLiteBuiltinMean: return Reduce("ReduceMean", i, o, options);
            case Op.kTfLiteBuiltinReduceMax: return Reduce("ReduceMax", i, o, options);
            case Op.kTfLiteBuiltinReduceMin: return Reduce("ReduceMin", i, o, options);
            case Op.kTfLiteBuiltinSum: return Reduce("ReduceSum", i, o, options);
            case Op.kTfLiteBuiltinConv2d: return Conv(i, o, options, depthwise: false);
            case Op.kTfLiteBuiltinDepthwiseConv2d: return Conv(i, o, options, depthwise: true);
            case Op.kTfLiteBuiltinTransposeConv: return TransposeConv(i, o, options);
            case Op.kTfLiteBuiltinMaxPool2d: return Pool("MaxPool", i, o, options);
            case Op.kTfLiteBuiltinAveragePool2d: return Pool("AveragePool", i, o, options);
            case Op.kTfLiteBuiltinFullyConnected: return FullyConnected(i, o, options);
            case Op.kTfLiteBuiltinBatchMatmul: return BatchMatMul(i, o, options);
            case Op.kTfLiteBuiltinResizeBilinear: return Resize(i, o, options, bilinear: true);
            case Op.kTfLiteBuiltinResizeNearestNeighbor: return Resize(i, o, options, bilinear: false);
            case Op.kTfLiteBuiltinDepthToSpace:
            {
                var x = Temp(_opLabel + "_nchw");
                AddNode("Transpose", new[] { Float(i[0]) }, new[] { x }, NodeAttribute.Ints("perm", ToNchw));
                var z = Temp(_opLabel + "_out_nchw");
                AddNode("DepthToSpace", new[] { x }, new[] { z }, NodeAttribute.Int("blocksize", Positive(options.GetInt(0), "block_size")), NodeAttribute.String("mode", "DCR"));
                var y = OutFloat(o[0]);
                AddNode("Transpose", new[] { z }, new[] { y }, NodeAttribute.Ints("perm", ToNhwc));
                FinishOutput(o[0], y);
                return true;
            }
            case Op.kTfLiteBuiltinDequantize:
            {
                if (IsConstant(i[0]))
                {
                    _folded[o[0]] = FloatConstant(i[0]).WithName(_names[o[0]]);
                    return true;
                }
                var x = Float(i[0]);
                AddNode("Identity", new[] { x }, new[] { _names[o[0]] });
                return true;
            }
            case Op.kTfLiteBuiltinDensify:
                _folded[o[0]] = ConstantOf(i[0]).WithName(_names[o[0]]);
                return true;
            case Op.kTfLiteBuiltinQuantize:
            {
                if (!IsQuantized(o[0])) return false;
                FinishOutput(o[0], Float(i[0]));
                return true;
            }
            case Op.kTfLiteBuiltinCast:
            {
                var to = TypeOf(o[0]);
                if (to is ElementType.Undefined or ElementType.String) return false;
                AddNode("Cast", new[] { Raw(i[0]) }, new[] { _names[o[0]] }, NodeAttribute.Int("to", (long)to));
                return true;
            }
            case Op.kTfLiteBuiltinSlice:
            {
                var begin = IntsOf(i[1]);
                var size = IntsOf(i[2]);
                if (begin is null || size is null) return false;
                if (size.Length != begin.Length) throw Malformed($"input 1 (begin) has {begin.Length} values, input 2 (size) {size.Length}");
                var inShape = ShapeOf(i[0]);
                var end = begin.Select((b, d) => size[d] < 0 ? (d < inShape.Length ? inShape[d] : long.MaxValue) : b + size[d]).ToArray();
                SliceNode(i[0], o[0], begin, end, Enumerable.Repeat(1L, begin.Length).ToArray());
                return true;
            }
            case Op.kTfLiteBuiltinStridedSlice: return StridedSlice(i, o, options);
            case Op.kTfLiteBuiltinIf:
            {
                // IfOptions: then_subgraph_index (0), else_subgraph_index (1); inputs: condition, then the branches' inputs.
                if (options.IsNull) return false;
                var label = _opLabel;
                var branchInputs = i.Skip(1).ToArray();
                var thenBranch = ImportBranch(options.GetInt(0), branchInputs);
                var elseBranch = ImportBranch(options.GetInt(1), branchInputs);
                _opLabel = label;
                if (thenBranch.Outputs.Count != o.Length || elseBranch.Outputs.Count != o.Length)
                {
                    throw new ModelLoadException(_path, $"{label}: its branches have {thenBranch.Outputs.Count} and {elseBranch.Outputs.Count} outputs, the op {o.Length}");
                }
                AddNode("If", new[] { Raw(i[0]) }, o.Select(t => _names[t]), NodeAttribute.FromGraph("then_branch", thenBranch), NodeAttribute.FromGraph("else_branch", elseBranch));
                return true;
            }
            case Op.kTfLiteBuiltinSplit: return Split(i[1], IntsOf(i[0]), null, o);
            case Op.kTfLiteBuiltinSplitV: return Split(i[0], IntsOf(i[2]), IntsOf(i[1]), o);
            case Op.kTfLiteBuiltinGather:
            {
                var axis = (long)options.GetInt(0);
                if (options.GetInt(1) != 0) return false;
                var y = OutFloat(o[0]);
                AddNode("Gather", new[] { IsQuantized(o[0]) || TypeOf(i[0]) is ElementType.Float32 or ElementType.Float16 ? Float(i[0]) : Raw(i[0]), Raw(i[1]) }, new[] { y }, NodeAttribute.Int("axis", axis));
                FinishOutput(o[0], y);
                return true;
            }
            default:
                return false;
        }
    }

    // ---- helpers per op family ----

    private static FusedActivation Activation(FbTable options, int field) => options.IsNull ? FusedActivation.None : (FusedActivation)options.GetByte(field);

    /// <summary>The value an op should write so that <paramref name="activation"/> and quantization follow; call finish after.</summary>
    private string ActivationTarget(int t, FusedActivation activation, out Action finish)
    {
        var final = OutFloat(t);
        if (activation == FusedActivation.None)
        {
            finish = () => FinishOutput(t, final);
            return final;
        }
        var raw = Temp(_opLabel + "_preact");
        finish = () =>
        {
            switch (activation)
            {
                case FusedActivation.Relu: AddNode("Relu", new[] { raw }, new[] { final }); break;
                case FusedActivation.Relu6: AddNode("Clip", new[] { raw, Const(AccelTensor.Scalar(0f), _opLabel + "_min"), Const(AccelTensor.Scalar(6f), _opLabel + "_max") }, new[] { final }); break;
                case FusedActivation.ReluN1To1: AddNode("Clip", new[] { raw, Const(AccelTensor.Scalar(-1f), _opLabel + "_min"), Const(AccelTensor.Scalar(1f), _opLabel + "_max") }, new[] { final }); break;
                case FusedActivation.Tanh: AddNode("Tanh", new[] { raw }, new[] { final }); break;
                default: throw new InvalidModelException($"{Label}: fused activation {activation} of {_opLabel} has no IR form", _opLabel);
            }
            FinishOutput(t, final);
        };
        return raw;
    }

    private void Binary(string op, int[] i, int[] o, FusedActivation activation)
    {
        var floatInputs = TypeOf(o[0]) is ElementType.Float32 or ElementType.Float16 || IsQuantized(o[0]);
        var a = floatInputs ? Float(i[0]) : Raw(i[0]);
        var b = floatInputs ? Float(i[1]) : Raw(i[1]);
        var y = ActivationTarget(o[0], activation, out var finish);
        AddNode(op, new[] { a, b }, new[] { y });
        finish();
    }

    private void Compare(string op, int[] i, int[] o)
    {
        var numeric = IsQuantized(i[0]) || IsQuantized(i[1]) || TypeOf(i[0]) == ElementType.Float16;
        AddNode(op, new[] { numeric ? Float(i[0]) : Raw(i[0]), numeric ? Float(i[1]) : Raw(i[1]) }, new[] { _names[o[0]] });
    }

    private void Unary(string op, int[] i, int[] o)
    {
        var y = OutFloat(o[0]);
        AddNode(op, new[] { Float(i[0]) }, new[] { y });
        FinishOutput(o[0], y);
    }

    private void Clip(int[] i, int[] o, float min, float max)
    {
        var y = OutFloat(o[0]);
        AddNode("Clip", new[] { Float(i[0]), Const(AccelTensor.Scalar(min), _opLabel + "_min"), Const(AccelTensor.Scalar(max), _opLabel + "_max") }, new[] { y });
        FinishOutput(o[0], y);
    }

    /// <summary>A layout-neutral op that keeps the input's type: quantized tensors pass through as floats and are requantized.</summary>
    private void Passthrough(string op, int input, int output, params NodeAttribute[] attributes) =>
        PassthroughWith(op, input, output, Array.Empty<string>(), attributes);

    private void PassthroughWith(string op, int input, int output, string[] extraInputs, params NodeAttribute[] attributes)
    {
        var quantized = IsQuantized(input) || IsQuantized(output);
        var x = quantized || TypeOf(input) == ElementType.Float16 || IsConstant(input) && TypeOf(output) == ElementType.Float32 ? Float(input) : Raw(input);
        var y = quantized ? OutFloat(output) : _names[output];
        AddNode(op, new[] { x }.Concat(extraInputs), new[] { y }, attributes);
        if (quantized) FinishOutput(output, y);
    }

    private bool Reshape(Op code, int[] i, int[] o)
    {
        long[]? shape = null;
        if (code == Op.kTfLiteBuiltinReshape && i.Length > 1 && i[1] >= 0) shape = IntsOf(i[1]);
        if (shape is null || shape.Count(d => d < 0) > 1) shape = SignatureOf(o[0]);
        if (shape.Count(d => d < 0) > 1)
        {
            // Several dynamic sizes: no static target shape, so say which axes go or come.
            if (code == Op.kTfLiteBuiltinSqueeze)
            {
                var squeezed = _lastOptions.IsNull ? Array.Empty<int>() : _lastOptions.GetInts(0);
                if (squeezed.Length == 0) return false;
                PassthroughWith("Squeeze", i[0], o[0], new[] { ConstInts(_opLabel + "_axes", squeezed.Select(a => (long)a).ToArray()) });
                return true;
            }
            if (code == Op.kTfLiteBuiltinExpandDims && IntsOf(i[1]) is { } axis)
            {
                PassthroughWith("Unsqueeze", i[0], o[0], new[] { ConstInts(_opLabel + "_axes", axis) });
                return true;
            }
            return false;
        }
        PassthroughWith("Reshape", i[0], o[0], new[] { ConstInts(_opLabel + "_shape", shape) });
        return true;
    }

    private bool Pad(Op code, int[] i, int[] o, FbTable options)
    {
        var paddings = IntsOf(i[1]);
        if (paddings is null) return false;
        var rank = paddings.Length / 2;
        var pads = new long[2 * rank];
        for (var d = 0; d < rank; d++)
        {
            pads[d] = paddings[2 * d];
            pads[rank + d] = paddings[2 * d + 1];
        }
        var mode = "constant";
        if (code == Op.kTfLiteBuiltinMirrorPad) mode = options.GetByte(0) == 0 ? "reflect" : "edge";
        if (code == Op.kTfLiteBuiltinMirrorPad && mode == "edge") return false; // SYMMETRIC has no ONNX mode
        var extra = new List<string> { ConstInts(_opLabel + "_pads", pads) };
        if (code == Op.kTfLiteBuiltinPadv2 && i.Length > 2 && i[2] >= 0) extra.Add(Float(i[2]));
        else if (IsQuantized(o[0]))
        {
            // Padding a quantized tensor fills with its zero point, which is 0.0 in the float domain.
        }
        PassthroughWith("Pad", i[0], o[0], extra.ToArray(), NodeAttribute.String("mode", mode));
        return true;
    }

    private bool Reduce(string op, int[] i, int[] o, FbTable options)
    {
        var axes = IntsOf(i[1]);
        if (axes is null) return false;
        var keep = !options.IsNull && options.GetBool(0);
        var y = OutFloat(o[0]);
        AddNode(op, new[] { Float(i[0]) }, new[] { y }, NodeAttribute.Ints("axes", axes), NodeAttribute.Int("keepdims", keep ? 1 : 0));
        FinishOutput(o[0], y);
        return true;
    }

    private static (long Before, long After) SamePads(long inSize, long kernel, long stride, long dilation, long outSize)
    {
        var effective = (kernel - 1) * dilation + 1;
        var total = Math.Max((outSize - 1) * stride + effective - inSize, 0);
        return (total / 2, total - total / 2);
    }

    /// <summary>Padding attributes: explicit pads when shapes are static, else SAME_UPPER (TFLite's SAME).</summary>
    private NodeAttribute PaddingAttribute(bool same, int input, int output, long kh, long kw, long sh, long sw, long dh, long dw)
    {
        if (!same) return NodeAttribute.Ints("pads", 0, 0, 0, 0);
        var inShape = SignatureOf(input);
        var outShape = SignatureOf(output);
        if (inShape.Length != 4 || outShape.Length != 4 || inShape[1] < 0 || inShape[2] < 0 || outShape[1] < 0 || outShape[2] < 0)
        {
            return NodeAttribute.String("auto_pad", "SAME_UPPER");
        }
        var (top, bottom) = SamePads(inShape[1], kh, sh, dh, outShape[1]);
        var (left, right) = SamePads(inShape[2], kw, sw, dw, outShape[2]);
        return NodeAttribute.Ints("pads", top, left, bottom, right);
    }

    private bool Conv(int[] i, int[] o, FbTable options, bool depthwise)
    {
        if (!IsConstant(i[1]) || options.IsNull) return false;
        var filter = FloatConstant(i[1]);
        var fs = filter.ShapeArray; // conv: [O, KH, KW, I]; depthwise: [1, KH, KW, C*M]
        if (fs.Length != 4) return false;
        var inShape = RequireRank(i[0], 4, "input 0");
        var same = options.GetByte(0) == 0;
        var sw = Positive(options.GetInt(1, 1), "stride_w");
        var sh = Positive(options.GetInt(2, 1), "stride_h");
        FusedActivation activation;
        long dw, dh, group;
        AccelTensor weights;
        if (depthwise)
        {
            activation = (FusedActivation)options.GetByte(4);
            dw = Positive(options.GetInt(5, 1), "dilation_w_factor");
            dh = Positive(options.GetInt(6, 1), "dilation_h_factor");
            group = inShape[3];
            weights = TransposeConstant(filter, new[] { 3, 0, 1, 2 }); // [C*M, 1, KH, KW]
        }
        else
        {
            activation = (FusedActivation)options.GetByte(3);
            dw = Positive(options.GetInt(4, 1), "dilation_w_factor");
            dh = Positive(options.GetInt(5, 1), "dilation_h_factor");
            if (fs[3] <= 0 || inShape[3] % fs[3] != 0)
            {
                throw Malformed($"input 1 (filter) has {fs[3]} input channels, which do not divide input 0's {inShape[3]} channels");
            }
            group = inShape[3] > 0 ? inShape[3] / fs[3] : 1;
            weights = TransposeConstant(filter, new[] { 0, 3, 1, 2 }); // [O, I, KH, KW]
        }
        var kh = weights.Shape[2];
        var kw = weights.Shape[3];
        var x = Temp(_opLabel + "_nchw");
        AddNode("Transpose", new[] { Float(i[0]) }, new[] { x }, NodeAttribute.Ints("perm", ToNchw));
        var convInputs = new List<string> { x, Const(weights, _opLabel + "_weights") };
        if (i.Length > 2 && i[2] >= 0) convInputs.Add(Float(i[2]));
        var z = Temp(_opLabel + "_out_nchw");
        AddNode("Conv", convInputs, new[] { z },
            NodeAttribute.Ints("kernel_shape", kh, kw), NodeAttribute.Ints("strides", sh, sw), NodeAttribute.Ints("dilations", dh, dw),
            NodeAttribute.Int("group", group), PaddingAttribute(same, i[0], o[0], kh, kw, sh, sw, dh, dw));
        var y = ActivationTarget(o[0], activation, out var finish);
        AddNode("Transpose", new[] { z }, new[] { y }, NodeAttribute.Ints("perm", ToNhwc));
        finish();
        return true;
    }

    private bool TransposeConv(int[] i, int[] o, FbTable options)
    {
        // Inputs: output_shape, weights [O, KH, KW, I], input, optional bias.
        if (i.Length < 3 || options.IsNull) return false;
        return EmitConvTranspose(i[2], i[1], i.Length > 3 ? i[3] : -1, o[0], options.GetByte(0) == 0,
            Positive(options.GetInt(2, 1), "stride_h"), Positive(options.GetInt(1, 1), "stride_w"), (FusedActivation)options.GetByte(3));
    }

    /// <summary>
    /// MediaPipe's custom ops. Convolution2DTransposeBias is a transposed convolution with bias whose custom options are
    /// TfLiteTransposeConvParams (padding enum, stride_width, stride_height as int32).
    /// </summary>
    private bool TryConvertCustom(string? customCode, int[] i, int[] o, ReadOnlySpan<byte> customOptions)
    {
        if (customCode != "Convolution2DTransposeBias" || i.Length < 3 || customOptions.Length < 12) return false;
        var padding = System.Buffers.Binary.BinaryPrimitives.ReadInt32LittleEndian(customOptions);
        var strideW = System.Buffers.Binary.BinaryPrimitives.ReadInt32LittleEndian(customOptions[4..]);
        var strideH = System.Buffers.Binary.BinaryPrimitives.ReadInt32LittleEndian(customOptions[8..]);
        return EmitConvTranspose(i[0], i[1], i[2], o[0], padding != 2, Positive(strideH, "custom option stride_height"),
            Positive(strideW, "custom option stride_width"), FusedActivation.None);
    }

    private bool EmitConvTranspose(int input, int filterTensor, int bias, int output, bool same, long sh, long sw, FusedActivation activation)
    {
        if (!IsConstant(filterTensor)) return false;
        var outShape = SignatureOf(output);
        if (outShape.Length != 4 || outShape.Any(d => d < 0)) return false;
        var filter = FloatConstant(filterTensor);
        if (filter.Rank != 4) throw Malformed($"its filter has rank {filter.Rank}; a transposed convolution needs [O, KH, KW, I]");
        var weights = TransposeConstant(filter, new[] { 3, 0, 1, 2 }); // ONNX ConvTranspose: [I, O, KH, KW]
        var kh = weights.Shape[2];
        var kw = weights.Shape[3];
        var inShape = RequireRank(input, 4, "its input");
        // TFLite places the output origin of input pixel x at x * stride - floor(total / 2): pads are given explicitly
        // (ONNX's output_shape attribute would put the odd pixel first), and output_padding covers a larger output.
        long totalH = same ? (inShape[1] - 1) * sh + kh - outShape[1] : 0;
        long totalW = same ? (inShape[2] - 1) * sw + kw - outShape[2] : 0;
        long padTop = Math.Max(totalH, 0) / 2, padLeft = Math.Max(totalW, 0) / 2;
        long padBottom = Math.Max(totalH, 0) - padTop, padRight = Math.Max(totalW, 0) - padLeft;
        var extraH = outShape[1] - ((inShape[1] - 1) * sh + kh - padTop - padBottom);
        var extraW = outShape[2] - ((inShape[2] - 1) * sw + kw - padLeft - padRight);
        if (extraH < 0 || extraW < 0) return false;
        var x = Temp(_opLabel + "_nchw");
        AddNode("Transpose", new[] { Float(input) }, new[] { x }, NodeAttribute.Ints("perm", ToNchw));
        var inputs = new List<string> { x, Const(weights, _opLabel + "_weights") };
        if (bias >= 0) inputs.Add(Float(bias));
        var z = Temp(_opLabel + "_out_nchw");
        AddNode("ConvTranspose", inputs, new[] { z }, NodeAttribute.Ints("kernel_shape", kh, kw), NodeAttribute.Ints("strides", sh, sw),
            NodeAttribute.Ints("pads", padTop, padLeft, padBottom, padRight), NodeAttribute.Ints("output_padding", extraH, extraW));
        var y = ActivationTarget(output, activation, out var finish);
        AddNode("Transpose", new[] { z }, new[] { y }, NodeAttribute.Ints("perm", ToNhwc));
        finish();
        return true;
    }

    private bool Pool(string op, int[] i, int[] o, FbTable options)
    {
        if (options.IsNull) return false;
        var same = options.GetByte(0) == 0;
        long sw = Positive(options.GetInt(1, 1), "stride_w"), sh = Positive(options.GetInt(2, 1), "stride_h");
        long kw = Positive(options.GetInt(3, 1), "filter_width"), kh = Positive(options.GetInt(4, 1), "filter_height");
        var activation = (FusedActivation)options.GetByte(5);
        var x = Temp(_opLabel + "_nchw");
        AddNode("Transpose", new[] { Float(i[0]) }, new[] { x }, NodeAttribute.Ints("perm", ToNchw));
        var z = Temp(_opLabel + "_out_nchw");
        AddNode(op, new[] { x }, new[] { z }, NodeAttribute.Ints("kernel_shape", kh, kw), NodeAttribute.Ints("strides", sh, sw),
            PaddingAttribute(same, i[0], o[0], kh, kw, sh, sw, 1, 1));
        var y = ActivationTarget(o[0], activation, out var finish);
        AddNode("Transpose", new[] { z }, new[] { y }, NodeAttribute.Ints("perm", ToNhwc));
        finish();
        return true;
    }

    private bool FullyConnected(int[] i, int[] o, FbTable options)
    {
        var activation = options.IsNull ? FusedActivation.None : (FusedActivation)options.GetByte(0);
        if (!options.IsNull && options.GetByte(1) != 0) return false; // shuffled weight formats
        var weightShape = ShapeOf(i[1]);
        if (weightShape.Length != 2) return false;
        var inputFeatures = weightShape[1];
        var x = Float(i[0]);
        var inShape = SignatureOf(i[0]);
        if (inShape.Length != 2)
        {
            var flat = Temp(_opLabel + "_flat");
            AddNode("Reshape", new[] { x, ConstInts(_opLabel + "_flat_shape", -1, inputFeatures) }, new[] { flat });
            x = flat;
        }
        var gemmInputs = new List<string> { x, Float(i[1]) };
        if (i.Length > 2 && i[2] >= 0) gemmInputs.Add(Float(i[2]));
        var outShape = SignatureOf(o[0]);
        var y = ActivationTarget(o[0], activation, out var finish);
        if (outShape.Length == 2)
        {
            AddNode("Gemm", gemmInputs, new[] { y }, NodeAttribute.Int("transB", 1));
        }
        else
        {
            if (outShape.Count(d => d < 0) > 1) return false;
            var flatOut = Temp(_opLabel + "_gemm");
            AddNode("Gemm", gemmInputs, new[] { flatOut }, NodeAttribute.Int("transB", 1));
            AddNode("Reshape", new[] { flatOut, ConstInts(_opLabel + "_out_shape", outShape) }, new[] { y });
        }
        finish();
        return true;
    }

    private bool BatchMatMul(int[] i, int[] o, FbTable options)
    {
        var adjX = !options.IsNull && options.GetBool(0);
        var adjY = !options.IsNull && options.GetBool(1);
        string Side(int t, bool adjoint)
        {
            var v = Float(t);
            if (!adjoint) return v;
            var rank = ShapeOf(t).Length;
            if (rank < 2) throw Malformed($"an adjoint input (tensor {t}, '{_names[t]}') has rank {rank}; BATCH_MATMUL needs at least 2");
            var perm = Enumerable.Range(0, rank).Select(d => (long)d).ToArray();
            (perm[rank - 1], perm[rank - 2]) = (perm[rank - 2], perm[rank - 1]);
            var transposed = Temp(_opLabel + "_adj");
            AddNode("Transpose", new[] { v }, new[] { transposed }, NodeAttribute.Ints("perm", perm));
            return transposed;
        }
        var a = Side(i[0], adjX);
        var b = Side(i[1], adjY);
        var y = OutFloat(o[0]);
        AddNode("MatMul", new[] { a, b }, new[] { y });
        FinishOutput(o[0], y);
        return true;
    }

    private bool Resize(int[] i, int[] o, FbTable options, bool bilinear)
    {
        var outShape = SignatureOf(o[0]);
        if (outShape.Length != 4 || outShape.Any(d => d < 0)) return false;
        var alignCorners = !options.IsNull && options.GetBool(2);
        var halfPixel = !options.IsNull && options.GetBool(3);
        var transform = alignCorners ? "align_corners" : halfPixel ? (bilinear ? "half_pixel" : "tf_half_pixel_for_nn") : "asymmetric";
        var x = Temp(_opLabel + "_nchw");
        AddNode("Transpose", new[] { Float(i[0]) }, new[] { x }, NodeAttribute.Ints("perm", ToNchw));
        var z = Temp(_opLabel + "_out_nchw");
        var sizes = ConstInts(_opLabel + "_sizes", outShape[0], outShape[3], outShape[1], outShape[2]);
        var attributes = new List<NodeAttribute>
        {
            NodeAttribute.String("mode", bilinear ? "linear" : "nearest"),
            NodeAttribute.String("coordinate_transformation_mode", transform),
        };
        if (!bilinear) attributes.Add(NodeAttribute.String("nearest_mode", alignCorners ? "round_prefer_ceil" : "floor"));
        AddNode("Resize", new[] { x, "", "", sizes }, new[] { z }, attributes.ToArray());
        var y = OutFloat(o[0]);
        AddNode("Transpose", new[] { z }, new[] { y }, NodeAttribute.Ints("perm", ToNhwc));
        FinishOutput(o[0], y);
        return true;
    }

    private void SliceNode(int input, int output, long[] starts, long[] ends, long[] steps)
    {
        var axes = Enumerable.Range(0, starts.Length).Select(d => (long)d).ToArray();
        PassthroughWith("Slice", input, output, new[]
        {
            ConstInts(_opLabel + "_starts", starts), ConstInts(_opLabel + "_ends", ends),
            ConstInts(_opLabel + "_axes", axes), ConstInts(_opLabel + "_steps", steps),
        });
    }

    /// <summary>SPLIT (equal parts) and SPLIT_V (sizes, one of them may be -1) as ONNX Split with explicit sizes.</summary>
    private bool Split(int input, long[]? axisValue, long[]? sizes, int[] o)
    {
        var shape = ShapeOf(input);
        if (axisValue is not { Length: 1 } || shape.Length == 0) return false;
        var axis = axisValue[0] < 0 ? axisValue[0] + shape.Length : axisValue[0];
        if (axis < 0 || axis >= shape.Length || shape[axis] < 0) return false;
        var dim = shape[axis];
        long[] parts;
        if (sizes is null)
        {
            if (dim % o.Length != 0) return false;
            parts = Enumerable.Repeat(dim / o.Length, o.Length).ToArray();
        }
        else
        {
            if (sizes.Length != o.Length || sizes.Count(v => v < 0) > 1) return false;
            parts = (long[])sizes.Clone();
            var unknown = Array.FindIndex(parts, v => v < 0);
            if (unknown >= 0) parts[unknown] = dim - parts.Where(v => v >= 0).Sum();
            if (parts.Sum() != dim || parts.Any(v => v < 0)) return false;
        }
        var outputs = o.Select(OutFloat).ToArray();
        AddNode("Split", new[] { Float(input), ConstInts(_opLabel + "_split", parts) }, outputs, NodeAttribute.Int("axis", axis));
        for (var k = 0; k < o.Length; k++) FinishOutput(o[k], outputs[k]);
        return true;
    }

    private bool StridedSlice(int[] i, int[] o, FbTable options)
    {
        var begin = IntsOf(i[1]);
        var end = IntsOf(i[2]);
        var strides = IntsOf(i[3]);
        if (begin is null || end is null || strides is null || options.IsNull) return false;
        if (end.Length != begin.Length || strides.Length != begin.Length)
        {
            throw Malformed($"inputs begin, end and strides have {begin.Length}, {end.Length} and {strides.Length} values; they need one per axis");
        }
        if (strides.Contains(0)) throw Malformed("input 3 (strides) holds a 0 stride");
        int beginMask = options.GetInt(0), endMask = options.GetInt(1), ellipsisMask = options.GetInt(2), newAxisMask = options.GetInt(3), shrinkMask = options.GetInt(4);
        var offset = options.GetBool(5);
        if (ellipsisMask != 0 || newAxisMask != 0) return false;
        var rank = begin.Length;
        var starts = new long[rank];
        var ends = new long[rank];
        for (var d = 0; d < rank; d++)
        {
            var forward = strides[d] > 0;
            starts[d] = (beginMask & (1 << d)) != 0 ? (forward ? 0 : long.MaxValue) : begin[d];
            ends[d] = (endMask & (1 << d)) != 0 ? (forward ? long.MaxValue : long.MinValue) : (offset ? begin[d] + end[d] : end[d]);
            if ((shrinkMask & (1 << d)) != 0) ends[d] = starts[d] == -1 ? long.MaxValue : starts[d] + 1;
        }
        if (shrinkMask == 0)
        {
            SliceNode(i[0], o[0], starts, ends, strides);
            return true;
        }
        var sliced = Temp(_opLabel + "_sliced");
        var quantized = IsQuantized(i[0]) || IsQuantized(o[0]);
        var axes = Enumerable.Range(0, rank).Select(d => (long)d).ToArray();
        AddNode("Slice", new[]
        {
            quantized ? Float(i[0]) : Raw(i[0]), ConstInts(_opLabel + "_starts", starts), ConstInts(_opLabel + "_ends", ends),
            ConstInts(_opLabel + "_axes", axes), ConstInts(_opLabel + "_steps", strides),
        }, new[] { sliced });
        var y = quantized ? OutFloat(o[0]) : _names[o[0]];
        AddNode("Reshape", new[] { sliced, ConstInts(_opLabel + "_shape", SignatureOf(o[0])) }, new[] { y });
        if (quantized) FinishOutput(o[0], y);
        return true;
    }

    /// <summary>The shape of tensor <paramref name="t"/>, which the operator needs of rank <paramref name="rank"/>.</summary>
    private long[] RequireRank(int t, int rank, string role)
    {
        var shape = ShapeOf(t);
        if (shape.Length != rank) throw Malformed($"{role} (tensor {t}, '{_names[t]}') has rank {shape.Length}; the operator needs {rank}");
        return shape;
    }

    /// <summary>An option that must be at least 1 (strides, dilations, kernel and block sizes).</summary>
    private long Positive(int value, string option)
    {
        if (value < 1) throw Malformed($"option {option} = {value}; it must be at least 1");
        return value;
    }

    /// <summary>Transposes a float32 constant at import time.</summary>
    private static AccelTensor TransposeConstant(AccelTensor value, int[] perm)
    {
        var shape = value.ShapeArray;
        var outShape = perm.Select(p => shape[p]).ToArray();
        var source = value.AsSpan<float>();
        var result = new float[source.Length];
        var rank = shape.Length;
        var inStrides = new long[rank];
        long stride = 1;
        for (var d = rank - 1; d >= 0; d--)
        {
            inStrides[d] = stride;
            stride *= shape[d];
        }
        var index = new long[rank];
        for (var flat = 0; flat < result.Length; flat++)
        {
            long src = 0;
            for (var d = 0; d < rank; d++) src += index[d] * inStrides[perm[d]];
            result[flat] = source[(int)src];
            for (var d = rank - 1; d >= 0; d--)
            {
                if (++index[d] < outShape[d]) break;
                index[d] = 0;
            }
        }
        return AccelTensor.Create(result, outShape);
    }
}
