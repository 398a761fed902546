using AccelSdk.Ir;
using Op = AccelSdk.TfLite.Native.TfLiteBuiltinOperator;

namespace AccelSdk.TfLite.Import;

/// <summary>
/// One structural pass over a <c>.tflite</c> flatbuffer before anything uses it: the importer relies on it so that
/// operator conversion can index tensors, buffers and op inputs without further checks, and <see cref="LiteModel"/>
/// runs it before the bytes reach the TFLite C API (TFLite verifies the flatbuffer's layout, not that the indices it
/// holds make sense, and crashes on some that do not). Every tensor, buffer, opcode, subgraph and signature index is
/// checked to be in range, every shape to be non-negative with a byte size that fits 63 bits, every dense constant to
/// fill its buffer exactly, quantization and sparsity parameters to be consistent with the shape, every operator to
/// have the inputs and outputs its kind requires, to read only values that exist when it runs (constants, subgraph
/// inputs, variables, earlier operators' outputs) and to write only tensors nothing else writes, and control flow to
/// refer to existing subgraphs without cycles. A failure is a <see cref="ModelLoadException"/> naming the table, the
/// index and the field.
/// </summary>
internal sealed class TfLiteValidator
{
    /// <summary>The largest tensor rank accepted (TFLite kernels handle at most 6; sparse tensors add block dims).</summary>
    public const int MaxRank = 16;

    /// <summary>The deepest nesting of control-flow subgraphs accepted (importing and running them recurses).</summary>
    public const int MaxSubgraphNesting = 32;

    private const byte IfOptionsType = 92, WhileOptionsType = 93, CallOnceOptionsType = 103;
    private const int SignatureInputs = 0, SignatureOutputs = 1, SignatureSubgraphIndex = 4, TensorMapIndex = 1;

    private readonly byte[] _bytes;
    private readonly string _path;
    private readonly long? _maxActivationBytes;

    /// <summary>Whether the subgraph being checked has a dynamic dimension (its declared shapes may then be stale).</summary>
    private bool _dynamicShapes;
    private long _activationBytes;
    private FbTable[] _buffers = Array.Empty<FbTable>();
    private FbTable[] _codes = Array.Empty<FbTable>();
    private FbTable[] _subgraphs = Array.Empty<FbTable>();
    private string _where = "model";

    private TfLiteValidator(byte[] bytes, string path, long? maxActivationBytes)
    {
        _bytes = bytes;
        _path = path;
        _maxActivationBytes = maxActivationBytes;
    }

    /// <summary>
    /// Validates <paramref name="bytes"/>; throws <see cref="ModelLoadException"/> naming what is wrong. With
    /// <paramref name="maxActivationBytes"/> (the TFLite runtime is about to get the file) the bytes of all tensors TFLite
    /// would allocate are capped, and what TFLite 2.14's kernels need beyond the schema is required too.
    /// </summary>
    public static void Validate(byte[] bytes, string path, long? maxActivationBytes = null)
    {
        if (bytes.Length < 8 || bytes[4] != (byte)'T' || bytes[5] != (byte)'F' || bytes[6] != (byte)'L' || bytes[7] != (byte)'3')
        {
            throw new ModelLoadException(path, $"not a TFLite flatbuffer: {bytes.Length} bytes without the 'TFL3' identifier");
        }
        var validator = new TfLiteValidator(bytes, path, maxActivationBytes);
        try
        {
            validator.ValidateModel();
        }
        catch (FlatBufferException e)
        {
            throw new ModelLoadException(path, $"{validator._where}: corrupt or truncated flatbuffer: {e.Message}", e);
        }
        catch (OverflowException e)
        {
            throw new ModelLoadException(path, $"{validator._where}: corrupt flatbuffer: an offset or size overflows", e);
        }
    }

    /// <summary>The builtin operator of an operator code, as TFLite reads it (the larger of the two code fields).</summary>
    public static Op BuiltinCodeOf(FbTable code) =>
        (Op)Math.Max(code.GetByte(OperatorCodeFields.DeprecatedBuiltinCode), code.GetInt(OperatorCodeFields.BuiltinCode));

    /// <summary>A readable operator name: the custom code for custom ops, else the builtin's name without its prefix.</summary>
    public static string OperatorName(Op code, string? customCode) =>
        code == Op.kTfLiteBuiltinCustom ? customCode ?? "CUSTOM" : code.ToString().Replace("kTfLiteBuiltin", "", StringComparison.Ordinal);

    /// <summary>
    /// Whether the buffer holds data (inline or, for large models, at an offset past the flatbuffer); an empty buffer
    /// marks a tensor computed at run time.
    /// </summary>
    public static bool HasData(FbTable buffer) =>
        !buffer.IsNull && (buffer.GetULong(BufferFields.Offset) > 1 ? buffer.GetULong(BufferFields.Size) > 0 : buffer.GetVectorBytes(BufferFields.Data, 1).Length > 0);

    private ModelLoadException Fail(string problem) => new(_path, $"{_where}: {problem}");

    private void ValidateModel()
    {
        var root = FbTable.Root(_bytes);
        var version = root.GetUInt(ModelFields.Version);
        if (version != 3) throw Fail($"TFLite schema version {version} is not supported (3 is)");
        _codes = root.GetTables(ModelFields.OperatorCodes);
        _subgraphs = root.GetTables(ModelFields.Subgraphs);
        _buffers = root.GetTables(ModelFields.Buffers);
        if (_subgraphs.Length == 0) throw Fail("the model has no subgraph");
        for (var b = 0; b < _buffers.Length; b++) ValidateBuffer(b);
        for (var c = 0; c < _codes.Length; c++)
        {
            _where = $"operator code {c}";
            _codes[c].GetString(OperatorCodeFields.CustomCode);
        }
        var references = new List<int>[_subgraphs.Length];
        for (var s = 0; s < _subgraphs.Length; s++) references[s] = ValidateSubgraph(s);
        CheckSubgraphNesting(references);
        var signatures = root.GetTables(ModelFields.SignatureDefs);
        for (var k = 0; k < signatures.Length; k++) ValidateSignature(k, signatures[k]);
    }

