using AccelSdk.Ir;
using AccelSdk.Onnx.Versioning;

namespace AccelSdk.Onnx.Tests;

/// <summary>
/// The rewrites of the opset upgrader, node by node, and its typed refusals. That the upgraded models compute what the
/// originals do is checked in ONNX Runtime by AccelSdk.OnnxRuntime.Tests (the ONNX suite below opset 13) and
/// AccelSdk.Optimize.Tests (real opset-9 and opset-11 models).
/// </summary>
public class OpsetUpgraderTests
{
    [Fact]
    public void Every_schema_change_of_onnx_1_12_has_an_adapter_except_the_two_refused_ones()
    {
        var adapted = OpsetUpgrader.AdaptedChanges.ToHashSet();
        var missing = new List<string>();
        var changes = 0;
        foreach (var op in OnnxOperatorVersions.Operators)
        {
            foreach (var version in OnnxOperatorVersions.VersionsOf(op)!.Skip(1))
            {
                changes++;
                if (!adapted.Contains((op, version))) missing.Add($"{op}-{version}");
            }
        }
        Assert.True(changes >= 240, $"only {changes} schema changes in the generated table");
        // Tile-6 replaced (tiles, axis) by repeats; Scan-9 dropped the batch axis and sequence_lens: both refuse.
        Assert.Equal(new[] { "Scan-9", "Tile-6" }, missing.Order(StringComparer.Ordinal));
        Assert.All(adapted, a => Assert.True(OnnxOperatorVersions.ChangesAt(a.Op, a.Version), $"{a.Op}-{a.Version} is not a change in the table"));
    }

    [Fact]
    public void Axes_and_split_attributes_become_int64_inputs_at_opset_13()
    {
        var model = Build(11, new[] { F32("x", 2, 3) }, new[] { F32("parts0", 1, 1, 3), F32("sum", 1, 3), F32("parts1", 1, 1, 3) },
            Op("Unsqueeze", new[] { "x" }, new[] { "u" }, "unsqueeze", NodeAttribute.Ints("axes", 0)),
            Op("Squeeze", new[] { "u" }, new[] { "s" }, "squeeze", NodeAttribute.Ints("axes", 0)),
            Op("ReduceSum", new[] { "s" }, new[] { "sum" }, "reduce", NodeAttribute.Ints("axes", 0)),
            Op("Split", new[] { "u" }, new[] { "parts0", "parts1" }, "split", NodeAttribute.Int("axis", 1), NodeAttribute.Ints("split", 1, 1)));

        Assert.True(OpsetUpgrader.Upgrade(model, 13));

        Assert.Equal(13, model.OpsetOf(""));
        Assert.Equal(new long[] { 0 }, InputValues(model, "unsqueeze", 1));
        Assert.Equal(new long[] { 0 }, InputValues(model, "squeeze", 1));
        Assert.Equal(new long[] { 0 }, InputValues(model, "reduce", 1));
        Assert.Equal(new long[] { 1, 1 }, InputValues(model, "split", 1));
        Assert.All(model.Graph.Nodes, n => Assert.Null(n.Attribute("axes") ?? n.Attribute("split")));
        Assert.Equal(1, Node(model, "split").GetInt("axis", 0));
        Assert.True(model.IrVersion >= 7);
    }

