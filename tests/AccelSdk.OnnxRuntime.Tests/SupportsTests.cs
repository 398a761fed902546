using AccelSdk.Backends;
using AccelSdk.Ir;
using AccelSdk.TestSupport;

namespace AccelSdk.OnnxRuntime.Tests;

/// <summary>Issue 11: Supports answers from what ONNX Runtime builds for the node, cached per signature.</summary>
public class SupportsTests
{
    private static (Model Model, Node Node) Binary(string op, ElementType type, params NodeAttribute[] attributes)
    {
        var g = new Graph { Name = op };
        var tensor = new TensorType(type, new TensorShape(2, 3));
        g.Inputs.Add(new ValueInfo("a", tensor));
        g.Inputs.Add(new ValueInfo("b", tensor));
        g.Outputs.Add(new ValueInfo("y", tensor));
        var node = new Node(op, ["a", "b"], ["y"], op.ToLowerInvariant());
        node.Attributes.AddRange(attributes);
        g.Nodes.Add(node);
        var m = new Model(g);
        m.OpsetImports[""] = 13;
        return (m, node);
    }

    private static NodeSupport Ask(OrtBackend backend, (Model Model, Node Node) case_) =>
        backend.Supports(backend.CpuDevice, case_.Node, new NodeContext(case_.Model, ShapeInference.Infer(case_.Model)));

    [Fact]
    public void A_node_whose_dtype_ort_cpu_has_no_kernel_for_is_refused_with_onnx_runtimes_reason()
    {
        using var backend = new OrtBackend();
        Assert.True(Ask(backend, Binary("Max", ElementType.Float32)).IsSupported);

        var int16 = Ask(backend, Binary("Max", ElementType.Int16));
        Assert.False(int16.IsSupported);
        Assert.Contains("ONNX Runtime cannot build node 'max' (Max", int16.Reason);
        Assert.Contains("on ort-cpu", int16.Reason);
        Assert.Contains("Could not find an implementation for Max(13) node with name 'max'", int16.Reason); // ORT's own words, about this node
    }

    [Fact]
    public void A_node_with_an_attribute_ort_rejects_is_refused_with_its_message()
    {
        using var backend = new OrtBackend();
        var (model, node) = Binary("Concat", ElementType.Float32, NodeAttribute.Int("axis", 5));
        var concat = backend.Supports(backend.CpuDevice, node, new NodeContext(model, new Dictionary<string, Ir.ValueType>
        {
            ["a"] = new TensorType(ElementType.Float32, new TensorShape(2, 3)),
            ["b"] = new TensorType(ElementType.Float32, new TensorShape(2, 3)),
        }));
        Assert.False(concat.IsSupported);
        Assert.Contains("ONNX Runtime cannot build node 'concat' (Concat", concat.Reason);
        Assert.Contains("axis", concat.Reason, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Answers_are_cached_per_signature_not_per_node()
    {
        using var backend = new OrtBackend();
        var probe = backend.NodeProbeForTests;
        Assert.True(Ask(backend, Binary("Add", ElementType.Float32)).IsSupported);
        var built = probe.SessionsBuilt;

        // Another model, other value and node names, the same signature: no new session.
        var g = new Graph { Name = "other" };
        var tensor = new TensorType(ElementType.Float32, new TensorShape(2, 3));
        g.Inputs.Add(new ValueInfo("left", tensor));
        g.Inputs.Add(new ValueInfo("right", tensor));
        g.Outputs.Add(new ValueInfo("sum", tensor));
        var node = new Node("Add", ["left", "right"], ["sum"], "add_7");
        g.Nodes.Add(node);
        var m = new Model(g);
        m.OpsetImports[""] = 13;
        Assert.True(backend.Supports(backend.CpuDevice, node, new NodeContext(m, ShapeInference.Infer(m))).IsSupported);
        Assert.Equal(built, probe.SessionsBuilt);

        // Another dtype is another signature.
        Assert.True(Ask(backend, Binary("Add", ElementType.Float64)).IsSupported);
        Assert.Equal(built + 1, probe.SessionsBuilt);
    }

    [Fact]
    public void Every_resnet18_node_is_supported_on_ort_cpu_with_fewer_sessions_than_nodes()
    {
        using var backend = new OrtBackend();
        var model = Model.Load(RepoPaths.ResNet18);
        var context = new NodeContext(model, ShapeInference.Infer(model));
        Assert.All(model.Graph.Nodes, n => Assert.True(backend.Supports(backend.CpuDevice, n, context).IsSupported));
        var built = backend.NodeProbeForTests.SessionsBuilt;
        Assert.InRange(built, 1, model.Graph.Nodes.Count - 1);
        Assert.All(model.Graph.Nodes, n => Assert.True(backend.Supports(backend.CpuDevice, n, context).IsSupported));
        Assert.Equal(built, backend.NodeProbeForTests.SessionsBuilt);
    }
}
