using AccelSdk.Ir;
using AccelSdk.TfLite.Native;

namespace AccelSdk.TfLite.Import;

/// <summary>The state of one import: the flatbuffer, the graph being built and the names given to TFLite tensors.</summary>
internal sealed partial class ImportContext
{
    private readonly byte[] _bytes;
    private readonly string _path;
    private readonly Graph _graph = new();
    private readonly HashSet<string> _usedNames;
    private readonly Dictionary<int, AccelTensor> _folded = new();
    private readonly Dictionary<int, string> _floatValues = new();
    private readonly Dictionary<int, string> _rawConstants = new();
    private FbTable _root;
    private FbTable[] _buffers = Array.Empty<FbTable>();
    private FbTable[] _tensors = Array.Empty<FbTable>();
    private string[] _names = Array.Empty<string>();
    private bool _dynamic;
    private bool _usesCustomDomain;
    private string _opLabel = "";
    private string _opWhere = "";
    private int _subgraphIndex;

    public ImportContext(byte[] bytes, string path)
    {
        _bytes = bytes;
        _path = path;
        _usedNames = new HashSet<string>(StringComparer.Ordinal);
    }

    /// <summary>A context for another subgraph of the same model (a control-flow branch): names stay unique model-wide.</summary>
    private ImportContext(ImportContext parent)
    {
        _bytes = parent._bytes;
        _path = parent._path;
        _usedNames = parent._usedNames;
        _root = parent._root;
        _buffers = parent._buffers;
    }