    [Fact]
    public void Clip_bounds_become_inputs_of_the_clipped_type_and_Pad_gets_pads_and_value_inputs()
    {
        var model = Build(10, new[] { new ValueInfo("x", new TensorType(ElementType.Float64, new TensorShape(2, 2))) }, new[] { F32("p", 4, 4) },
            Op("Clip", new[] { "x" }, new[] { "c" }, "clip", NodeAttribute.Float("min", -1f), NodeAttribute.Float("max", 2f)),
            Op("Cast", new[] { "c" }, new[] { "f" }, "cast", NodeAttribute.Int("to", (long)ElementType.Float32)),
            Op("Pad", new[] { "f" }, new[] { "p" }, "pad", NodeAttribute.Ints("pads", 1, 1, 1, 1), NodeAttribute.Float("value", 0.5f)));

        OpsetUpgrader.Upgrade(model, 11);

        var clip = Node(model, "clip");
        Assert.Empty(clip.Attributes);
        Assert.Equal(-1.0, Initializer(model, clip.Inputs[1]).AsSpan<double>()[0]);
        Assert.Equal(2.0, Initializer(model, clip.Inputs[2]).AsSpan<double>()[0]);
        Assert.Equal(new long[] { 1, 1, 1, 1 }, InputValues(model, "pad", 1));
        Assert.Equal(0.5f, Initializer(model, Node(model, "pad").Inputs[2]).AsSpan<float>()[0]);
    }

    [Fact]
    public void Softmax_on_the_last_axis_stays_one_node_and_on_an_inner_axis_is_flattened_and_reshaped()
    {
        var model = Build(11, new[] { F32("x", 2, 3, 4) }, new[] { F32("last", 2, 3, 4), F32("inner", 2, 3, 4) },
            Op("Softmax", new[] { "x" }, new[] { "last" }, "last_axis", NodeAttribute.Int("axis", 2)),
            Op("LogSoftmax", new[] { "x" }, new[] { "inner" }, "inner_axis"));

        OpsetUpgrader.Upgrade(model, 13);

        Assert.Equal(-1, Node(model, "last_axis").GetInt("axis", 0));
        var ops = model.Graph.Nodes.Select(n => n.OpType).ToList();
        Assert.Equal(new[] { "Softmax", "Shape", "Flatten", "LogSoftmax", "Reshape" }, ops);
        var flatten = model.Graph.Nodes.Single(n => n.OpType == "Flatten");
        Assert.Equal(1, flatten.GetInt("axis", 0));
        var reshape = model.Graph.Nodes.Single(n => n.OpType == "Reshape");
        Assert.Equal("inner", reshape.Outputs[0]);
        Assert.Equal(Node(model, "inner_axis").Outputs[0], reshape.Inputs[0]);
    }

    [Fact]
    public void Legacy_broadcast_on_an_axis_aligns_B_by_trailing_ones_constant_or_not()
    {
        var model = Build(6, new[] { F32("a", 2, 3, 4, 5), F32("b", 3) }, new[] { F32("sum", 2, 3, 4, 5), F32("product", 2, 3, 4, 5) },
            Op("Add", new[] { "a", "b" }, new[] { "sum" }, "add", NodeAttribute.Int("broadcast", 1), NodeAttribute.Int("axis", 1)),
            Op("Mul", new[] { "a", "w" }, new[] { "product" }, "mul", NodeAttribute.Int("broadcast", 1), NodeAttribute.Int("axis", 1)));
        model.Graph.Initializers.Add(AccelTensor.Create(new[] { 1f, 2f, 3f }, 3).WithName("w"));

        OpsetUpgrader.Upgrade(model, 13);

        var unsqueeze = model.Graph.Nodes.Single(n => n.OpType == "Unsqueeze");
        Assert.Equal("b", unsqueeze.Inputs[0]);
        Assert.Equal(new long[] { 1, 2 }, Initializer(model, unsqueeze.Inputs[1]).AsSpan<long>().ToArray());
        Assert.Equal(unsqueeze.Outputs[0], Node(model, "add").Inputs[1]);
        Assert.Equal(new long[] { 3, 1, 1 }, Initializer(model, Node(model, "mul").Inputs[1]).ShapeArray);
        Assert.Empty(Node(model, "add").Attributes);
        Assert.Empty(Node(model, "mul").Attributes);
    }

