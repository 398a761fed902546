using AccelSdk.Backends;
using AccelSdk.Execution;
using AccelSdk.Ir;
using Xunit;

namespace AccelSdk.Native.Tests;

/// <summary>
/// MediaPipe's Convolution2DTransposeBias through AccelSdk's ONNX Runtime backend with libaccelsdk_ort_ops: one ORT
/// partition (no break), compared with the same arithmetic through ORT's own Transpose + ConvTranspose + Transpose.
/// </summary>
public sealed class OrtCustomOpsTests
{
    private const int N = 1, H = 16, W = 16, Cin = 8, Cout = 4, K = 2, Stride = 2;

    [Fact]
    public void LibraryListsItsOperators()
    {
        Assert.True(OrtCustomOps.IsAvailable, OrtCustomOps.UnavailableReason);
        Assert.Contains("Convolution2DTransposeBias", OrtCustomOps.OperatorNames);
        Assert.True(File.Exists(OrtCustomOps.LibraryPath));
        Assert.True(OrtCustomOps.Implements("com.accelsdk", "Convolution2DTransposeBias"));
        Assert.False(OrtCustomOps.Implements("com.accelsdk", "Densify"));
    }

    [Fact]
    public void TransposeConvBiasRunsInOneOrtPartitionAndMatchesConvTranspose()
    {
        Assert.True(OrtCustomOps.IsAvailable, OrtCustomOps.UnavailableReason);
        var random = new Random(6);
        var x = RandomFloats(random, N * H * W * Cin);
        var wOhwi = RandomFloats(random, Cout * K * K * Cin);
        var bias = RandomFloats(random, Cout);
        var input = AccelTensor.Create(x, N, H, W, Cin);

        var custom = CustomModel(wOhwi, bias);
        var (backend, device) = AccelRuntime.Default.Resolve("ort-cpu");
        Assert.Empty(GraphPartitioner.Unsupported(custom, backend, device));
        using var session = new AccelSession(GraphPartitioner.WholeModel(custom, backend, device));
        Assert.Single(session.Plan.Partitions);
        var got = session.Run(input)[0];

        using var referenceSession = new AccelSession(GraphPartitioner.WholeModel(ReferenceModel(wOhwi, bias), backend, device));
        var want = referenceSession.Run(input)[0];

        Assert.Equal(new long[] { N, 2 * H, 2 * W, Cout }, got.Shape.ToArray());
        Assert.Equal(want.Shape.ToArray(), got.Shape.ToArray());
        var a = got.AsSpan<float>();
        var b = want.AsSpan<float>();
        for (var i = 0; i < a.Length; i++)
        {
            // float32 sums of 2*2*8 products in different orders: atol 1e-5 + rtol 1e-4.
            Assert.True(Math.Abs(a[i] - b[i]) <= 1e-5 + 1e-4 * Math.Abs(b[i]), $"element {i}: {a[i]} vs {b[i]}");
        }
    }

    [Fact]
    public void UnknownOpOfTheDomainIsRefusedWithTheReason()
    {
        var model = CustomModel(new float[Cout * K * K * Cin], new float[Cout]);
        model.Graph.Nodes[0].OpType = "Densify";
        var (backend, device) = AccelRuntime.Default.Resolve("ort-cpu");
        var unsupported = Assert.Single(GraphPartitioner.Unsupported(model, backend, device));
        Assert.Equal("Densify", unsupported.Op);
        Assert.Contains("libaccelsdk_ort_ops has no Densify", unsupported.Reason);
    }

    private static float[] RandomFloats(Random random, int count) =>
        Enumerable.Range(0, count).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();

    private static Model CustomModel(float[] wOhwi, float[] bias)
    {
        var graph = new Graph { Name = "upsample" };
        graph.Inputs.Add(new ValueInfo("X", new TensorType(ElementType.Float32, new TensorShape(N, H, W, Cin))));
        graph.Outputs.Add(new ValueInfo("Y", new TensorType(ElementType.Float32, new TensorShape(N, 2 * H, 2 * W, Cout))));
        graph.Initializers.Add(AccelTensor.Create(wOhwi, Cout, K, K, Cin).WithName("W"));
        graph.Initializers.Add(AccelTensor.Create(bias, Cout).WithName("B"));
        var node = new Node("Convolution2DTransposeBias", new[] { "X", "W", "B" }, new[] { "T" }, "up", OrtCustomOps.Domain);
        node.Attributes.Add(NodeAttribute.String("padding", "SAME"));
        node.Attributes.Add(NodeAttribute.Ints("strides", Stride, Stride));
        graph.Nodes.Add(node);
        graph.Nodes.Add(new Node("Relu", new[] { "T" }, new[] { "Y" }, "relu"));
        var model = new Model(graph);
        model.OpsetImports[""] = 17;
        model.OpsetImports[OrtCustomOps.Domain] = OrtCustomOps.OpsetVersion;
        return model;
    }

    private static Model ReferenceModel(float[] wOhwi, float[] bias)
    {
        var wIohw = new float[wOhwi.Length];
        for (var o = 0; o < Cout; o++)
            for (var ky = 0; ky < K; ky++)
                for (var kx = 0; kx < K; kx++)
                    for (var i = 0; i < Cin; i++)
                        wIohw[((i * Cout + o) * K + ky) * K + kx] = wOhwi[((o * K + ky) * K + kx) * Cin + i];
        var graph = new Graph { Name = "reference" };
        graph.Inputs.Add(new ValueInfo("X", new TensorType(ElementType.Float32, new TensorShape(N, H, W, Cin))));
        graph.Outputs.Add(new ValueInfo("Y", new TensorType(ElementType.Float32, new TensorShape(N, 2 * H, 2 * W, Cout))));
        graph.Initializers.Add(AccelTensor.Create(wIohw, Cin, Cout, K, K).WithName("W"));
        graph.Initializers.Add(AccelTensor.Create(bias, Cout).WithName("B"));
        var toNchw = new Node("Transpose", new[] { "X" }, new[] { "Xc" }, "to_nchw");
        toNchw.Attributes.Add(NodeAttribute.Ints("perm", 0, 3, 1, 2));
        // H=16, stride 2, kernel 2: MediaPipe's SAME padding total is max(0, 2 - 15 % 2 - 1) = 0.
        var conv = new Node("ConvTranspose", new[] { "Xc", "W", "B" }, new[] { "Yc" }, "conv_transpose");
        conv.Attributes.Add(NodeAttribute.Ints("strides", Stride, Stride));
        var toNhwc = new Node("Transpose", new[] { "Yc" }, new[] { "T" }, "to_nhwc");
        toNhwc.Attributes.Add(NodeAttribute.Ints("perm", 0, 2, 3, 1));
        graph.Nodes.AddRange(new[] { toNchw, conv, toNhwc, new Node("Relu", new[] { "T" }, new[] { "Y" }, "relu") });
        var model = new Model(graph);
        model.OpsetImports[""] = 17;
        return model;
    }
}
