using AccelSdk.Execution;
using AccelSdk.Ir;
using AccelSdk.Onnx;
using Xunit;
using Xunit.Abstractions;

namespace AccelSdk.Ilgpu.Tests;

/// <summary>
/// Graphs whose shape inputs come from Constant nodes and Shape chains, as other frameworks export them: shape
/// inference must know every rank the ILGPU capability checks ask for, so the whole graph is claimed and runs.
/// </summary>
public class ShapeInputModelTests(ITestOutputHelper output)
{
    private static Node Constant(string name, AccelTensor value) =>
        new("Constant", Array.Empty<string>(), new[] { name }, "const_" + name) { Attributes = { NodeAttribute.FromTensor("value", value) } };

    private static AccelTensor Weights(string name, int seed, params long[] shape)
    {
        var random = new Random(seed);
        return AccelTensor.Create(Enumerable.Range(0, (int)AccelTensor.CountElements(shape)).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray(), shape).WithName(name);
    }

    /// <summary>
    /// The reported detector pattern: a Resize (scales from a Constant node) whose input is an Add of an earlier
    /// Resize's output, then a head flattened through Shape -> Gather -> Unsqueeze -> Concat -> Reshape.
    /// </summary>
    internal static Model DetectorNeck()
    {
        var g = new Graph { Name = "detector_neck" };
        g.Inputs.Add(TinyModels.F32("X", 1, 4, 8, 8));
        g.Inputs.Add(TinyModels.F32("Skip", 1, 4, 16, 16));
        g.Outputs.Add(new ValueInfo("Y", new TensorType(ElementType.Float32, null)));
        g.Initializers.Add(Weights("W1", 1, 4, 4, 3, 3));
        g.Initializers.Add(Weights("W2", 2, 2, 4, 3, 3));
        var pads = NodeAttribute.Ints("pads", 1, 1, 1, 1);
        g.Nodes.Add(new Node("Conv", new[] { "X", "W1" }, new[] { "c1" }, "conv1") { Attributes = { pads } });
        g.Nodes.Add(Constant("s1", AccelTensor.FromArray(1f, 1f, 2f, 2f)));
        g.Nodes.Add(new Node("Resize", new[] { "c1", "", "s1" }, new[] { "up1" }, "resize1") { Attributes = { NodeAttribute.String("mode", "nearest") } });
        g.Nodes.Add(new Node("Add", new[] { "up1", "Skip" }, new[] { "sum" }, "add"));
        g.Nodes.Add(Constant("s2", AccelTensor.FromArray(1f, 1f, 2f, 2f)));
        g.Nodes.Add(new Node("Resize", new[] { "sum", "", "s2" }, new[] { "up2" }, "resize2") { Attributes = { NodeAttribute.String("mode", "linear") } });
        g.Nodes.Add(new Node("Conv", new[] { "up2", "W2" }, new[] { "c2" }, "conv2") { Attributes = { pads } });
        g.Nodes.Add(new Node("Shape", new[] { "c2" }, new[] { "shape" }, "shape"));
        g.Nodes.Add(Constant("zero", AccelTensor.Scalar(0L)));
        g.Nodes.Add(new Node("Gather", new[] { "shape", "zero" }, new[] { "batch" }, "gather"));
        g.Nodes.Add(Constant("axes", AccelTensor.FromArray(0L)));
        g.Nodes.Add(new Node("Unsqueeze", new[] { "batch", "axes" }, new[] { "batch1" }, "unsqueeze"));
        g.Nodes.Add(Constant("rest", AccelTensor.FromArray(-1L)));
        g.Nodes.Add(new Node("Concat", new[] { "batch1", "rest" }, new[] { "target" }, "concat") { Attributes = { NodeAttribute.Int("axis", 0) } });
        g.Nodes.Add(new Node("Reshape", new[] { "c2", "target" }, new[] { "Y" }, "flatten"));
        var model = new Model(g);
        model.OpsetImports[""] = 13;
        return model;
    }

    [Fact]
    public void DetectorWithConstantNodeScalesIsClaimedWholeAndMatchesOnnxRuntime()
    {
        var model = DetectorNeck();
        var types = ShapeInference.Infer(model);
        Assert.Equal("float32[1,4,32,32]", types["up2"].ToString());
        Assert.Equal("float32[1,2048]", types["Y"].ToString());
        ModelTests.CompareWithOrt(model, Shared.Backend, Shared.TestDevice, output);
    }

    /// <summary>
    /// MiniLM (a BERT exported from PyTorch) computes its attention reshapes from Shape -> Gather -> Unsqueeze -> Concat
    /// chains and Constant nodes: before those were folded, 479 of its 650 node outputs had no known rank.
    /// </summary>
    [Fact]
    public void MiniLmHasAKnownRankForEveryValue()
    {
        var model = OnnxImporter.Load(TestSupport.RepoPaths.Model("minilm/model.onnx"));
        var types = ShapeInference.Infer(model);
        var outputs = model.Graph.Nodes.SelectMany(n => n.Outputs).Where(o => o.Length > 0).ToList();
        var unknown = outputs.Where(o => !types.TryGetValue(o, out var t) || t is TensorType { Shape: null }).ToList();
        var fullyKnown = outputs.Count(o => types.TryGetValue(o, out var t) && t is TensorType { Shape.IsFullyKnown: true });
        output.WriteLine($"MiniLM: {outputs.Count} node outputs, {unknown.Count} of unknown rank, {fullyKnown} fully known");
        Assert.True(unknown.Count == 0, $"{unknown.Count} values of unknown rank, e.g. {string.Join(", ", unknown.Take(5))}");
        Assert.Empty(GraphPartitioner.Unsupported(model, Shared.Backend, Shared.TestDevice, types));
    }
}
