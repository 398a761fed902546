using AccelSdk.Execution;
using AccelSdk.Ir;
using Google.Protobuf;
using Onnx;

namespace AccelSdk.Onnx.Tests;

/// <summary>
/// The ONNX importer signatures of issue 15, each built from protobuf: every malformed structure is a
/// <see cref="ModelLoadException"/> naming the file, the list or node and the field, never an untyped exception.
/// </summary>
public class HostileModelTests
{
    private const string File = "mutant.onnx";

    /// <summary>y = x + w, with x float[N,4] and w an initializer.</summary>
    private static ModelProto AddModel()
    {
        var graph = new GraphProto { Name = "add" };
        graph.Input.Add(Value("x", 1, "N", 4));
        graph.Output.Add(Value("y", 1, "N", 4));
        var w = new TensorProto { Name = "w", DataType = 1, RawData = ByteString.CopyFrom(new byte[16]) };
        w.Dims.Add(4);
        graph.Initializer.Add(w);
        graph.Node.Add(new NodeProto { Name = "add", OpType = "Add", Input = { "x", "w" }, Output = { "y" } });
        var model = new ModelProto { IrVersion = 8, Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 17 });
        return model;
    }

    private static ValueInfoProto Value(string name, int elemType, params object[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (var d in dims)
        {
            shape.Dim.Add(d is string s ? new TensorShapeProto.Types.Dimension { DimParam = s } : new TensorShapeProto.Types.Dimension { DimValue = Convert.ToInt64(d) });
        }
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = elemType, Shape = shape } } };
    }

    private static ModelLoadException LoadFails(ModelProto model)
    {
        var e = Assert.Throws<ModelLoadException>(() => OnnxImporter.Parse(model.ToByteArray(), File));
        Assert.Equal(File, e.Path);
        return e;
    }

    [Fact]
    public void The_base_model_imports()
    {
        var model = OnnxImporter.Parse(AddModel().ToByteArray(), File);
        Assert.Equal("w", Assert.Single(model.Graph.Initializers).Name);
    }

    [Fact]
    public void An_initializer_whose_name_was_removed_is_a_load_error_naming_it()
    {
        var model = AddModel();
        model.Graph.Initializer[0].ClearName();
        Assert.Equal("mutant.onnx: graph: initializer #0 has no name", LoadFails(model).Message);
    }

    [Fact]
    public void An_initializer_whose_name_field_was_retagged_is_a_load_error()
    {
        // Field 8 (name) rewritten as field 15, which TensorProto does not define: the name lands in unknown fields.
        var bytes = AddModel().ToByteArray();
        var tensor = AddModel().Graph.Initializer[0].ToByteArray();
        var retagged = (byte[])tensor.Clone();
        var at = Array.IndexOf(retagged, (byte)((8 << 3) | 2));
        retagged[at] = (15 << 3) | 2;
        var start = bytes.AsSpan().IndexOf(tensor);
        Assert.True(start > 0);
        retagged.CopyTo(bytes, start);
        var e = Assert.Throws<ModelLoadException>(() => OnnxImporter.Parse(bytes, File));
        Assert.Contains("initializer #0 has no name", e.Message);
    }

    [Fact]
    public void A_duplicated_graph_output_is_a_load_error_naming_the_output()
    {
        var model = AddModel();
        model.Graph.Output.Add(model.Graph.Output[0].Clone());
        Assert.Equal("mutant.onnx: graph: graph output 'y' is listed twice (#0 and #1)", LoadFails(model).Message);
    }

    [Fact]
    public void Duplicated_inputs_and_initializers_are_load_errors()
    {
        var model = AddModel();
        model.Graph.Input.Add(model.Graph.Input[0].Clone());
        Assert.Contains("graph input 'x' is listed twice", LoadFails(model).Message);
        model = AddModel();
        model.Graph.Initializer.Add(model.Graph.Initializer[0].Clone());
        Assert.Contains("initializer 'w' is listed twice", LoadFails(model).Message);
    }

    [Theory]
    [InlineData(99)]
    [InlineData(17)]
    [InlineData(-1)]
    public void A_declared_element_type_outside_onnx_is_a_load_error_naming_value_and_field(int elemType)
    {
        var model = AddModel();
        model.Graph.Input[0].Type.TensorType.ElemType = elemType;
        Assert.Equal($"mutant.onnx: graph: input 'x': elem_type {elemType} is not an ONNX element type", LoadFails(model).Message);
    }

    [Fact]
    public void An_undefined_declared_element_type_reaches_no_allocation()
    {
        var model = AddModel();
        model.Graph.Input[0].Type.TensorType.ElemType = 0;
        var imported = OnnxImporter.Parse(model.ToByteArray(), File);
        var e = Assert.Throws<InputMismatchException>(() => SampleInputs.Random(imported));
        Assert.Equal("x", e.TensorName);
        Assert.Contains("undefined has no dense storage", e.Message);
    }

    [Fact]
    public void Huge_declared_dims_fail_typed_before_allocating_sample_inputs()
    {
        var model = AddModel();
        model.Graph.Input[0] = Value("x", 1, 1L << 20, 1L << 20);
        var imported = OnnxImporter.Parse(model.ToByteArray(), File);
        var e = Assert.Throws<ResourceLimitException>(() => SampleInputs.Random(imported));
        Assert.Equal("x", e.TensorName);
        Assert.Equal(4L << 40, e.RequestedBytes);
        model.Graph.Input[0] = Value("x", 1, 1L << 62, 1L << 62);
        imported = OnnxImporter.Parse(model.ToByteArray(), File);
        Assert.Contains("[4611686018427387904,4611686018427387904] has more than", Assert.Throws<InputMismatchException>(() => SampleInputs.Random(imported)).Message);
    }

    [Fact]
    public void A_negative_declared_dim_reads_as_unknown()
    {
        var model = AddModel();
        model.Graph.Input[0] = Value("x", 1, -1, 4);
        var imported = OnnxImporter.Parse(model.ToByteArray(), File);
        Assert.Equal("float32[?,4]", imported.Graph.Inputs[0].Type!.ToString());
        Assert.Equal(new long[] { 1, 4 }, SampleInputs.Random(imported)["x"].ShapeArray);
    }

    [Fact]
    public void Huge_initializer_dims_are_a_load_error_naming_the_initializer()
    {
        var model = AddModel();
        model.Graph.Initializer[0].Dims[0] = 1L << 40;
        model.Graph.Initializer[0].Dims.Add(1L << 40);
        Assert.Contains("initializer 'w'", LoadFails(model).Message);
        model.Graph.Initializer[0].Dims.Clear();
        model.Graph.Initializer[0].Dims.Add(1L << 30);
        Assert.Contains("exceeds the 2,147,483,528-byte dense tensor limit", LoadFails(model).Message);
    }

    [Fact]
    public void A_nameless_initializer_inside_a_subgraph_is_a_load_error_naming_the_attribute()
    {
        var model = AddModel();
        var body = new GraphProto { Name = "then" };
        body.Output.Add(Value("t", 1, 4));
        body.Initializer.Add(new TensorProto { DataType = 1, Dims = { 4 }, RawData = ByteString.CopyFrom(new byte[16]) });
        model.Graph.Node.Add(new NodeProto
        {
            Name = "if", OpType = "If", Input = { "c" }, Output = { "z" },
            Attribute = { new AttributeProto { Name = "then_branch", Type = AttributeProto.Types.AttributeType.Graph, G = body } },
        });
        Assert.Contains("attribute 'then_branch' subgraph: initializer #0 has no name", LoadFails(model).Message);
    }
}