    [Fact]
    public void Upsample_becomes_Resize_with_the_opset_10_coordinate_rules()
    {
        var model = Build(8, new[] { F32("x", 1, 1, 2, 2) }, new[] { F32("y", 1, 1, 4, 6) },
            Op("Upsample", new[] { "x" }, new[] { "y" }, "up", NodeAttribute.Floats("scales", 1, 1, 2, 3)));

        OpsetUpgrader.Upgrade(model, 13);

        var resize = Node(model, "up");
        Assert.Equal("Resize", resize.OpType);
        Assert.Equal("asymmetric", resize.GetString("coordinate_transformation_mode", ""));
        Assert.Equal("floor", resize.GetString("nearest_mode", ""));
        Assert.Equal(0, Initializer(model, resize.Inputs[1]).ElementCount);
        Assert.Equal(new[] { 1f, 1f, 2f, 3f }, Initializer(model, resize.Inputs[2]).AsSpan<float>().ToArray());
    }

    [Fact]
    public void Subgraph_nodes_are_upgraded_with_their_graph()
    {
        var body = new Graph { Name = "then" };
        body.Nodes.Add(Op("Unsqueeze", new[] { "x" }, new[] { "t" }, "inner", NodeAttribute.Ints("axes", 0)));
        body.Outputs.Add(F32("t", 1, 2));
        var other = new Graph { Name = "else" };
        other.Nodes.Add(Op("Unsqueeze", new[] { "x" }, new[] { "e" }, "inner2", NodeAttribute.Ints("axes", 0)));
        other.Outputs.Add(F32("e", 1, 2));
        var model = Build(11, new[] { F32("x", 2), new ValueInfo("c", new TensorType(ElementType.Bool, TensorShape.Scalar)) }, new[] { F32("y", 1, 2) },
            Op("If", new[] { "c" }, new[] { "y" }, "if", NodeAttribute.FromGraph("then_branch", body), NodeAttribute.FromGraph("else_branch", other)));

        OpsetUpgrader.Upgrade(model, 13);

        var inner = body.Nodes.Single();
        Assert.Null(inner.Attribute("axes"));
        Assert.Equal(new long[] { 0 }, body.FindInitializer(inner.Inputs[1])!.AsSpan<long>().ToArray());
    }

    [Fact]
    public void A_change_without_adapter_is_a_typed_error_naming_node_op_and_versions()
    {
        var model = Build(5, new[] { F32("x", 2) }, new[] { F32("y", 4) },
            Op("Tile", new[] { "x", "tiles", "axis" }, new[] { "y" }, "tile"));

        var error = Assert.Throws<OpsetUpgradeException>(() => OpsetUpgrader.Upgraded(model, 7));

        Assert.Equal("Tile", error.OpType);
        Assert.Contains("'tile'", error.NodeDescription);
        Assert.Equal((5, 6), (error.FromOpset, error.ToOpset));
        Assert.Contains("cannot be upgraded from opset 5 to 6", error.Message);
        Assert.Equal(5, model.OpsetOf(""));
    }

    [Fact]
    public void Unknown_future_and_unroundable_ops_are_typed_refusals()
    {
        var experimental = Build(6, new[] { F32("x", 1, 3, 2, 2) }, new[] { F32("y", 1, 3, 2, 2) },
            Op("ImageScaler", new[] { "x" }, new[] { "y" }, "scaler"));
        Assert.Contains("not an ai.onnx operator", Assert.Throws<OpsetUpgradeException>(() => OpsetUpgrader.Upgraded(experimental, 7)).Message);

        var future = Build(9, new[] { F32("x", 1, 1, 2, 2) }, new[] { F32("y", 1, 1, 4, 4) },
            Op("Resize", new[] { "x", "s" }, new[] { "y" }, "resize"));
        Assert.Contains("only exists from opset 10", Assert.Throws<OpsetUpgradeException>(() => OpsetUpgrader.Upgraded(future, 13)).Message);

        var dynamicScales = Build(10, new[] { F32("x", 1, 1, 2, 2), F32("s", 4) }, new[] { F32("y", 1, 1, 4, 4) },
            Op("Resize", new[] { "x", "s" }, new[] { "y" }, "resize"));
        var error = Assert.Throws<OpsetUpgradeException>(() => OpsetUpgrader.Upgraded(dynamicScales, 11));
        Assert.Equal("Resize", error.OpType);
        Assert.Contains("nearest mode", error.Message);

        var training = Build(6, new[] { F32("x", 2) }, new[] { F32("y", 2) }, Op("Dropout", new[] { "x" }, new[] { "y" }, "drop"));
        Assert.Contains("is_test=0", Assert.Throws<OpsetUpgradeException>(() => OpsetUpgrader.Upgraded(training, 7)).Message);

        var invalid = Build(long.MinValue, new[] { F32("x", 2) }, new[] { F32("y", 2) });
        Assert.Contains("no ai.onnx version", Assert.Throws<OpsetUpgradeException>(() => OpsetUpgrader.Upgraded(invalid, 7)).Message);

        var beyond = Build(11, new[] { F32("x", 2) }, new[] { F32("y", 2) }, Op("Relu", new[] { "x" }, new[] { "y" }, "relu"));
        Assert.Contains("up to 17", Assert.Throws<OpsetUpgradeException>(() => OpsetUpgrader.Upgraded(beyond, 18)).Message);
    }