    private void ValidateBuffer(int index)
    {
        _where = $"buffer {index}";
        var buffer = _buffers[index];
        var offset = buffer.GetULong(BufferFields.Offset);
        var size = buffer.GetULong(BufferFields.Size);
        if (offset > 1 && (offset > (ulong)_bytes.Length || size > (ulong)_bytes.Length - offset))
        {
            throw Fail($"data at offset {offset} with size {size} lies outside the {_bytes.Length}-byte file");
        }
        buffer.GetVectorBytes(BufferFields.Data, 1);
    }

    /// <summary>Validates subgraph <paramref name="s"/>; returns the subgraphs its control-flow operators refer to.</summary>
    private List<int> ValidateSubgraph(int s)
    {
        _where = $"subgraph {s}";
        var subgraph = _subgraphs[s];
        var tensors = subgraph.GetTables(SubGraphFields.Tensors);
        subgraph.GetString(SubGraphFields.Name);
        var facts = new TensorFacts[tensors.Length];
        _dynamicShapes = false;
        for (var t = 0; t < tensors.Length; t++) facts[t] = ValidateTensor(s, t, tensors[t]);
        var inputs = CheckTensorList(subgraph.GetInts(SubGraphFields.Inputs), tensors.Length, $"subgraph {s} inputs");
        var outputs = CheckTensorList(subgraph.GetInts(SubGraphFields.Outputs), tensors.Length, $"subgraph {s} outputs");
        var operators = subgraph.GetTables(SubGraphFields.Operators);
        var writer = new int[tensors.Length];
        Array.Fill(writer, -1);
        for (var o = 0; o < operators.Length; o++) ValidateOutputs(s, o, operators[o], facts, inputs, writer);
        var references = new List<int>();
        for (var o = 0; o < operators.Length; o++) ValidateInputs(s, o, operators[o], facts, writer, references);
        _where = $"subgraph {s}";
        foreach (var t in outputs)
        {
            if (writer[t] < 0 && !facts[t].IsConstant && !facts[t].IsVariable && Array.IndexOf(inputs, t) < 0)
            {
                throw Fail($"output tensor {t} ('{facts[t].Name}') is written by no operator, is no subgraph input and holds no constant");
            }
        }
        return references;
    }

    private readonly record struct TensorFacts(string Name, bool IsConstant, bool IsVariable, int[] Shape, SchemaTensorType Type, ScaleRange? Scales)
    {
        public bool HasScale => Scales is not null;
    }

    /// <summary>The smallest and largest quantization scale of a tensor.</summary>
    private readonly record struct ScaleRange(float Min, float Max);

    private TensorFacts ValidateTensor(int s, int t, FbTable tensor)
    {
        _where = $"subgraph {s} tensor {t}";
        var name = tensor.GetString(TensorFields.Name) ?? "";
        _where = $"subgraph {s} tensor {t} ('{name}')";
        var shape = tensor.GetInts(TensorFields.Shape);
        if (shape.Length > MaxRank) throw Fail($"field shape has rank {shape.Length}, more than the {MaxRank} supported");
        for (var d = 0; d < shape.Length; d++)
        {
            if (shape[d] < 0) throw Fail($"field shape has dimension {d} = {shape[d]}; sizes in 'shape' cannot be negative (dynamic sizes belong in shape_signature)");
        }
        var signature = tensor.GetInts(TensorFields.ShapeSignature);
        if (signature.Length > MaxRank) throw Fail($"field shape_signature has rank {signature.Length}, more than the {MaxRank} supported");
        for (var d = 0; d < signature.Length; d++)
        {
            if (signature[d] < -1) throw Fail($"field shape_signature has dimension {d} = {signature[d]}; only -1 (dynamic) or a size is allowed");
        }
        if (signature.Any(d => d < 0)) _dynamicShapes = true;
        var typeCode = tensor.GetByte(TensorFields.Type);
        if (typeCode > (byte)SchemaTensorType.Int4) throw Fail($"field type holds {typeCode}, which is no TFLite tensor type");
        var bytesNeeded = ByteSize(shape, (SchemaTensorType)typeCode);
        var bufferIndex = tensor.GetUInt(TensorFields.Buffer);
        if (bufferIndex != 0 && bufferIndex >= (uint)_buffers.Length)
        {
            throw Fail($"field buffer refers to buffer {bufferIndex}, but the model has {_buffers.Length}");
        }
        var hasData = bufferIndex > 0 && HasData(_buffers[bufferIndex]);
        var sparsity = tensor.GetTable(TensorFields.Sparsity);
        if (!sparsity.IsNull) ValidateSparsity(sparsity, shape);
        else if (hasData && bytesNeeded is { } needed)
        {
            var held = BufferLength(_buffers[bufferIndex]);
            if (held != (ulong)needed) throw Fail($"constant {(SchemaTensorType)typeCode}[{string.Join(",", shape)}] needs {needed} bytes, its buffer {bufferIndex} holds {held}");
        }
        var scales = ValidateQuantization(tensor.GetTable(TensorFields.Quantization), shape);
        if (!hasData && bytesNeeded is { } allocated) CountActivation(allocated, shape);
        return new TensorFacts(name, hasData, tensor.GetBool(TensorFields.IsVariable), shape, (SchemaTensorType)typeCode, scales);
    }

