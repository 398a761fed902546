using AccelSdk.Ir;
using Google.Protobuf;
using Onnx;
using IrValueType = AccelSdk.Ir.ValueType;

namespace AccelSdk.Onnx;

/// <summary>Reads <c>.onnx</c> files (external data included) into the AccelSdk IR.</summary>
public static class OnnxImporter
{
    /// <summary>Loads an ONNX model file. Any problem becomes a <see cref="ModelLoadException"/> naming the file and the part at fault.</summary>
    public static Model Load(string path)
    {
        var bytes = ModelFormats.ReadAllBytes(path);
        var model = Parse(bytes, path, Path.GetDirectoryName(Path.GetFullPath(path)));
        model.SourcePath = Path.GetFullPath(path);
        return model;
    }

    /// <summary>Parses serialized ONNX model bytes; <paramref name="baseDirectory"/> resolves external data.</summary>
    public static Model Parse(ReadOnlySpan<byte> bytes, string label = "<bytes>", string? baseDirectory = null)
    {
        if (bytes.Length == 0) throw new ModelLoadException(label, "file is empty");
        ModelProto proto;
        try
        {
            proto = ModelProto.Parser.ParseFrom(bytes);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new ModelLoadException(label, "not a valid ONNX model (truncated or corrupt protobuf): " + e.Message, e);
        }
        if (proto.Graph is null) throw new ModelLoadException(label, "not an ONNX model: it has no graph");
        try
        {
            return FromProto(proto, baseDirectory);
        }
        catch (ImportException e)
        {
            throw new ModelLoadException(label, e.Message, e.InnerException);
        }
        catch (AccelSdkException e) when (e is not ModelLoadException)
        {
            // The IR's own checks (names, tensor sizes) know the graph, not the file.
            throw new ModelLoadException(label, e.Message, e);
        }
        catch (Exception e) when (e is InvalidDataException or ArgumentException or OverflowException or FormatException or InvalidOperationException)
        {
            throw new ModelLoadException(label, e.Message, e);
        }
    }

    internal static Model FromProto(ModelProto proto, string? baseDirectory)
    {
        var model = new Model(ReadGraph(proto.Graph, baseDirectory, "graph"))
        {
            IrVersion = proto.IrVersion,
            ProducerName = proto.ProducerName,
            ProducerVersion = proto.ProducerVersion,
            Domain = proto.Domain,
            ModelVersion = proto.ModelVersion,
            DocString = proto.HasDocString ? proto.DocString : null,
        };
        foreach (var opset in proto.OpsetImport) model.OpsetImports[opset.Domain] = opset.Version;
        foreach (var kv in proto.MetadataProps) model.MetadataProps.Add(new KeyValuePair<string, string>(kv.Key, kv.Value));
        foreach (var f in proto.Functions) model.Functions.Add(ReadFunction(f, baseDirectory));
        return model;
    }

    private static FunctionDef ReadFunction(FunctionProto proto, string? baseDirectory)
    {
        var f = new FunctionDef { Name = proto.Name, Domain = proto.Domain, DocString = proto.HasDocString ? proto.DocString : null };
        f.Inputs.AddRange(proto.Input);
        f.Outputs.AddRange(proto.Output);
        f.AttributeNames.AddRange(proto.Attribute);
        foreach (var opset in proto.OpsetImport) f.OpsetImports[opset.Domain] = opset.Version;
        foreach (var n in proto.Node) f.Nodes.Add(ReadNode(n, baseDirectory, $"function '{proto.Name}'"));
        return f;
    }

