using AccelSdk.Ir;

namespace AccelSdk.Tests;

/// <summary>
/// Shapes of ops whose shapes, scales, sizes, pads, repeats, axes or k come from <c>Constant</c> nodes (not
/// initializers) or from small constant chains such as <c>Shape -> Gather -> Concat</c>.
/// </summary>
public class ShapeInputInferenceTests
{
    private static Node Constant(string name, AccelTensor value) =>
        new("Constant", Array.Empty<string>(), new[] { name }, "const_" + name) { Attributes = { NodeAttribute.FromTensor("value", value) } };

    private static Node N(string op, string[] inputs, string output, params NodeAttribute[] attributes)
    {
        var node = new Node(op, inputs, new[] { output }, op.ToLowerInvariant() + "_" + output);
        node.Attributes.AddRange(attributes);
        return node;
    }

    private static Dictionary<string, Ir.ValueType> Infer(long opset, (string Name, long[] Shape)[] inputs, params Node[] nodes)
    {
        var g = new Graph { Name = "g" };
        foreach (var (name, shape) in inputs) g.Inputs.Add(new ValueInfo(name, new TensorType(ElementType.Float32, new TensorShape(shape))));
        g.Nodes.AddRange(nodes);
        g.Outputs.Add(new ValueInfo(nodes[^1].Outputs[0], null));
        var model = new Model(g);
        model.OpsetImports[""] = opset;
        return ShapeInference.Infer(model);
    }

    private static (string, long[])[] X(params long[] shape) => new[] { ("x", shape) };

    [Fact]
    public void Resize_with_scales_or_sizes_from_a_Constant_node()
    {
        var scales = Infer(13, X(1, 3, 8, 8), Constant("s", AccelTensor.FromArray(1f, 1f, 2f, 2.5f)), N("Resize", new[] { "x", "", "s" }, "y"));
        Assert.Equal("float32[1,3,16,20]", scales["y"].ToString());
        var sizes = Infer(13, X(1, 3, 8, 8), Constant("z", AccelTensor.FromArray(1L, 3L, 5L, 7L)), N("Resize", new[] { "x", "", "", "z" }, "y"));
        Assert.Equal("float32[1,3,5,7]", sizes["y"].ToString());
        var floats = Infer(13, X(1, 3, 8, 8),
            new Node("Constant", Array.Empty<string>(), new[] { "s" }, "c") { Attributes = { NodeAttribute.Floats("value_floats", 1f, 1f, 0.5f, 0.5f) } },
            N("Resize", new[] { "x", "", "s" }, "y"));
        Assert.Equal("float32[1,3,4,4]", floats["y"].ToString());
    }

    [Fact]
    public void Resize_with_unknown_scales_keeps_the_rank()
    {
        var g = Infer(13, new[] { ("x", new long[] { 1, 3, 8, 8 }), ("s", new long[] { 4 }) }, N("Resize", new[] { "x", "", "s" }, "y"));
        Assert.Equal("float32[?,?,?,?]", g["y"].ToString());
    }

    [Fact]
    public void Detector_pattern_Resize_then_Add_then_Resize_with_Constant_scales_is_fully_known()
    {
        var types = Infer(13, new[] { ("x", new long[] { 1, 4, 8, 8 }), ("skip", new long[] { 1, 4, 16, 16 }) },
            Constant("s1", AccelTensor.FromArray(1f, 1f, 2f, 2f)),
            N("Resize", new[] { "x", "", "s1" }, "up1", NodeAttribute.String("mode", "nearest")),
            N("Add", new[] { "up1", "skip" }, "sum"),
            Constant("s2", AccelTensor.FromArray(1f, 1f, 2f, 2f)),
            N("Resize", new[] { "sum", "", "s2" }, "up2", NodeAttribute.String("mode", "nearest")));
        Assert.Equal("float32[1,4,16,16]", types["up1"].ToString());
        Assert.Equal("float32[1,4,16,16]", types["sum"].ToString());
        Assert.Equal("float32[1,4,32,32]", types["up2"].ToString());
    }

    [Fact]
    public void Reshape_target_from_a_Shape_Gather_Unsqueeze_Concat_chain()
    {
        var types = Infer(13, X(2, 3, 4, 5),
            N("Shape", new[] { "x" }, "shape"),
            Constant("zero", AccelTensor.Scalar(0L)),
            N("Gather", new[] { "shape", "zero" }, "batch"),
            Constant("axes", AccelTensor.FromArray(0L)),
            N("Unsqueeze", new[] { "batch", "axes" }, "batch1"),
            Constant("rest", AccelTensor.FromArray(-1L)),
            N("Concat", new[] { "batch1", "rest" }, "target", NodeAttribute.Int("axis", 0)),
            N("Reshape", new[] { "x", "target" }, "y"));
        Assert.Equal("float32[2,60]", types["y"].ToString());
    }