    public Model Run()
    {
        _root = FbTable.Root(_bytes);
        var version = _root.GetUInt(ModelFields.Version);
        if (version != 3) throw new ModelLoadException(_path, $"TFLite schema version {version} is not supported (3 is)");
        var subgraphs = _root.GetTables(ModelFields.Subgraphs);
        if (subgraphs.Length == 0) throw new ModelLoadException(_path, "the model has no subgraph");
        _buffers = _root.GetTables(ModelFields.Buffers);
        var main = subgraphs[0];
        _tensors = main.GetTables(SubGraphFields.Tensors);
        _graph.Name = main.GetString(SubGraphFields.Name) ?? Path.GetFileNameWithoutExtension(_path);
        _names = new string[_tensors.Length];
        for (var i = 0; i < _tensors.Length; i++)
        {
            var name = _tensors[i].GetString(TensorFields.Name);
            _names[i] = Unique(string.IsNullOrEmpty(name) ? $"tensor_{i}" : name);
            if (_tensors[i].GetInts(TensorFields.ShapeSignature).Any(d => d < 0)) _dynamic = true;
        }
        foreach (var input in main.GetInts(SubGraphFields.Inputs))
        {
            CheckTensorIndex(input, "subgraph input");
            _graph.Inputs.Add(new ValueInfo(_names[input], DeclaredType(input)));
        }
        ConvertOperators(main);
        foreach (var output in main.GetInts(SubGraphFields.Outputs))
        {
            CheckTensorIndex(output, "subgraph output");
            _graph.Outputs.Add(new ValueInfo(_names[output], DeclaredType(output)));
        }
        FinishVariables();
        if (!_dynamic)
        {
            var io = new HashSet<string>(_graph.Inputs.Concat(_graph.Outputs).Select(v => v.Name), StringComparer.Ordinal);
            var produced = _graph.Nodes.SelectMany(n => n.Outputs).ToHashSet(StringComparer.Ordinal);
            for (var t = 0; t < _tensors.Length; t++)
            {
                if (!io.Contains(_names[t]) && produced.Contains(_names[t])) _graph.ValueInfos.Add(new ValueInfo(_names[t], DeclaredType(t)));
            }
        }
        var model = new Model(_graph)
        {
            IrVersion = 8,
            ProducerName = "AccelSdk.TfLite",
            ProducerVersion = typeof(ImportContext).Assembly.GetName().Version?.ToString() ?? "",
            SourcePath = _path,
            DocString = _root.GetString(ModelFields.Description),
        };
        model.OpsetImports[""] = TfLiteImporter.Opset;
        if (_usesCustomDomain) model.OpsetImports[TfLiteImporter.CustomDomain] = 1;
        model.MetadataProps.Add(new(TfLiteImporter.SourceMetadataKey, Path.GetFullPath(_path)));
        if (_stateMetadata is not null) model.MetadataProps.Add(new(TfLiteImporter.StateMetadataKey, _stateMetadata));
        model.MetadataProps.Add(new(TfLiteImporter.NodeCountMetadataKey, _graph.Nodes.Count.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        return model;
    }

    private void ConvertOperators(FbTable subgraph)
    {
        var codes = _root.GetTables(ModelFields.OperatorCodes);
        var operators = subgraph.GetTables(SubGraphFields.Operators);
        for (var i = 0; i < operators.Length; i++)
        {
            var op = operators[i];
            var codeIndex = (int)op.GetUInt(OperatorFields.OpcodeIndex);
            if ((uint)codeIndex >= (uint)codes.Length)
            {
                throw new ModelLoadException(_path, $"operator {i} uses opcode index {codeIndex} but the model has {codes.Length} operator codes");
            }
            var code = codes[codeIndex];
            ConvertOperator(i, op, TfLiteValidator.BuiltinCodeOf(code), code.GetString(OperatorCodeFields.CustomCode));
        }
    }

    /// <summary>
    /// Imports subgraph <paramref name="index"/> as an ONNX control-flow branch: its inputs are bound to this graph's
    /// tensors <paramref name="outerInputs"/> (constants are copied in, so weights stay constant inside the branch;
    /// other values are read from the outer scope through Identity), its outputs become the branch's outputs.
    /// </summary>
    private Graph ImportBranch(int index, IReadOnlyList<int> outerInputs)
    {
        var subgraphs = _root.GetTables(ModelFields.Subgraphs);
        if (index <= 0 || index >= subgraphs.Length) throw new ModelLoadException(_path, $"{_opLabel} refers to subgraph {index}, but the model has {subgraphs.Length}");
        var subgraph = subgraphs[index];
        var branch = new ImportContext(this) { _subgraphIndex = index };
        branch._tensors = subgraph.GetTables(SubGraphFields.Tensors);
        branch._names = new string[branch._tensors.Length];
        for (var i = 0; i < branch._tensors.Length; i++)
        {
            var name = branch._tensors[i].GetString(TensorFields.Name);
            branch._names[i] = Unique(string.IsNullOrEmpty(name) ? $"subgraph{index}_tensor_{i}" : name);
        }
        branch._graph.Name = subgraph.GetString(SubGraphFields.Name) ?? $"subgraph_{index}";
        var inputs = subgraph.GetInts(SubGraphFields.Inputs);
        if (inputs.Length != outerInputs.Count)
        {
            throw new ModelLoadException(_path, $"{_opLabel}: subgraph {index} takes {inputs.Length} inputs, the op passes {outerInputs.Count}");
        }
        for (var k = 0; k < inputs.Length; k++)
        {
            branch.CheckTensorIndex(inputs[k], $"subgraph {index} input");
            if (outerInputs[k] < 0) throw new ModelLoadException(_path, $"{_opLabel}: input {k + 1} of the op is missing, subgraph {index} needs it");
            if (IsConstant(outerInputs[k])) branch._folded[inputs[k]] = ConstantOf(outerInputs[k]).WithName(branch._names[inputs[k]]);
            else branch._graph.Nodes.Add(new Node("Identity", new[] { Raw(outerInputs[k]) }, new[] { branch._names[inputs[k]] }, Unique($"{_opLabel}/subgraph{index}_input_{k}")));
        }
        branch.ConvertOperators(subgraph);
        foreach (var output in subgraph.GetInts(SubGraphFields.Outputs))
        {
            branch.CheckTensorIndex(output, $"subgraph {index} output");
            var value = branch.Raw(output);
            var name = Unique(branch._names[output] + "_branch_out");
            branch._graph.Nodes.Add(new Node("Identity", new[] { value }, new[] { name }, Unique($"{_opLabel}/subgraph{index}_output")));
            branch._graph.Outputs.Add(new ValueInfo(name, branch.DeclaredType(output)));
        }
        if (branch._usesCustomDomain) _usesCustomDomain = true;
        return branch._graph;
    }

    private string Unique(string name)
    {
        if (_usedNames.Add(name)) return name;
        for (var i = 1; ; i++)
        {
            var candidate = $"{name}_{i}";
            if (_usedNames.Add(candidate)) return candidate;
        }
    }

    private void CheckTensorIndex(int t, string role)
    {
        if ((uint)t >= (uint)_tensors.Length) throw new ModelLoadException(_path, $"{role} refers to tensor {t}, but the subgraph has {_tensors.Length}");
    }

    // ---- tensor facts ----

    private ElementType TypeOf(int t) => ToElementType((SchemaTensorType)_tensors[t].GetByte(TensorFields.Type), t);

    private ElementType ToElementType(SchemaTensorType type, int t) => type switch
    {
        SchemaTensorType.Float32 => ElementType.Float32,
        SchemaTensorType.Float16 => ElementType.Float16,
        SchemaTensorType.Int32 => ElementType.Int32,
        SchemaTensorType.UInt8 => ElementType.UInt8,
        SchemaTensorType.Int64 => ElementType.Int64,
        SchemaTensorType.String => ElementType.String,
        SchemaTensorType.Bool => ElementType.Bool,
        SchemaTensorType.Int16 => ElementType.Int16,
        SchemaTensorType.Int8 => ElementType.Int8,
        SchemaTensorType.Float64 => ElementType.Float64,
        SchemaTensorType.UInt64 => ElementType.UInt64,
        SchemaTensorType.UInt32 => ElementType.UInt32,
        SchemaTensorType.UInt16 => ElementType.UInt16,
        SchemaTensorType.Complex64 => ElementType.Complex64,
        SchemaTensorType.Complex128 => ElementType.Complex128,
        _ => ElementType.Undefined,
    };

    private long[] ShapeOf(int t) => _tensors[t].GetInts(TensorFields.Shape).Select(d => (long)d).ToArray();

    /// <summary>The shape with -1 where the signature says the size is dynamic.</summary>
    private long[] SignatureOf(int t)
    {
        var signature = _tensors[t].GetInts(TensorFields.ShapeSignature);
        return signature.Length > 0 ? signature.Select(d => (long)d).ToArray() : ShapeOf(t);
    }

    private Ir.ValueType DeclaredType(int t)
    {
        var signature = SignatureOf(t);
        var dims = signature.Select((d, i) => d < 0 ? Dimension.Symbolic($"{_names[t]}_d{i}") : Dimension.Known(d));
        return new TensorType(TypeOf(t), new TensorShape(dims));
    }

    private (float[] Scales, long[] ZeroPoints, int Axis) QuantOf(int t)
    {
        var q = _tensors[t].GetTable(TensorFields.Quantization);
        if (q.IsNull) return (Array.Empty<float>(), Array.Empty<long>(), 0);
        return (q.GetFloats(QuantizationFields.Scale), q.GetLongs(QuantizationFields.ZeroPoint), q.GetInt(QuantizationFields.QuantizedDimension));
    }

    private bool IsQuantized(int t) =>
        TypeOf(t) is ElementType.Int8 or ElementType.UInt8 or ElementType.Int16 or ElementType.Int32 && QuantOf(t).Scales.Length > 0;

    private bool IsConstant(int t) => _folded.ContainsKey(t) || BufferBytes(t).Length > 0 || _tensors[t].Has(TensorFields.Sparsity) && BufferIndex(t) > 0;

    private int BufferIndex(int t) => (int)_tensors[t].GetUInt(TensorFields.Buffer);

    private ReadOnlySpan<byte> BufferBytes(int t)
    {
        var index = BufferIndex(t);
        if (index <= 0) return ReadOnlySpan<byte>.Empty;
        if (index >= _buffers.Length) throw new ModelLoadException(_path, $"tensor '{_names[t]}' refers to buffer {index}, but the model has {_buffers.Length}");
        var buffer = _buffers[index];
        var offset = buffer.GetULong(BufferFields.Offset);
        if (offset > 1) return _root.Slice(offset, buffer.GetULong(BufferFields.Size));
        return buffer.GetVectorBytes(BufferFields.Data, 1);
    }

    /// <summary>The constant value of tensor <paramref name="t"/> in its stored type (sparse tensors densified).</summary>
    private AccelTensor ConstantOf(int t)
    {
        if (_folded.TryGetValue(t, out var folded)) return folded;
        var type = TypeOf(t);
        if (type is ElementType.Undefined or ElementType.String)
        {
            throw new InvalidModelException($"{Label}: constant tensor '{_names[t]}' has a type the IR cannot hold", _opLabel);
        }
        var shape = ShapeOf(t);
        var bytes = BufferBytes(t);
        if (_tensors[t].Has(TensorFields.Sparsity)) return Densify(t, type, shape, bytes);
        var expected = AccelTensor.CountElements(shape) * type.SizeInBytes();
        if (bytes.Length != expected)
        {
            throw new ModelLoadException(_path, $"constant tensor '{_names[t]}' ({type.ShortName()}{TensorShape.Format(shape)}) needs {expected} bytes, its buffer holds {bytes.Length}");
        }
        return AccelTensor.FromBytes(type, shape, bytes, _names[t]);
    }

    private string Label => Path.GetFileName(_path);

    /// <summary>A malformed operator: the error names the file, the subgraph, the operator (index and opcode) and the field.</summary>
    private ModelLoadException Malformed(string problem) => new(_path, $"{_opWhere}: {problem}");

    // ---- values for op inputs ----

    /// <summary>The value of tensor <paramref name="t"/> in its own type (constants become initializers once).</summary>
    private string Raw(int t)
    {
        if (!IsConstant(t)) return _names[t];
        if (_rawConstants.TryGetValue(t, out var name)) return name;
        var value = ConstantOf(t);
        name = AddInitializer(value.WithName(_names[t]));
        _rawConstants[t] = name;
        return name;
    }

    /// <summary>
    /// The value of tensor <paramref name="t"/> as float32: quantized activations through DequantizeLinear, quantized,
    /// fp16 and sparse constants dequantized at import.
    /// </summary>
    private string Float(int t)
    {
        if (_floatValues.TryGetValue(t, out var cached)) return cached;
        string result;
        if (IsConstant(t))
        {
            var value = FloatConstant(t);
            result = value.ElementType == TypeOf(t) ? Raw(t) : AddInitializer(value.WithName(Unique(_names[t] + "_f32")));
        }
        else if (IsQuantized(t))
        {
            var (scales, zeroPoints, _) = QuantOf(t);
            var scale = AddInitializer(AccelTensor.Scalar(scales[0]).WithName(Unique(_names[t] + "_scale")));
            var zp = AddInitializer(ZeroPointTensor(TypeOf(t), zeroPoints.Length > 0 ? zeroPoints[0] : 0).WithName(Unique(_names[t] + "_zero_point")));
            result = Unique(_names[t] + "_dequantized");
            AddNode("DequantizeLinear", new[] { _names[t], scale, zp }, new[] { result });
        }
        else if (TypeOf(t) == ElementType.Float16)
        {
            result = Unique(_names[t] + "_f32");
            AddNode("Cast", new[] { _names[t] }, new[] { result }, NodeAttribute.Int("to", (long)ElementType.Float32));
        }
        else result = _names[t];
        _floatValues[t] = result;
        return result;
    }

    private AccelTensor FloatConstant(int t)
    {
        var value = ConstantOf(t);
        if (value.ElementType == ElementType.Float32) return value;
        var count = (int)value.ElementCount;
        var result = new float[count];
        if (IsQuantized(t))
        {
            var (scales, zeroPoints, axis) = QuantOf(t);
            var shape = value.ShapeArray;
            long inner = 1;
            for (var d = axis + 1; d < shape.Length; d++) inner *= shape[d];
            var channels = scales.Length == 1 ? 1 : shape[axis]; // the validator checked axis and count for per-channel scales
            for (var i = 0; i < count; i++)
            {
                var c = scales.Length == 1 ? 0 : (int)(i / inner % channels);
                var zp = zeroPoints.Length == 0 ? 0 : zeroPoints[zeroPoints.Length == 1 ? 0 : c];
                result[i] = (float)((value.GetAsDouble(i) - zp) * scales[c]);
            }
        }
        else
        {
            for (var i = 0; i < count; i++) result[i] = (float)value.GetAsDouble(i);
        }
        return AccelTensor.Create(result, value.ShapeArray);
    }

    private static AccelTensor ZeroPointTensor(ElementType type, long zeroPoint) => type switch
    {
        ElementType.Int8 => AccelTensor.Scalar((sbyte)zeroPoint),
        ElementType.UInt8 => AccelTensor.Scalar((byte)zeroPoint),
        ElementType.Int16 => AccelTensor.Scalar((short)zeroPoint),
        _ => AccelTensor.Scalar((int)zeroPoint),
    };

    /// <summary>Integer values of a constant tensor (shapes, axes, paddings); null when not constant.</summary>
    private long[]? IntsOf(int t) => t >= 0 && IsConstant(t) ? ConstantOf(t).ToInt64Array() : null;

    // ---- outputs ----

    /// <summary>
    /// Where an op should write the float form of output tensor <paramref name="t"/>. For a quantized output this is a
    /// temporary that <see cref="FinishOutput"/> quantizes into the tensor's own value.
    /// </summary>
    private string OutFloat(int t) => IsQuantized(t) ? Unique(_names[t] + "_float") : _names[t];

    private void FinishOutput(int t, string written)
    {
        if (written == _names[t]) return;
        var (scales, zeroPoints, _) = QuantOf(t);
        var scale = AddInitializer(AccelTensor.Scalar(scales[0]).WithName(Unique(_names[t] + "_scale")));
        var zp = AddInitializer(ZeroPointTensor(TypeOf(t), zeroPoints.Length > 0 ? zeroPoints[0] : 0).WithName(Unique(_names[t] + "_zero_point")));
        AddNode("QuantizeLinear", new[] { written, scale, zp }, new[] { _names[t] });
    }

    // ---- graph building ----

    private string AddInitializer(AccelTensor value)
    {
        var name = value.Name ?? Unique("const");
        _usedNames.Add(name);
        _graph.Initializers.Add(value.WithName(name));
        return name;
    }

    private string Const(AccelTensor value, string hint) => AddInitializer(value.WithName(Unique(hint)));

    private string ConstInts(string hint, params long[] values) => Const(AccelTensor.FromArray(values), hint);

    private string Temp(string hint) => Unique(hint);

    private Node AddNode(string op, IEnumerable<string> inputs, IEnumerable<string> outputs, params NodeAttribute[] attributes)
    {
        var node = new Node(op, inputs, outputs, Unique($"{_opLabel}/{op}_{_graph.Nodes.Count}"));
        node.Attributes.AddRange(attributes);
        _graph.Nodes.Add(node);
        return node;
    }
}