    [Fact]
    public void Malformed_nodes_are_typed_refusals_not_crashes()
    {
        var wrongKind = Build(12, new[] { F32("x", 2) }, new[] { F32("y", 1, 2) },
            Op("Unsqueeze", new[] { "x" }, new[] { "y" }, "unsqueeze", NodeAttribute.Float("axes", 0f)));
        var error = Assert.Throws<OpsetUpgradeException>(() => OpsetUpgrader.Upgraded(wrongKind, 13));
        Assert.Contains("does not fit its opset-12 schema", error.Message);

        var missingInput = Build(6, new[] { F32("x", 2, 3) }, new[] { F32("y", 2, 3) },
            Op("Add", new[] { "x" }, new[] { "y" }, "add", NodeAttribute.Int("broadcast", 1), NodeAttribute.Int("axis", 1)));
        Assert.Equal("Add", Assert.Throws<OpsetUpgradeException>(() => OpsetUpgrader.Upgraded(missingInput, 7)).OpType);
    }

    [Fact]
    public void A_model_at_or_above_the_target_is_left_as_it_is()
    {
        var model = Build(13, new[] { F32("x", 2) }, new[] { F32("y", 2) }, Op("Relu", new[] { "x" }, new[] { "y" }, "relu"));
        var before = OnnxExporter.ToBytes(model);

        Assert.False(OpsetUpgrader.Upgrade(model, 11));
        Assert.Same(model, OpsetUpgrader.Upgraded(model, 13));
        Assert.Equal(before, OnnxExporter.ToBytes(model));
    }

    private static Model Build(long opset, ValueInfo[] inputs, ValueInfo[] outputs, params Node[] nodes)
    {
        var graph = new Graph { Name = "upgrade_test" };
        graph.Inputs.AddRange(inputs);
        graph.Outputs.AddRange(outputs);
        graph.Nodes.AddRange(nodes);
        var model = new Model(graph) { IrVersion = 3 };
        model.OpsetImports[""] = opset;
        return model;
    }

    private static Node Op(string opType, string[] inputs, string[] outputs, string name, params NodeAttribute[] attributes)
    {
        var node = new Node(opType, inputs, outputs, name);
        node.Attributes.AddRange(attributes);
        return node;
    }

    private static ValueInfo F32(string name, params long[] shape) => new(name, new TensorType(ElementType.Float32, new TensorShape(shape)));

    private static Node Node(Model model, string name) => model.Graph.Nodes.Single(n => n.Name == name);

    private static AccelTensor Initializer(Model model, string name) => model.Graph.FindInitializer(name) ?? throw new InvalidOperationException($"no initializer '{name}'");

    private static long[] InputValues(Model model, string node, int slot) => Initializer(model, Node(model, node).Inputs[slot]).AsSpan<long>().ToArray();
}