    private static Graph ReadGraph(GraphProto proto, string? baseDirectory, string where)
    {
        var graph = new Graph { Name = proto.Name, DocString = proto.HasDocString ? proto.DocString : null };
        for (var i = 0; i < proto.Initializer.Count; i++)
        {
            var t = proto.Initializer[i];
            if (!t.HasName || t.Name.Length == 0) throw new ImportException($"{where}: initializer #{i} has no name");
            graph.Initializers.Add(ReadTensor(t, baseDirectory, $"{where}: initializer '{t.Name}'"));
        }
        foreach (var s in proto.SparseInitializer) graph.SparseInitializers.Add(ReadSparse(s, baseDirectory, $"{where}: sparse initializer"));
        foreach (var v in proto.Input) graph.Inputs.Add(ReadValueInfo(v, $"{where}: input '{v.Name}'"));
        foreach (var v in proto.Output) graph.Outputs.Add(ReadValueInfo(v, $"{where}: output '{v.Name}'"));
        foreach (var v in proto.ValueInfo) graph.ValueInfos.Add(ReadValueInfo(v, $"{where}: value_info '{v.Name}'"));
        foreach (var a in proto.QuantizationAnnotation)
        {
            graph.QuantizationAnnotations.Add(new QuantizationAnnotation(a.TensorName, a.QuantParameterTensorNames.Select(kv => new KeyValuePair<string, string>(kv.Key, kv.Value)).ToArray()));
        }
        foreach (var n in proto.Node) graph.Nodes.Add(ReadNode(n, baseDirectory, where));
        graph.CheckNames(where);
        return graph;
    }

    private static Node ReadNode(NodeProto proto, string? baseDirectory, string where)
    {
        var node = new Node(proto.OpType, proto.Input, proto.Output, proto.Name, proto.Domain)
        {
            DocString = proto.HasDocString ? proto.DocString : null,
        };
        var label = $"{where}: {node.Describe()}";
        foreach (var a in proto.Attribute) node.Attributes.Add(ReadAttribute(a, baseDirectory, label));
        return node;
    }

    private static NodeAttribute ReadAttribute(AttributeProto a, string? baseDirectory, string where)
    {
        var kind = a.HasType ? (AttributeKind)(int)a.Type : GuessKind(a);
        var label = $"{where}, attribute '{a.Name}'";
        object? value = kind switch
        {
            AttributeKind.Float => a.F,
            AttributeKind.Int => a.I,
            AttributeKind.String => a.S.ToStringUtf8(),
            AttributeKind.Tensor => a.T is null ? null : ReadTensor(a.T, baseDirectory, label),
            AttributeKind.Graph => a.G is null ? null : ReadGraph(a.G, baseDirectory, $"{label} subgraph"),
            AttributeKind.SparseTensor => a.SparseTensor is null ? null : ReadSparse(a.SparseTensor, baseDirectory, label),
            AttributeKind.TypeProto => a.Tp is null ? null : ReadType(a.Tp, label),
            AttributeKind.Floats => a.Floats.ToArray(),
            AttributeKind.Ints => a.Ints.ToArray(),
            AttributeKind.Strings => a.Strings.Select(s => s.ToStringUtf8()).ToArray(),
            AttributeKind.Tensors => a.Tensors.Select(t => ReadTensor(t, baseDirectory, label)).ToArray(),
            AttributeKind.Graphs => a.Graphs.Select(g => ReadGraph(g, baseDirectory, $"{label} subgraph")).ToArray(),
            AttributeKind.SparseTensors => a.SparseTensors.Select(s => ReadSparse(s, baseDirectory, label)).ToArray(),
            AttributeKind.TypeProtos => a.TypeProtos.Select(t => ReadType(t, label)!).ToArray(),
            _ => a.HasRefAttrName ? null : throw new ImportException($"{label} has unknown type {(int)a.Type}"),
        };
        if (value is null && !a.HasRefAttrName && kind is AttributeKind.Tensor or AttributeKind.Graph or AttributeKind.SparseTensor or AttributeKind.TypeProto)
        {
            throw new ImportException($"{label} of type {kind} has no value");
        }
        return new NodeAttribute(a.Name, kind, value)
        {
            RefAttributeName = a.HasRefAttrName ? a.RefAttrName : null,
            DocString = a.HasDocString ? a.DocString : null,
        };
    }