    /// <summary>TFLite allocates every non-constant tensor up front; a file asking for more than memory holds aborts it.</summary>
    private void CountActivation(long bytes, int[] shape)
    {
        if (_maxActivationBytes is not { } limit) return;
        _activationBytes = bytes > long.MaxValue - _activationBytes ? long.MaxValue : _activationBytes + bytes;
        if (_activationBytes > limit)
        {
            throw Fail($"shape [{string.Join(",", shape)}] needs {bytes} bytes; with the tensors before it TFLite would allocate {_activationBytes} bytes, more than the {limit} allowed (LiteModel.MaxActivationBytes)");
        }
    }

    private static ulong BufferLength(FbTable buffer)
    {
        var offset = buffer.GetULong(BufferFields.Offset);
        return offset > 1 ? buffer.GetULong(BufferFields.Size) : (ulong)buffer.GetVectorBytes(BufferFields.Data, 1).Length;
    }

    /// <summary>The byte size of a dense tensor, overflow-checked; null for types without a fixed element size.</summary>
    private long? ByteSize(int[] shape, SchemaTensorType type)
    {
        long count = 1;
        foreach (var d in shape)
        {
            if (d != 0 && count > long.MaxValue / d) throw Fail($"field shape [{string.Join(",", shape)}] holds more than 2^63 elements");
            count *= d;
        }
        var size = type switch
        {
            SchemaTensorType.String or SchemaTensorType.Resource or SchemaTensorType.Variant or SchemaTensorType.Int4 => 0,
            SchemaTensorType.Float32 or SchemaTensorType.Int32 or SchemaTensorType.UInt32 => 4,
            SchemaTensorType.Float16 or SchemaTensorType.Int16 or SchemaTensorType.UInt16 => 2,
            SchemaTensorType.Int64 or SchemaTensorType.Float64 or SchemaTensorType.UInt64 or SchemaTensorType.Complex64 => 8,
            SchemaTensorType.Complex128 => 16,
            _ => 1,
        };
        if (size == 0) return null;
        if (count > long.MaxValue / size) throw Fail($"field shape [{string.Join(",", shape)}] of {type} needs more than 2^63 bytes");
        return count * size;
    }

    private const float MinScale = 1e-30f;
    private const float MaxScale = 1e30f;

    /// <summary>Checks the quantization parameters against the shape; returns the range of the tensor's scales, if any.</summary>
    private ScaleRange? ValidateQuantization(FbTable quantization, int[] shape)
    {
        if (quantization.IsNull) return null;
        var scales = quantization.GetFloats(QuantizationFields.Scale);
        var zeroPoints = quantization.GetLongs(QuantizationFields.ZeroPoint);
        quantization.GetFloats(QuantizationFields.Min);
        quantization.GetFloats(QuantizationFields.Max);
        if (scales.Length == 0) return null;
        for (var k = 0; k < scales.Length; k++)
        {
            // TFLite derives fixed-point multipliers from the scale, some in float arithmetic (2 * max(scale1, scale2)
            // in Add): zero, negative, non-finite or near-float-limit scales make a multiplier 0 or infinite and abort it.
            if (!float.IsFinite(scales[k]) || scales[k] < MinScale || scales[k] > MaxScale)
                throw Fail($"field quantization.scale[{k}] = {scales[k]}; a scale must be finite and within [{MinScale}, {MaxScale}]");
        }
        if (zeroPoints.Length != scales.Length)
        {
            throw Fail($"field quantization has {scales.Length} scale(s) and {zeroPoints.Length} zero point(s); TFLite needs as many of each");
        }
        var axis = quantization.GetInt(QuantizationFields.QuantizedDimension);
        var range = new ScaleRange(scales.Min(), scales.Max());
        if (scales.Length == 1) return range;
        if (axis < 0 || axis >= shape.Length)
        {
            throw Fail($"field quantization.quantized_dimension = {axis} is outside the tensor's rank {shape.Length}");
        }
        if (scales.Length != shape[axis])
        {
            throw Fail($"field quantization has {scales.Length} scales for dimension {axis} of size {shape[axis]}");
        }
        return range;
    }

    private int[] CheckTensorList(int[] indices, int tensorCount, string what)
    {
        var seen = new HashSet<int>();
        for (var k = 0; k < indices.Length; k++)
        {
            var t = indices[k];
            if ((uint)t >= (uint)tensorCount) throw Fail($"{what}[{k}] refers to tensor {t}, but the subgraph has {tensorCount}");
            if (!seen.Add(t)) throw Fail($"{what}[{k}] lists tensor {t} a second time");
        }
        return indices;
    }

    /// <summary>Names operator <paramref name="o"/> for messages; returns its opcode and custom code.</summary>
    private (Op Code, string? Custom, string Name) Describe(int s, int o, FbTable op)
    {
        _where = $"subgraph {s} operator {o}";
        var codeIndex = op.GetUInt(OperatorFields.OpcodeIndex);
        if (codeIndex >= (uint)_codes.Length) throw Fail($"field opcode_index = {codeIndex}, but the model has {_codes.Length} operator codes");
        var code = BuiltinCodeOf(_codes[(int)codeIndex]);
        var custom = _codes[(int)codeIndex].GetString(OperatorCodeFields.CustomCode);
        var name = OperatorName(code, custom);
        _where = $"subgraph {s} operator {o} ({name})";
        return (code, custom, name);
    }