    [Fact]
    public void Resize_sizes_from_Shape_Slice_Mul_Concat()
    {
        var types = Infer(13, X(1, 3, 8, 8),
            N("Shape", new[] { "x" }, "shape"),
            Constant("b", AccelTensor.FromArray(2L)), Constant("e", AccelTensor.FromArray(4L)),
            N("Slice", new[] { "shape", "b", "e" }, "hw"),
            Constant("two", AccelTensor.FromArray(2L, 2L)),
            N("Mul", new[] { "hw", "two" }, "hw2"),
            Constant("nc", AccelTensor.FromArray(1L, 3L)),
            N("Concat", new[] { "nc", "hw2" }, "sizes", NodeAttribute.Int("axis", 0)),
            N("Resize", new[] { "x", "", "", "sizes" }, "y"));
        Assert.Equal("float32[1,3,16,16]", types["y"].ToString());
    }

    [Fact]
    public void Expand_Tile_Slice_Pad_and_ConstantOfShape_from_Constant_nodes()
    {
        Assert.Equal("float32[2,3,4]", Infer(13, X(3, 1), Constant("s", AccelTensor.FromArray(2L, 1L, 4L)), N("Expand", new[] { "x", "s" }, "y"))["y"].ToString());
        Assert.Equal("float32[6,4]", Infer(13, X(3, 4), Constant("r", AccelTensor.FromArray(2L, 1L)), N("Tile", new[] { "x", "r" }, "y"))["y"].ToString());
        var slice = Infer(13, X(10, 20),
            Constant("st", AccelTensor.FromArray(1L)), Constant("en", AccelTensor.FromArray(-1L)), Constant("ax", AccelTensor.FromArray(1L)), Constant("sp", AccelTensor.FromArray(2L)),
            N("Slice", new[] { "x", "st", "en", "ax", "sp" }, "y"));
        Assert.Equal("float32[10,9]", slice["y"].ToString());
        var pad = Infer(13, X(1, 3, 8, 8), Constant("p", AccelTensor.FromArray(0L, 0L, 1L, 2L, 0L, 0L, 3L, 4L)), N("Pad", new[] { "x", "p" }, "y"));
        Assert.Equal("float32[1,3,12,14]", pad["y"].ToString());
        var cos = Infer(13, X(1), Constant("s", AccelTensor.FromArray(2L, 5L)), N("ConstantOfShape", new[] { "s" }, "y"));
        Assert.Equal("float32[2,5]", cos["y"].ToString());
    }

    [Fact]
    public void Unsqueeze_Squeeze_and_Reduce_axes_from_Constant_nodes()
    {
        Assert.Equal("float32[1,3,4,1]", Infer(13, X(3, 4), Constant("a", AccelTensor.FromArray(0L, 3L)), N("Unsqueeze", new[] { "x", "a" }, "y"))["y"].ToString());
        Assert.Equal("float32[1,3,4]", Infer(13, X(1, 3, 1, 4), Constant("a", AccelTensor.FromArray(2L)), N("Squeeze", new[] { "x", "a" }, "y"))["y"].ToString());
        var reduce = Infer(13, X(2, 3, 4), Constant("a", AccelTensor.FromArray(1L)), N("ReduceSum", new[] { "x", "a" }, "y", NodeAttribute.Int("keepdims", 0)));
        Assert.Equal("float32[2,4]", reduce["y"].ToString());
        var mean = Infer(18, X(2, 3, 4), Constant("a", AccelTensor.FromArray(-1L)), N("ReduceMean", new[] { "x", "a" }, "y"));
        Assert.Equal("float32[2,3,1]", mean["y"].ToString());
    }

    [Fact]
    public void TopK_Range_Upsample_and_Split_from_Constant_nodes()
    {
        var topk = new Node("TopK", new[] { "x", "k" }, new[] { "v", "i" }, "topk");
        var t = Infer(13, X(5, 10), Constant("k", AccelTensor.FromArray(3L)), topk);
        Assert.Equal("float32[5,3]", t["v"].ToString());
        Assert.Equal("int64[5,3]", t["i"].ToString());
        var range = Infer(13, X(1), Constant("a", AccelTensor.Scalar(0L)), Constant("b", AccelTensor.Scalar(10L)), Constant("d", AccelTensor.Scalar(3L)),
            N("Range", new[] { "a", "b", "d" }, "y"));
        Assert.Equal("int64[4]", range["y"].ToString());
        var up = Infer(9, X(1, 2, 3, 4), Constant("s", AccelTensor.FromArray(1f, 1f, 2f, 3f)), N("Upsample", new[] { "x", "s" }, "y"));
        Assert.Equal("float32[1,2,6,12]", up["y"].ToString());
        var split = new Node("Split", new[] { "x", "parts" }, new[] { "a", "b" }, "split");
        var s = Infer(13, X(5, 4), Constant("parts", AccelTensor.FromArray(2L, 3L)), split);
        Assert.Equal("float32[2,4]", s["a"].ToString());
        Assert.Equal("float32[3,4]", s["b"].ToString());
    }

    [Fact]
    public void Inputs_that_are_not_constant_leave_dimensions_unknown_but_keep_known_ranks()
    {
        var types = Infer(13, new[] { ("x", new long[] { 2, 3 }), ("p", new long[] { 4 }) }, N("Pad", new[] { "x", "p" }, "y"));
        Assert.Equal("float32[?,?]", types["y"].ToString());
        var reshape = Infer(13, new[] { ("x", new long[] { 2, 3 }), ("s", new long[] { 3 }) }, N("Reshape", new[] { "x", "s" }, "y"));
        Assert.Equal("float32[?,?,?]", reshape["y"].ToString());
    }
}
