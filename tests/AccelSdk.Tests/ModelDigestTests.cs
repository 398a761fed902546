using AccelSdk.Ir;

namespace AccelSdk.Tests;

public class ModelDigestTests
{
    private static Model Small(float weight = 0.5f, long axis = 1)
    {
        var graph = new Graph { Name = "g" };
        graph.Inputs.Add(new ValueInfo("x", new TensorType(ElementType.Float32, new TensorShape(2, 3))));
        graph.Outputs.Add(new ValueInfo("y", new TensorType(ElementType.Float32, new TensorShape(2, 3))));
        graph.Initializers.Add(AccelTensor.Create(Enumerable.Range(0, 1000).Select(i => i == 777 ? weight : i * 0.25f).ToArray(), 1000).WithName("w"));
        var node = new Node("Softmax", new[] { "x" }, new[] { "y" }, "softmax");
        node.Attributes.Add(NodeAttribute.Int("axis", axis));
        graph.Nodes.Add(node);
        var model = new Model(graph) { IrVersion = 8 };
        model.OpsetImports[""] = 13;
        return model;
    }

    [Fact]
    public void Tensor_hash_follows_xxh64_on_its_published_test_vectors()
    {
        Assert.Equal(0xEF46DB3751D8E999UL, ModelDigest.Hash64(ReadOnlySpan<byte>.Empty));
        Assert.Equal(0x44BC2CF5AD770999UL, ModelDigest.Hash64("abc"u8));
    }

    [Fact]
    public void Equal_content_gives_equal_digests_and_any_weight_or_attribute_change_a_different_one()
    {
        var a = ModelDigest.Of(Small());
        Assert.Equal(32, a.Length);
        Assert.Equal(a, ModelDigest.Of(Small()));
        Assert.NotEqual(a, ModelDigest.Of(Small(weight: 0.5000001f)));
        Assert.NotEqual(a, ModelDigest.Of(Small(axis: 0)));

        // An in-place edit of a loaded model's weights changes it too.
        var edited = Small();
        edited.Graph.Initializers[0].AsSpan<float>()[3] += 1;
        Assert.NotEqual(a, ModelDigest.Of(edited));
        var renamed = Small();
        renamed.Graph.Nodes[0].Outputs[0] = "z";
        Assert.NotEqual(a, ModelDigest.Of(renamed));
    }
}