    /// <summary>Each tensor has one writer: an operator may not write a constant, a subgraph input or another's output.</summary>
    private void ValidateOutputs(int s, int o, FbTable op, TensorFacts[] facts, int[] subgraphInputs, int[] writer)
    {
        var (code, custom, name) = Describe(s, o, op);
        var outputs = op.GetInts(OperatorFields.Outputs);
        var (_, requiredOutputs, _) = Arity(code, custom);
        if (outputs.Length < requiredOutputs) throw Fail($"field outputs lists {outputs.Length} tensor(s); {name} needs at least {requiredOutputs}");
        for (var k = 0; k < outputs.Length; k++)
        {
            var t = outputs[k];
            if ((uint)t >= (uint)facts.Length) throw Fail($"field outputs[{k}] refers to tensor {t}, but the subgraph has {facts.Length}");
            if (facts[t].IsConstant) throw Fail($"field outputs[{k}] writes tensor {t} ('{facts[t].Name}'), which is a constant");
            if (writer[t] >= 0) throw Fail($"field outputs[{k}] writes tensor {t} ('{facts[t].Name}'), which operator {writer[t]} already writes");
            if (Array.IndexOf(subgraphInputs, t) >= 0) throw Fail($"field outputs[{k}] writes tensor {t} ('{facts[t].Name}'), which is a subgraph input");
            writer[t] = o;
        }
    }

    /// <summary>
    /// Required inputs are present and in range, and no input is written by this or a later operator (operators run in
    /// order). A tensor nothing writes may be read: TFLite allocates it, and real converters leave such tensors.
    /// </summary>
    private void ValidateInputs(int s, int o, FbTable op, TensorFacts[] facts, int[] writer, List<int> references)
    {
        var (code, custom, name) = Describe(s, o, op);
        var inputs = op.GetInts(OperatorFields.Inputs);
        op.GetVectorBytes(OperatorFields.CustomOptions, 1);
        var (requiredInputs, _, optionalInputs) = Arity(code, custom);
        if (inputs.Length < requiredInputs) throw Fail($"field inputs lists {inputs.Length} tensor(s); {name} needs at least {requiredInputs}");
        for (var k = 0; k < inputs.Length; k++)
        {
            var t = inputs[k];
            if (t == -1 && MayBeAbsent(k, requiredInputs, optionalInputs)) continue; // -1 marks an absent optional input
            if ((uint)t >= (uint)facts.Length)
            {
                throw Fail($"field inputs[{k}] refers to tensor {t}, but the subgraph has {facts.Length}" + (t == -1 ? $" (-1 marks an absent input; input {k} of {name} cannot be absent)" : ""));
            }
            if (writer[t] == o) throw Fail($"field inputs[{k}] reads tensor {t} ('{facts[t].Name}'), which the operator itself writes");
            if (writer[t] > o) throw Fail($"field inputs[{k}] reads tensor {t} ('{facts[t].Name}'), which operator {writer[t]} writes only later");
        }
        if (_maxActivationBytes is not null && code == Op.kTfLiteBuiltinDepthwiseConv2d && (inputs.Length < 3 || inputs[2] < 0))
        {
            // TFLite 2.14's depthwise kernels read the bias unconditionally (a missing one crashes the process).
            throw Fail("field inputs has no bias (input 2); TFLite's DEPTHWISE_CONV_2D kernel needs one");
        }
        ValidateOptions(code, name, op, inputs, facts);
        if (_maxActivationBytes is not null) RequireQuantization(code, name, inputs, op.GetInts(OperatorFields.Outputs), facts);
        foreach (var target in SubgraphReferences(code, op))
        {
            if ((uint)target >= (uint)_subgraphs.Length) throw Fail($"its options refer to subgraph {target}, but the model has {_subgraphs.Length}");
            references.Add(target);
        }
    }

    /// <summary>
    /// TFLite's integer kernels compute with each int8/uint8/int16 tensor's scale; one without quantization parameters
    /// aborts them. Ops that only move integers (reshapes, gathers, casts, slices, control flow, custom ops) are exempt.
    /// </summary>
    private void RequireQuantization(Op code, string name, int[] inputs, int[] outputs, TensorFacts[] facts)
    {
        if (code is Op.kTfLiteBuiltinCustom or Op.kTfLiteBuiltinReshape or Op.kTfLiteBuiltinSqueeze or Op.kTfLiteBuiltinExpandDims
            or Op.kTfLiteBuiltinTranspose or Op.kTfLiteBuiltinGather or Op.kTfLiteBuiltinGatherNd or Op.kTfLiteBuiltinCast
            or Op.kTfLiteBuiltinSlice or Op.kTfLiteBuiltinStridedSlice or Op.kTfLiteBuiltinShape or Op.kTfLiteBuiltinPack
            or Op.kTfLiteBuiltinUnpack or Op.kTfLiteBuiltinSplit or Op.kTfLiteBuiltinSplitV or Op.kTfLiteBuiltinTile
            or Op.kTfLiteBuiltinFill or Op.kTfLiteBuiltinArgMax or Op.kTfLiteBuiltinArgMin or Op.kTfLiteBuiltinEqual
            or Op.kTfLiteBuiltinNotEqual or Op.kTfLiteBuiltinSelect or Op.kTfLiteBuiltinSelectV2 or Op.kTfLiteBuiltinReadVariable
            or Op.kTfLiteBuiltinAssignVariable or Op.kTfLiteBuiltinVarHandle or Op.kTfLiteBuiltinIf or Op.kTfLiteBuiltinWhile
            or Op.kTfLiteBuiltinCallOnce or Op.kTfLiteBuiltinDensify or Op.kTfLiteBuiltinPad or Op.kTfLiteBuiltinPadv2)
        {
            return;
        }
        if (code is not (Op.kTfLiteBuiltinQuantize or Op.kTfLiteBuiltinDequantize) && outputs.Length > 0 && outputs[0] >= 0
            && !facts[outputs[0]].HasScale && QuantizedPathInput(code, inputs, facts) is { } quantizedInput)
        {
            // The quantized kernels requantize into the output's scale, whatever its declared type.
            throw Fail($"field outputs[0]: tensor {outputs[0]} ('{facts[outputs[0]].Name}') has no quantization parameters, but input {quantizedInput} is {facts[inputs[quantizedInput]].Type} and TFLite's {name} kernel requantizes into the output's scale");
        }
        foreach (var (list, role) in new[] { (inputs, "inputs"), (outputs, "outputs") })
        {
            for (var k = 0; k < list.Length; k++)
            {
                var t = list[k];
                if (t < 0 || facts[t].HasScale || !IsInteger8Or16(facts[t].Type)) continue;
                throw Fail($"field {role}[{k}]: tensor {t} ('{facts[t].Name}') is {facts[t].Type} without quantization parameters, which TFLite's {name} kernel needs");
            }
        }
        RequireRepresentableRescale(name, inputs, outputs, facts);
    }

