using AccelSdk.Ir;
using Google.Protobuf;
using Onnx;
using IrValueType = AccelSdk.Ir.ValueType;

namespace AccelSdk.Onnx;

/// <summary>Writes any IR model, whole or an extracted partition, as a valid ONNX model.</summary>
public static class OnnxExporter
{
    /// <summary>Serializes the model to ONNX bytes.</summary>
    public static byte[] ToBytes(Model model)
    {
        var proto = ToProto(model);
        var size = proto.CalculateSize();
        if (size < 0) throw new AccelSdkException($"{model.Label}: the model exceeds protobuf's 2 GiB limit; external-data export is not supported yet");
        return proto.ToByteArray();
    }

    /// <summary>Writes the model to <paramref name="path"/>.</summary>
    public static void Save(Model model, string path) => File.WriteAllBytes(path, ToBytes(model));

    internal static ModelProto ToProto(Model model)
    {
        var proto = new ModelProto
        {
            IrVersion = model.IrVersion,
            ProducerName = model.ProducerName,
            ProducerVersion = model.ProducerVersion,
            Domain = model.Domain,
            ModelVersion = model.ModelVersion,
            Graph = WriteGraph(model.Graph),
        };
        if (model.DocString is not null) proto.DocString = model.DocString;
        foreach (var kv in model.OpsetImports) proto.OpsetImport.Add(new OperatorSetIdProto { Domain = kv.Key, Version = kv.Value });
        foreach (var kv in model.MetadataProps) proto.MetadataProps.Add(new StringStringEntryProto { Key = kv.Key, Value = kv.Value });
        foreach (var f in model.Functions) proto.Functions.Add(WriteFunction(f));
        return proto;
    }

    private static FunctionProto WriteFunction(FunctionDef f)
    {
        var proto = new FunctionProto { Name = f.Name, Domain = f.Domain };
        if (f.DocString is not null) proto.DocString = f.DocString;
        proto.Input.AddRange(f.Inputs);
        proto.Output.AddRange(f.Outputs);
        proto.Attribute.AddRange(f.AttributeNames);
        foreach (var kv in f.OpsetImports) proto.OpsetImport.Add(new OperatorSetIdProto { Domain = kv.Key, Version = kv.Value });
        foreach (var n in f.Nodes) proto.Node.Add(WriteNode(n));
        return proto;
    }

    private static GraphProto WriteGraph(Graph graph)
    {
        var proto = new GraphProto { Name = graph.Name };
        if (graph.DocString is not null) proto.DocString = graph.DocString;
        foreach (var n in graph.Nodes) proto.Node.Add(WriteNode(n));
        foreach (var t in graph.Initializers) proto.Initializer.Add(OnnxTensors.ToProto(t));
        foreach (var s in graph.SparseInitializers) proto.SparseInitializer.Add(WriteSparse(s));
        foreach (var v in graph.Inputs) proto.Input.Add(WriteValueInfo(v));
        foreach (var v in graph.Outputs) proto.Output.Add(WriteValueInfo(v));
        foreach (var v in graph.ValueInfos) proto.ValueInfo.Add(WriteValueInfo(v));
        foreach (var (name, parameters) in graph.QuantizationAnnotations)
        {
            var annotation = new TensorAnnotation { TensorName = name };
            foreach (var kv in parameters) annotation.QuantParameterTensorNames.Add(new StringStringEntryProto { Key = kv.Key, Value = kv.Value });
            proto.QuantizationAnnotation.Add(annotation);
        }
        return proto;
    }

    private static NodeProto WriteNode(Node node)
    {
        var proto = new NodeProto { OpType = node.OpType, Name = node.Name, Domain = node.Domain };
        if (node.DocString is not null) proto.DocString = node.DocString;
        proto.Input.AddRange(node.Inputs);
        proto.Output.AddRange(node.Outputs);
        foreach (var a in node.Attributes) proto.Attribute.Add(WriteAttribute(a));
        return proto;
    }

