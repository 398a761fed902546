using AccelSdk.Ir;

namespace AccelSdk.OnnxRuntime.Tests;

/// <summary>The one-node models the ORT tests share.</summary>
internal static class OneNodeModels
{
    /// <summary>
    /// <paramref name="output"/> = Relu(x) on float32 <paramref name="inputShape"/> (opset 17); the output is declared
    /// with <paramref name="outputShape"/>, or without a shape when that is null.
    /// </summary>
    public static Model Relu(TensorShape inputShape, TensorShape? outputShape, string output = "y")
    {
        var g = new Graph { Name = "relu" };
        g.Inputs.Add(new ValueInfo("x", new TensorType(ElementType.Float32, inputShape)));
        g.Outputs.Add(new ValueInfo(output, new TensorType(ElementType.Float32, outputShape)));
        g.Nodes.Add(new Node("Relu", ["x"], [output], "relu"));
        var m = new Model(g);
        m.OpsetImports[""] = 17;
        return m;
    }

    /// <summary>y = Relu(x) on float32 [N, 4] with N symbolic and y's shape left open.</summary>
    public static Model ReluOverBatch() => Relu(new TensorShape(new[] { Dimension.Symbolic("N"), Dimension.Known(4) }), outputShape: null);
}