    /// <summary>
    /// Largest ratio between an input's and an output's scale that an integer kernel may rescale by: ADD/SUB need
    /// 2 * max(input scales) / (2^20 * output scale) below 1, so 2^19; 2^16 leaves a margin.
    /// </summary>
    private const double MaxRescale = 1 << 16;

    /// <summary>Smallest such ratio.</summary>
    private const double MinRescale = 1.0 / (1L << 32);

    /// <summary>
    /// TFLite's integer kernels turn input-to-output scale ratios into 32-bit fixed-point multipliers and abort when one
    /// is not representable (found by fuzzing: an output scale of 1e-30 under an input of 0.0039). Real models rescale
    /// by far less than 2^16 either way; int32/int64 tensors (biases) are not compared.
    /// </summary>
    private void RequireRepresentableRescale(string name, int[] inputs, int[] outputs, TensorFacts[] facts)
    {
        // Kernels pick their quantized path by input 0's or the output's type (ADD by the output's), and a quantized
        // path reads every scale, whatever a tensor's declared type.
        if (!inputs.Concat(outputs).Any(t => t >= 0 && IsInteger8Or16(facts[t].Type))) return;
        foreach (var o in outputs)
        {
            if (o < 0 || facts[o].Scales is not { } outScales || IsWideInteger(facts[o].Type)) continue;
            foreach (var i in inputs)
            {
                if (i < 0 || facts[i].Scales is not { } inScales || IsWideInteger(facts[i].Type)) continue;
                var largest = (double)inScales.Max / outScales.Min;
                var smallest = (double)inScales.Min / outScales.Max;
                if (largest <= MaxRescale && smallest >= MinRescale) continue;
                throw Fail($"tensor {i} ('{facts[i].Name}', scales {inScales.Min:G3}..{inScales.Max:G3}) and output tensor {o} ('{facts[o].Name}', scales {outScales.Min:G3}..{outScales.Max:G3}) " +
                    $"differ in scale by more than 2^16 or less than 2^-32; TFLite's {name} kernel cannot rescale between them");
            }
        }
    }

    /// <summary>
    /// The input whose 8/16-bit type sends the kernel down its quantized path, or null. Most kernels look at input 0;
    /// elementwise binary kernels at either input (ADD sets its output's type to input 1's before choosing), and they
    /// have no hybrid float/int8 form that could legitimately leave the output unscaled.
    /// </summary>
    private static int? QuantizedPathInput(Op code, int[] inputs, TensorFacts[] facts)
    {
        var candidates = code is Op.kTfLiteBuiltinAdd or Op.kTfLiteBuiltinSub or Op.kTfLiteBuiltinMul or Op.kTfLiteBuiltinDiv
            or Op.kTfLiteBuiltinSquaredDifference or Op.kTfLiteBuiltinMaximum or Op.kTfLiteBuiltinMinimum
            ? inputs.Length
            : Math.Min(1, inputs.Length);
        for (var k = 0; k < candidates; k++)
        {
            if (inputs[k] >= 0 && IsInteger8Or16(facts[inputs[k]].Type)) return k;
        }
        return null;
    }

    private static bool IsWideInteger(SchemaTensorType type) => type is SchemaTensorType.Int32 or SchemaTensorType.Int64;

    private static bool IsInteger8Or16(SchemaTensorType type) => type is SchemaTensorType.Int8 or SchemaTensorType.UInt8 or SchemaTensorType.Int16;

    /// <summary>The largest stride, dilation, filter or block size accepted: TFLite computes sizes from them in 32 bits.</summary>
    public const int MaxWindowOption = 1 << 15;

    /// <summary>
    /// Options that TFLite's kernels divide by, loop over or multiply into sizes (strides, dilations, filter and block
    /// sizes, the depth multiplier) and the padding enum. Zero (the schema's default for strides), huge values or an
    /// unknown padding crash TFLite; they are refused here.
    /// </summary>
    private void ValidateOptions(Op code, string name, FbTable op, int[] inputs, TensorFacts[] facts)
    {
        var (expected, hasPadding, fields) = code switch
        {
            Op.kTfLiteBuiltinConv2d => ((byte)1, true, new[] { (1, "stride_w", 0), (2, "stride_h", 0), (4, "dilation_w_factor", 1), (5, "dilation_h_factor", 1) }),
            Op.kTfLiteBuiltinDepthwiseConv2d => ((byte)2, true, new[] { (1, "stride_w", 0), (2, "stride_h", 0), (5, "dilation_w_factor", 1), (6, "dilation_h_factor", 1) }),
            Op.kTfLiteBuiltinMaxPool2d or Op.kTfLiteBuiltinAveragePool2d or Op.kTfLiteBuiltinL2Pool2d =>
                ((byte)5, true, new[] { (1, "stride_w", 0), (2, "stride_h", 0), (3, "filter_width", 0), (4, "filter_height", 0) }),
            Op.kTfLiteBuiltinTransposeConv => ((byte)49, true, new[] { (1, "stride_w", 0), (2, "stride_h", 0) }),
            Op.kTfLiteBuiltinDepthToSpace => ((byte)94, false, new[] { (0, "block_size", 0) }),
            Op.kTfLiteBuiltinSpaceToDepth => ((byte)19, false, new[] { (0, "block_size", 0) }),
            _ => ((byte)0, false, Array.Empty<(int, string, int)>()),
        };
        if (fields.Length == 0) return;
        var options = op.GetUnion(OperatorFields.BuiltinOptions);
        var type = op.GetByte(OperatorFields.BuiltinOptionsType);
        if (options.IsNull || type != expected) throw Fail($"field builtin_options is missing or of type {type}; {name} needs options of type {expected}");
        foreach (var (field, option, defaultValue) in fields)
        {
            var value = options.GetInt(field, defaultValue);
            if (value < 1 || value > MaxWindowOption) throw Fail($"field builtin_options.{option} = {value}; it must lie in [1, {MaxWindowOption}]");
        }
        var padding = options.GetByte(0);
        if (hasPadding && padding > 1) throw Fail($"field builtin_options.padding = {padding}; SAME (0) and VALID (1) exist");
        if (code == Op.kTfLiteBuiltinDepthwiseConv2d) ValidateDepthMultiplier(options.GetInt(3), inputs, facts);
        if (code != Op.kTfLiteBuiltinTransposeConv && hasPadding && !_dynamicShapes) ValidateWindowOutput(code, options, inputs, op.GetInts(OperatorFields.Outputs), facts);
    }

