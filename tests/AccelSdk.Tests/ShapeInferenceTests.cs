using AccelSdk.Execution;
using AccelSdk.Ir;

namespace AccelSdk.Tests;

public class ShapeInferenceTests
{
    private static Model ConvNet()
    {
        var g = new Graph { Name = "convnet" };
        g.Inputs.Add(new ValueInfo("x", new TensorType(ElementType.Float32, new TensorShape(new[] { Dimension.Symbolic("N"), 3, 32, 32 }))));
        g.Outputs.Add(new ValueInfo("y", new TensorType(ElementType.Float32, null)));
        g.Initializers.Add(AccelTensor.Zeros(ElementType.Float32, new long[] { 8, 3, 3, 3 }, "w"));
        g.Initializers.Add(AccelTensor.Create(new long[] { 0, -1 }, 2).WithName("shape"));
        var conv = new Node("Conv", new[] { "x", "w" }, new[] { "c" }, "conv");
        conv.Attributes.Add(NodeAttribute.Ints("pads", 1, 1, 1, 1));
        conv.Attributes.Add(NodeAttribute.Ints("strides", 2, 2));
        g.Nodes.Add(conv);
        g.Nodes.Add(new Node("Relu", new[] { "c" }, new[] { "r" }, "relu"));
        var pool = new Node("MaxPool", new[] { "r" }, new[] { "p" }, "pool");
        pool.Attributes.Add(NodeAttribute.Ints("kernel_shape", 2, 2));
        pool.Attributes.Add(NodeAttribute.Ints("strides", 2, 2));
        g.Nodes.Add(pool);
        g.Nodes.Add(new Node("Reshape", new[] { "p", "shape" }, new[] { "flat" }, "reshape"));
        g.Nodes.Add(new Node("Greater", new[] { "flat", "flat" }, new[] { "mask" }, "cmp"));
        g.Nodes.Add(new Node("Cast", new[] { "mask" }, new[] { "y" }, "cast") { Attributes = { NodeAttribute.Int("to", 1) } });
        var model = new Model(g);
        model.OpsetImports[""] = 17;
        return model;
    }

    [Fact]
    public void Infers_conv_pool_reshape_and_comparison_types()
    {
        var types = ShapeInference.Infer(ConvNet());
        Assert.Equal("float32[N,8,16,16]", types["c"].ToString());
        Assert.Equal("float32[N,8,16,16]", types["r"].ToString());
        Assert.Equal("float32[N,8,8,8]", types["p"].ToString());
        Assert.Equal("float32[N,?]", types["flat"].ToString());
        Assert.Equal("bool[N,?]", types["mask"].ToString());
        Assert.Equal(ElementType.Float32, ((TensorType)types["y"]).ElementType);
    }

    [Fact]
    public void Broadcast_follows_numpy_rules_and_names_shapes_that_do_not_fit()
    {
        Assert.Equal("[2,3,4]", ShapeInference.Broadcast(new[] { new TensorShape(2, 1, 4), new TensorShape(3, 1) }).ToString());
        var e = Assert.Throws<ArgumentException>(() => ShapeInference.Broadcast(new[] { new TensorShape(2, 3), new TensorShape(4) }));
        Assert.Contains("[2,3]", e.Message);
    }

    [Fact]
    public void Extract_cuts_a_partition_with_typed_inputs_and_outputs()
    {
        var model = ConvNet();
        var types = ShapeInference.Infer(model);
        var sub = GraphPartitioner.Extract(model, new[] { 1, 2 }, types, new HashSet<int> { 3, 4, 5 });
        Assert.Equal(new[] { "c" }, sub.Graph.RequiredInputs.Select(i => i.Name));
        Assert.Equal("float32[N,8,16,16]", sub.Graph.Inputs[0].Type!.ToString());
        Assert.Equal(new[] { "p" }, sub.Graph.Outputs.Select(o => o.Name));
        Assert.Empty(sub.Graph.Initializers);
        Assert.Equal(17, sub.OpsetOf(""));

        var first = GraphPartitioner.Extract(model, new[] { 0 }, types, new HashSet<int> { 1, 2, 3, 4, 5 });
        Assert.Equal(new[] { "x" }, first.Graph.RequiredInputs.Select(i => i.Name));
        Assert.Equal(new[] { "w" }, first.Graph.Initializers.Select(i => i.Name));
    }

    [Fact]
    public void Extract_names_the_node_when_a_cut_value_has_no_known_type()
    {
        var g = new Graph();
        g.Inputs.Add(new ValueInfo("x", new TensorType(ElementType.Float32, new TensorShape(2))));
        g.Outputs.Add(new ValueInfo("z", new TensorType(ElementType.Float32, null)));
        g.Nodes.Add(new Node("MysteryOp", new[] { "x" }, new[] { "y" }, "mystery", "com.example"));
        g.Nodes.Add(new Node("Relu", new[] { "y" }, new[] { "z" }, "relu"));
        var model = new Model(g);
        var e = Assert.Throws<InvalidModelException>(() => GraphPartitioner.Extract(model, new[] { 1 }, ShapeInference.Infer(model)));
        Assert.Contains("'y'", e.Message);
        Assert.Equal("relu", e.NodeName);
    }

    [Fact]
    public void Outer_scope_references_of_nested_subgraphs_are_found()
    {
        var body = new Graph();
        body.Outputs.Add(new ValueInfo("o", null));
        body.Nodes.Add(new Node("Add", new[] { "outer", "local" }, new[] { "o" }));
        body.Nodes.Insert(0, new Node("Identity", new[] { "outer2" }, new[] { "local" }));
        Assert.Equal(new[] { "outer", "outer2" }, body.OuterScopeReferences().OrderBy(s => s));
    }
}
