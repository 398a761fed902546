using AccelSdk.Ir;

namespace AccelSdk.Ilgpu.Tests;

/// <summary>Small models built in code for tests that need a particular node.</summary>
public static class TinyModels
{
    public static Model Single(Node node, IEnumerable<ValueInfo> inputs, IEnumerable<ValueInfo> outputs, long opset = 17, params AccelTensor[] initializers)
    {
        var g = new Graph { Name = node.OpType };
        g.Inputs.AddRange(inputs);
        g.Outputs.AddRange(outputs);
        g.Initializers.AddRange(initializers);
        g.Nodes.Add(node);
        var model = new Model(g);
        model.OpsetImports[""] = opset;
        return model;
    }

    public static ValueInfo F32(string name, params long[] shape) => new(name, new TensorType(ElementType.Float32, new TensorShape(shape)));

    /// <summary>Conv(3x3, pad 1, 4->8 channels) followed by Relu on a 1x4x9x9 input.</summary>
    public static Model ConvRelu()
    {
        var g = new Graph { Name = "conv_relu" };
        g.Inputs.Add(F32("X", 1, 4, 9, 9));
        g.Outputs.Add(F32("Y", 1, 8, 9, 9));
        var rnd = new Random(5);
        g.Initializers.Add(AccelTensor.Create(Enumerable.Range(0, 8 * 4 * 9).Select(_ => (float)rnd.NextDouble() - 0.5f).ToArray(), 8, 4, 3, 3).WithName("W"));
        var conv = new Node("Conv", new[] { "X", "W" }, new[] { "C" }, "conv");
        conv.Attributes.Add(NodeAttribute.Ints("pads", 1, 1, 1, 1));
        g.Nodes.Add(conv);
        g.Nodes.Add(new Node("Relu", new[] { "C" }, new[] { "Y" }, "relu"));
        var model = new Model(g);
        model.OpsetImports[""] = 17;
        return model;
    }
}
