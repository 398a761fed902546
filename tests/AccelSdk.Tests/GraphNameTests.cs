using AccelSdk.Ir;

namespace AccelSdk.Tests;

/// <summary>The name invariants every lookup by name relies on (issue 15: duplicated outputs, nameless initializers).</summary>
public class GraphNameTests
{
    private static Graph Relu()
    {
        var g = new Graph { Name = "relu" };
        g.Inputs.Add(new ValueInfo("x", new TensorType(ElementType.Float32, new TensorShape(4))));
        g.Outputs.Add(new ValueInfo("y", new TensorType(ElementType.Float32, new TensorShape(4))));
        g.Nodes.Add(new Node("Relu", new[] { "x" }, new[] { "y" }, "relu"));
        return g;
    }

    [Fact]
    public void A_well_named_graph_passes()
    {
        var g = Relu();
        g.Initializers.Add(AccelTensor.FromArray(1f).WithName("w"));
        g.CheckNames("m.onnx");
    }

    [Fact]
    public void A_duplicated_graph_output_names_the_output_and_both_positions()
    {
        var g = Relu();
        g.Outputs.Add(g.Outputs[0]);
        var e = Assert.Throws<InvalidModelException>(() => g.CheckNames("m.onnx"));
        Assert.Equal("m.onnx: graph output 'y' is listed twice (#0 and #1)", e.Message);
    }

    [Fact]
    public void A_duplicated_graph_input_or_initializer_is_refused()
    {
        var g = Relu();
        g.Inputs.Add(g.Inputs[0]);
        Assert.Contains("graph input 'x' is listed twice", Assert.Throws<InvalidModelException>(() => g.CheckNames("m")).Message);
        g = Relu();
        g.Initializers.Add(AccelTensor.FromArray(1f).WithName("w"));
        g.Initializers.Add(AccelTensor.FromArray(2f).WithName("w"));
        Assert.Contains("initializer 'w' is listed twice", Assert.Throws<InvalidModelException>(() => g.CheckNames("m")).Message);
    }

    [Fact]
    public void A_nameless_initializer_is_refused_and_does_not_break_declared_types()
    {
        var g = Relu();
        g.Initializers.Add(AccelTensor.FromArray(1f));
        Assert.Equal("m: initializer #0 has no name", Assert.Throws<InvalidModelException>(() => g.CheckNames("m")).Message);
        Assert.Equal(2, g.DeclaredTypes().Count);
    }
}