    /// <summary>
    /// In a subgraph without dynamic dimensions, the declared output height and width of a convolution or pool must be
    /// what its strides, padding, filter and dilation make of the declared input. TFLite recomputes the shape, but
    /// kernels further on then run on sizes the file never declared (found by fuzzing: a depthwise stride_w of 255 in
    /// selfie_segmentation crashed TFLite's RESIZE_BILINEAR with SIGSEGV). Unknown (0) sizes are not checked.
    /// </summary>
    private void ValidateWindowOutput(Op code, FbTable options, int[] inputs, int[] outputs, TensorFacts[] facts)
    {
        if (inputs.Length == 0 || inputs[0] < 0 || outputs.Length == 0 || outputs[0] < 0) return;
        var input = facts[inputs[0]].Shape;
        var output = facts[outputs[0]].Shape;
        if (input.Length != 4 || output.Length != 4 || input.Any(d => d <= 0) || output.Any(d => d <= 0)) return;
        int filterH, filterW, dilationH = 1, dilationW = 1;
        if (code is Op.kTfLiteBuiltinMaxPool2d or Op.kTfLiteBuiltinAveragePool2d or Op.kTfLiteBuiltinL2Pool2d)
        {
            (filterW, filterH) = (options.GetInt(3), options.GetInt(4));
        }
        else
        {
            if (inputs.Length < 2 || inputs[1] < 0 || facts[inputs[1]].Shape is not { Length: 4 } filter) return;
            (filterH, filterW) = (filter[1], filter[2]);
            var dilationField = code == Op.kTfLiteBuiltinConv2d ? 4 : 5;
            (dilationW, dilationH) = (options.GetInt(dilationField, 1), options.GetInt(dilationField + 1, 1));
        }
        var same = options.GetByte(0) == 0;
        var expectedH = WindowOutputSize(input[1], filterH, dilationH, options.GetInt(2), same);
        var expectedW = WindowOutputSize(input[2], filterW, dilationW, options.GetInt(1), same);
        if (expectedH == output[1] && expectedW == output[2]) return;
        throw Fail($"field outputs[0]: tensor {outputs[0]} ('{facts[outputs[0]].Name}') is declared {output[1]}x{output[2]}, but the options make {expectedH}x{expectedW} of the input's {input[1]}x{input[2]}");
    }

    /// <summary>TFLite's output size of a window op (ComputeOutSize).</summary>
    private static long WindowOutputSize(long size, long filter, long dilation, long stride, bool same)
    {
        var dilated = (filter - 1) * dilation + 1;
        return same ? (size + stride - 1) / stride : (size + stride - dilated) / stride;
    }

    /// <summary>TFLite's depthwise kernels index output channels as input channel x multiplier: it has to match the filter.</summary>
    private void ValidateDepthMultiplier(int multiplier, int[] inputs, TensorFacts[] facts)
    {
        if (multiplier == 0) return; // TFLite then derives it from the shapes
        var input = facts[inputs[0]].Shape;
        var filter = facts[inputs[1]].Shape;
        if (multiplier < 0 || input.Length == 4 && filter.Length == 4 && (long)input[3] * multiplier != filter[3])
        {
            throw Fail($"field builtin_options.depth_multiplier = {multiplier} does not turn input 0's {(input.Length == 4 ? input[3] : -1)} channels into the filter's {(filter.Length == 4 ? filter[3] : -1)}");
        }
    }

    /// <summary>The subgraphs a control-flow operator runs (IF: then/else, WHILE: cond/body, CALL_ONCE: init).</summary>
    private int[] SubgraphReferences(Op code, FbTable op)
    {
        var (expected, fields) = code switch
        {
            Op.kTfLiteBuiltinIf => (IfOptionsType, 2),
            Op.kTfLiteBuiltinWhile => (WhileOptionsType, 2),
            Op.kTfLiteBuiltinCallOnce => (CallOnceOptionsType, 1),
            _ => ((byte)0, 0),
        };
        if (fields == 0) return Array.Empty<int>();
        var options = op.GetUnion(OperatorFields.BuiltinOptions);
        var type = op.GetByte(OperatorFields.BuiltinOptionsType);
        // Without its options TFLite runs subgraph 0, the model itself, from inside it: refused rather than recursed into.
        if (options.IsNull || type != expected) throw Fail($"field builtin_options is missing or of type {type}, not the {expected} its subgraph indices need");
        var targets = new int[fields];
        for (var f = 0; f < fields; f++) targets[f] = options.GetInt(f);
        return targets;
    }