    private static AttributeKind GuessKind(AttributeProto a)
    {
        if (a.HasF) return AttributeKind.Float;
        if (a.HasI) return AttributeKind.Int;
        if (a.HasS) return AttributeKind.String;
        if (a.T is not null) return AttributeKind.Tensor;
        if (a.G is not null) return AttributeKind.Graph;
        if (a.Floats.Count > 0) return AttributeKind.Floats;
        if (a.Ints.Count > 0) return AttributeKind.Ints;
        if (a.Strings.Count > 0) return AttributeKind.Strings;
        if (a.Tensors.Count > 0) return AttributeKind.Tensors;
        if (a.Graphs.Count > 0) return AttributeKind.Graphs;
        return AttributeKind.Undefined;
    }

    private static AccelTensor ReadTensor(TensorProto proto, string? baseDirectory, string where)
    {
        try
        {
            return OnnxTensors.FromProto(proto, baseDirectory);
        }
        catch (Exception e) when (e is InvalidDataException or InvalidTensorException or ArgumentException or OverflowException or FormatException or IOException)
        {
            throw new ImportException($"{where}: {e.Message}", e);
        }
    }

    private static SparseTensor ReadSparse(SparseTensorProto proto, string? baseDirectory, string where)
    {
        if (proto.Values is null || proto.Indices is null) throw new ImportException($"{where}: sparse tensor lacks values or indices");
        return new SparseTensor(ReadTensor(proto.Values, baseDirectory, where), ReadTensor(proto.Indices, baseDirectory, where), proto.Dims.ToArray());
    }

    private static ValueInfo ReadValueInfo(ValueInfoProto proto, string where) =>
        new(proto.Name, proto.Type is null ? null : ReadType(proto.Type, where)) { DocString = proto.HasDocString ? proto.DocString : null };

    internal static IrValueType? ReadType(TypeProto proto, string where)
    {
        IrValueType? type = proto.ValueCase switch
        {
            TypeProto.ValueOneofCase.TensorType => new TensorType(ReadElementType(proto.TensorType.ElemType, where, "elem_type"), ReadShape(proto.TensorType.Shape)),
            TypeProto.ValueOneofCase.SparseTensorType => new SparseTensorType(ReadElementType(proto.SparseTensorType.ElemType, where, "elem_type"), ReadShape(proto.SparseTensorType.Shape)),
            TypeProto.ValueOneofCase.SequenceType => new SequenceType(proto.SequenceType.ElemType is null ? null : ReadType(proto.SequenceType.ElemType, where)),
            TypeProto.ValueOneofCase.MapType => new MapType(ReadElementType(proto.MapType.KeyType, where, "key_type"), proto.MapType.ValueType is null ? null : ReadType(proto.MapType.ValueType, where)),
            TypeProto.ValueOneofCase.OptionalType => new OptionalType(proto.OptionalType.ElemType is null ? null : ReadType(proto.OptionalType.ElemType, where)),
            _ => null,
        };
        return type is not null && proto.HasDenotation ? type with { Denotation = proto.Denotation } : type;
    }

    /// <summary>An element type of a declaration; 0 (not set) is kept as <see cref="ElementType.Undefined"/>.</summary>
    private static ElementType ReadElementType(int value, string where, string field)
    {
        var type = (ElementType)value;
        return Enum.IsDefined(type) ? type : throw new ImportException($"{where}: {field} {value} is not an ONNX element type");
    }

    /// <summary>
    /// A declared shape. A negative dim_value (some exporters write -1 for "any size") has no size to check against,
    /// so it reads as an unknown dimension.
    /// </summary>
    private static TensorShape? ReadShape(TensorShapeProto? proto)
    {
        if (proto is null) return null;
        return new TensorShape(proto.Dim.Select(d =>
        {
            var dim = d.ValueCase switch
            {
                TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue when d.DimValue >= 0 => Dimension.Known(d.DimValue),
                TensorShapeProto.Types.Dimension.ValueOneofCase.DimParam => Dimension.Symbolic(d.DimParam),
                _ => Dimension.Unknown,
            };
            return d.HasDenotation ? dim with { Denotation = d.Denotation } : dim;
        }));
    }

    private sealed class ImportException(string message, Exception? inner = null) : Exception(message, inner);
}