    private static AttributeProto WriteAttribute(NodeAttribute a)
    {
        var proto = new AttributeProto { Name = a.Name, Type = (AttributeProto.Types.AttributeType)(int)a.Kind };
        if (a.DocString is not null) proto.DocString = a.DocString;
        if (a.RefAttributeName is not null) proto.RefAttrName = a.RefAttributeName;
        if (a.Value is null) return proto;
        switch (a.Kind)
        {
            case AttributeKind.Float: proto.F = (float)a.Value; break;
            case AttributeKind.Int: proto.I = (long)a.Value; break;
            case AttributeKind.String: proto.S = ByteString.CopyFromUtf8((string)a.Value); break;
            case AttributeKind.Tensor: proto.T = OnnxTensors.ToProto((AccelTensor)a.Value); break;
            case AttributeKind.Graph: proto.G = WriteGraph((Graph)a.Value); break;
            case AttributeKind.SparseTensor: proto.SparseTensor = WriteSparse((SparseTensor)a.Value); break;
            case AttributeKind.TypeProto: proto.Tp = WriteType((IrValueType)a.Value); break;
            case AttributeKind.Floats: proto.Floats.AddRange((IEnumerable<float>)a.Value); break;
            case AttributeKind.Ints: proto.Ints.AddRange((IEnumerable<long>)a.Value); break;
            case AttributeKind.Strings: proto.Strings.AddRange(((IEnumerable<string>)a.Value).Select(ByteString.CopyFromUtf8)); break;
            case AttributeKind.Tensors: proto.Tensors.AddRange(((IEnumerable<AccelTensor>)a.Value).Select(OnnxTensors.ToProto)); break;
            case AttributeKind.Graphs: proto.Graphs.AddRange(((IEnumerable<Graph>)a.Value).Select(WriteGraph)); break;
            case AttributeKind.SparseTensors: proto.SparseTensors.AddRange(((IEnumerable<SparseTensor>)a.Value).Select(WriteSparse)); break;
            case AttributeKind.TypeProtos: proto.TypeProtos.AddRange(((IEnumerable<IrValueType>)a.Value).Select(WriteType)); break;
        }
        return proto;
    }

    private static SparseTensorProto WriteSparse(SparseTensor s)
    {
        var proto = new SparseTensorProto { Values = OnnxTensors.ToProto(s.Values), Indices = OnnxTensors.ToProto(s.Indices) };
        proto.Dims.AddRange(s.Dims);
        return proto;
    }

    private static ValueInfoProto WriteValueInfo(ValueInfo v)
    {
        var proto = new ValueInfoProto { Name = v.Name };
        if (v.DocString is not null) proto.DocString = v.DocString;
        if (v.Type is not null) proto.Type = WriteType(v.Type);
        return proto;
    }

    internal static TypeProto WriteType(IrValueType type)
    {
        var proto = new TypeProto();
        if (type.Denotation is not null) proto.Denotation = type.Denotation;
        switch (type)
        {
            case TensorType t:
                proto.TensorType = new TypeProto.Types.Tensor { ElemType = (int)t.ElementType };
                if (t.Shape is not null) proto.TensorType.Shape = WriteShape(t.Shape);
                break;
            case SparseTensorType s:
                proto.SparseTensorType = new TypeProto.Types.SparseTensor { ElemType = (int)s.ElementType };
                if (s.Shape is not null) proto.SparseTensorType.Shape = WriteShape(s.Shape);
                break;
            case SequenceType q:
                proto.SequenceType = new TypeProto.Types.Sequence();
                if (q.ElementType is not null) proto.SequenceType.ElemType = WriteType(q.ElementType);
                break;
            case MapType m:
                proto.MapType = new TypeProto.Types.Map { KeyType = (int)m.KeyType };
                if (m.ValueType is not null) proto.MapType.ValueType = WriteType(m.ValueType);
                break;
            case OptionalType o:
                proto.OptionalType = new TypeProto.Types.Optional();
                if (o.ElementType is not null) proto.OptionalType.ElemType = WriteType(o.ElementType);
                break;
        }
        return proto;
    }

    private static TensorShapeProto WriteShape(TensorShape shape)
    {
        var proto = new TensorShapeProto();
        foreach (var d in shape.Dims)
        {
            var dim = new TensorShapeProto.Types.Dimension();
            if (d.Value is { } v) dim.DimValue = v;
            else if (d.Symbol is not null) dim.DimParam = d.Symbol;
            if (d.Denotation is not null) dim.Denotation = d.Denotation;
            proto.Dim.Add(dim);
        }
        return proto;
    }
}