    /// <summary>Control flow must form a tree of bounded depth: a cycle would recurse forever, importing or running.</summary>
    private void CheckSubgraphNesting(List<int>[] references)
    {
        var depth = new int[references.Length]; // 0 unvisited, -1 on the current path, else 1 + deepest callee
        int Visit(int s, int level)
        {
            if (depth[s] == -1) throw new ModelLoadException(_path, $"subgraph {s}: control-flow operators refer back to it (a cycle of subgraphs)");
            if (depth[s] > 0) return depth[s];
            if (level > MaxSubgraphNesting) throw new ModelLoadException(_path, $"subgraph {s}: control flow nested deeper than {MaxSubgraphNesting} subgraphs");
            depth[s] = -1;
            var deepest = 0;
            foreach (var target in references[s]) deepest = Math.Max(deepest, Visit(target, level + 1));
            depth[s] = deepest + 1;
            return depth[s];
        }
        for (var s = 0; s < references.Length; s++) Visit(s, 0);
    }

    private void ValidateSignature(int index, FbTable signature)
    {
        _where = $"signature_def {index}";
        var subgraph = signature.GetUInt(SignatureSubgraphIndex);
        if (subgraph >= (uint)_subgraphs.Length) throw Fail($"field subgraph_index = {subgraph}, but the model has {_subgraphs.Length} subgraphs");
        var tensorCount = _subgraphs[(int)subgraph].GetTables(SubGraphFields.Tensors).Length;
        foreach (var (field, label) in new[] { (SignatureInputs, "inputs"), (SignatureOutputs, "outputs") })
        {
            var maps = signature.GetTables(field);
            for (var k = 0; k < maps.Length; k++)
            {
                maps[k].GetString(0);
                var t = maps[k].GetUInt(TensorMapIndex);
                if (t >= (uint)tensorCount) throw Fail($"field {label}[{k}].tensor_index = {t}, but subgraph {subgraph} has {tensorCount} tensors");
            }
        }
    }

    private void ValidateSparsity(FbTable sparsity, int[] shape)
    {
        var rank = shape.Length;
        var traversal = sparsity.GetInts(SparsityFields.TraversalOrder);
        var blockMap = sparsity.GetInts(SparsityFields.BlockMap);
        var levels = sparsity.GetTables(SparsityFields.DimMetadata);
        if (traversal.Length != rank + blockMap.Length)
        {
            throw Fail($"field sparsity.traversal_order has {traversal.Length} entries for rank {rank} and {blockMap.Length} block dims");
        }
        if (levels.Length != traversal.Length) throw Fail($"field sparsity.dim_metadata has {levels.Length} levels for {traversal.Length} traversal dims");
        for (var i = 0; i < traversal.Length; i++)
        {
            var (low, high) = i < rank ? (0, rank) : (rank, traversal.Length);
            if (traversal[i] < low || traversal[i] >= high || Array.IndexOf(traversal, traversal[i]) != i)
            {
                throw Fail($"field sparsity.traversal_order[{i}] = {traversal[i]} is not a permutation of the dense dims followed by the block dims");
            }
        }
        var blockSizes = new long[blockMap.Length];
        for (var b = 0; b < blockMap.Length; b++)
        {
            if (blockMap[b] < 0 || blockMap[b] >= rank || Array.IndexOf(blockMap, blockMap[b]) != b) throw Fail($"field sparsity.block_map[{b}] = {blockMap[b]} is no distinct dimension of rank {rank}");
            blockSizes[b] = levels[rank + b].GetInt(DimensionMetadataFields.DenseSize);
            if (blockSizes[b] <= 0 || shape[blockMap[b]] % blockSizes[b] != 0)
            {
                throw Fail($"field sparsity.dim_metadata[{rank + b}].dense_size = {blockSizes[b]} does not divide dimension {blockMap[b]} of size {shape[blockMap[b]]}");
            }
        }
        for (var i = 0; i < levels.Length; i++)
        {
            var dim = traversal[i];
            long expected = dim < rank ? shape[dim] / BlockSizeOf(dim, blockMap, blockSizes) : blockSizes[dim - rank];
            ValidateSparseLevel(i, levels[i], expected);
        }
    }

    private static long BlockSizeOf(int dim, int[] blockMap, long[] blockSizes)
    {
        var b = Array.IndexOf(blockMap, dim);
        return b < 0 ? 1 : blockSizes[b];
    }

    private void ValidateSparseLevel(int level, FbTable metadata, long expectedSize)
    {
        var format = metadata.GetByte(DimensionMetadataFields.Format);
        if (format == 0)
        {
            var size = metadata.GetInt(DimensionMetadataFields.DenseSize);
            if (size != expectedSize) throw Fail($"field sparsity.dim_metadata[{level}].dense_size = {size}, the shape says {expectedSize}");
            return;
        }
        if (format != 1) throw Fail($"field sparsity.dim_metadata[{level}].format = {format} is neither DENSE (0) nor SPARSE_CSR (1)");
        var segments = SparseIndexVector(metadata, DimensionMetadataFields.ArraySegmentsType, DimensionMetadataFields.ArraySegments, level, "array_segments");
        var indices = SparseIndexVector(metadata, DimensionMetadataFields.ArrayIndicesType, DimensionMetadataFields.ArrayIndices, level, "array_indices");
        for (var k = 0; k < segments.Length; k++)
        {
            if (segments[k] < 0 || segments[k] > indices.Length || k > 0 && segments[k] < segments[k - 1])
            {
                throw Fail($"field sparsity.dim_metadata[{level}].array_segments[{k}] = {segments[k]} is not a non-decreasing offset into its {indices.Length} indices");
            }
        }
        for (var k = 0; k < indices.Length; k++)
        {
            if (indices[k] < 0 || indices[k] >= expectedSize) throw Fail($"field sparsity.dim_metadata[{level}].array_indices[{k}] = {indices[k]} is outside the dimension's size {expectedSize}");
        }
    }

    private int[] SparseIndexVector(FbTable metadata, int typeField, int valueField, int level, string what)
    {
        var kind = metadata.GetByte(typeField);
        if (kind > 3) throw Fail($"field sparsity.dim_metadata[{level}].{what} has vector type {kind}; Int32Vector (1), Uint16Vector (2) and Uint8Vector (3) exist");
        return ImportContext.ReadIndexVector(metadata, typeField, valueField);
    }

    /// <summary>Input <paramref name="k"/> may be -1 when it is one of the operator's optional inputs.</summary>
    private static bool MayBeAbsent(int k, int required, int optional) =>
        k >= Math.Max(required, 1) && (optional == AnyOptional || k < required + optional);

    private const int AnyOptional = -1;

    /// <summary>
    /// How many leading inputs an operator requires (none of them may be -1), how many outputs it writes, and how many
    /// inputs after the required ones are optional (may be -1). Operators not listed here need their first input and
    /// one output, may leave later inputs absent, and are otherwise checked by TFLite's own kernels.
    /// </summary>
    private static (int Inputs, int Outputs, int Optional) Arity(Op code, string? custom) => code switch
    {
        Op.kTfLiteBuiltinCustom => custom == MediaPipeOps.TransposeConvBiasName ? (3, 1, 0) : (0, 0, AnyOptional),
        Op.kTfLiteBuiltinConv2d or Op.kTfLiteBuiltinDepthwiseConv2d or Op.kTfLiteBuiltinFullyConnected or Op.kTfLiteBuiltinPadv2 => (2, 1, 1),
        Op.kTfLiteBuiltinTransposeConv => (3, 1, 1),
        Op.kTfLiteBuiltinAdd or Op.kTfLiteBuiltinSub or Op.kTfLiteBuiltinMul or Op.kTfLiteBuiltinDiv or Op.kTfLiteBuiltinPow
            or Op.kTfLiteBuiltinGreaterEqual or Op.kTfLiteBuiltinGreater or Op.kTfLiteBuiltinLess or Op.kTfLiteBuiltinLessEqual
            or Op.kTfLiteBuiltinEqual or Op.kTfLiteBuiltinNotEqual or Op.kTfLiteBuiltinMaximum or Op.kTfLiteBuiltinMinimum
            or Op.kTfLiteBuiltinSquaredDifference or Op.kTfLiteBuiltinPrelu or Op.kTfLiteBuiltinBatchMatmul
            or Op.kTfLiteBuiltinFloorDiv or Op.kTfLiteBuiltinFloorMod or Op.kTfLiteBuiltinLogicalAnd or Op.kTfLiteBuiltinLogicalOr
            or Op.kTfLiteBuiltinTranspose or Op.kTfLiteBuiltinExpandDims or Op.kTfLiteBuiltinPad or Op.kTfLiteBuiltinPadv2
            or Op.kTfLiteBuiltinMirrorPad or Op.kTfLiteBuiltinMean or Op.kTfLiteBuiltinReduceMax or Op.kTfLiteBuiltinReduceMin
            or Op.kTfLiteBuiltinSum or Op.kTfLiteBuiltinReduceProd or Op.kTfLiteBuiltinResizeBilinear or Op.kTfLiteBuiltinResizeNearestNeighbor
            or Op.kTfLiteBuiltinSplit or Op.kTfLiteBuiltinGather or Op.kTfLiteBuiltinGatherNd or Op.kTfLiteBuiltinTile
            or Op.kTfLiteBuiltinArgMax or Op.kTfLiteBuiltinArgMin or Op.kTfLiteBuiltinFill => (2, 1, 0),
        Op.kTfLiteBuiltinSlice or Op.kTfLiteBuiltinSplitV or Op.kTfLiteBuiltinSelect or Op.kTfLiteBuiltinSelectV2 => (3, 1, 0),
        Op.kTfLiteBuiltinStridedSlice => (4, 1, 0),
        Op.kTfLiteBuiltinAssignVariable => (2, 0, 0),
        Op.kTfLiteBuiltinVarHandle => (0, 1, 0),
        Op.kTfLiteBuiltinCallOnce => (0, 0, 0),
        Op.kTfLiteBuiltinIf or Op.kTfLiteBuiltinConcatenation or Op.kTfLiteBuiltinPack => (1, 1, 0),
        Op.kTfLiteBuiltinReshape or Op.kTfLiteBuiltinSqueeze or Op.kTfLiteBuiltinRelu or Op.kTfLiteBuiltinRelu6
            or Op.kTfLiteBuiltinReluN1To1 or Op.kTfLiteBuiltinLogistic or Op.kTfLiteBuiltinTanh or Op.kTfLiteBuiltinHardSwish
            or Op.kTfLiteBuiltinLog or Op.kTfLiteBuiltinExp or Op.kTfLiteBuiltinSqrt or Op.kTfLiteBuiltinAbs or Op.kTfLiteBuiltinNeg
            or Op.kTfLiteBuiltinFloor or Op.kTfLiteBuiltinRsqrt or Op.kTfLiteBuiltinSquare or Op.kTfLiteBuiltinLeakyRelu
            or Op.kTfLiteBuiltinSoftmax or Op.kTfLiteBuiltinMaxPool2d or Op.kTfLiteBuiltinAveragePool2d
            or Op.kTfLiteBuiltinDepthToSpace or Op.kTfLiteBuiltinDequantize or Op.kTfLiteBuiltinQuantize
            or Op.kTfLiteBuiltinDensify or Op.kTfLiteBuiltinCast or Op.kTfLiteBuiltinReadVariable => (1, 1, 0),
        _ => (1, 1, AnyOptional),
    };
}
