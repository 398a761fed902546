using AccelSdk.Backends;
using AccelSdk.Execution;
using AccelSdk.Ir;
using Xunit;

namespace AccelSdk.Ilgpu.Tests;

/// <summary>Bad shapes, indices and types give typed errors that name the node, before any kernel runs.</summary>
public class BadInputTests
{
    private static AccelSession Session(Model model) => new(GraphPartitioner.WholeModel(model, Shared.Backend, Shared.Cpu));

    [Fact]
    public void ShapesThatDoNotBroadcastNameTheNode()
    {
        // Declared with symbolic dims so the session accepts the inputs and the backend sees the clash.
        var a = new ValueInfo("A", new TensorType(ElementType.Float32, new TensorShape(new[] { Dimension.Symbolic("n") })));
        var b = new ValueInfo("B", new TensorType(ElementType.Float32, new TensorShape(new[] { Dimension.Symbolic("m") })));
        var model = TinyModels.Single(new Node("Add", new[] { "A", "B" }, new[] { "C" }, "the_add"), new[] { a, b },
            new[] { new ValueInfo("C", new TensorType(ElementType.Float32, null)) });
        using var session = Session(model);
        var e = Assert.Throws<InvalidModelException>(() => session.Run(AccelTensor.FromArray(1f, 2f, 3f), AccelTensor.FromArray(1f, 2f)));
        Assert.Equal("the_add", e.NodeName);
        Assert.Equal("Add", e.OpType);
        Assert.Contains("[3] and [2] do not broadcast", e.Message);
    }

    [Fact]
    public void GatherIndexOutOfRangeIsATypedErrorNotAFault()
    {
        var node = new Node("Gather", new[] { "X", "I" }, new[] { "Y" }, "gather");
        var model = TinyModels.Single(node, new[] { TinyModels.F32("X", 3, 2), new ValueInfo("I", new TensorType(ElementType.Int64, new TensorShape(2))) },
            new[] { new ValueInfo("Y", new TensorType(ElementType.Float32, null)) });
        using var session = Session(model);
        var e = Assert.Throws<InvalidModelException>(() => session.Run(AccelTensor.Create(new float[6], 3, 2), AccelTensor.FromArray(0L, 3L)));
        Assert.Equal("gather", e.NodeName);
        Assert.Contains("index 3 is out of range for axis 0 of size 3", e.Message);
    }

    [Fact]
    public void OutOfRangeAxisIsATypedError()
    {
        var node = new Node("Softmax", new[] { "X" }, new[] { "Y" }, "softmax");
        node.Attributes.Add(NodeAttribute.Int("axis", 5));
        var model = TinyModels.Single(node, new[] { TinyModels.F32("X", 2, 3) }, new[] { TinyModels.F32("Y", 2, 3) });
        using var session = Session(model);
        var e = Assert.Throws<InvalidModelException>(() => session.Run(AccelTensor.Create(new float[6], 2, 3)));
        Assert.Contains("axis 5 is out of range for rank 2", e.Message);
    }

    [Fact]
    public void UnsupportedDtypeIsRefusedWithTheReason()
    {
        var x = new ValueInfo("X", new TensorType(ElementType.Float64, new TensorShape(4)));
        var model = TinyModels.Single(new Node("Relu", new[] { "X" }, new[] { "Y" }, "relu64"), new[] { x },
            new[] { new ValueInfo("Y", new TensorType(ElementType.Float64, new TensorShape(4))) });
        var unsupported = GraphPartitioner.Unsupported(model, Shared.Backend, Shared.Cpu);
        var (node, op, reason) = Assert.Single(unsupported);
        Assert.Equal("relu64", node);
        Assert.Equal("Relu", op);
        Assert.Contains("float64", reason);
        Assert.Throws<UnsupportedOperatorException>(() => GraphPartitioner.WholeModel(model, Shared.Backend, Shared.Cpu));
    }

    [Fact]
    public void UnknownOpAndForeignDomainAreNotClaimed()
    {
        var custom = new Node("Relu", new[] { "X" }, new[] { "Y" }, "custom", "com.example");
        var model = TinyModels.Single(custom, new[] { TinyModels.F32("X", 2) }, new[] { TinyModels.F32("Y", 2) });
        Assert.Contains("com.example", Assert.Single(GraphPartitioner.Unsupported(model, Shared.Backend, Shared.Cpu)).Reason);
        var lrn = new Node("LRN", new[] { "X" }, new[] { "Y" }, "lrn");
        model = TinyModels.Single(lrn, new[] { TinyModels.F32("X", 1, 2, 2, 2) }, new[] { TinyModels.F32("Y", 1, 2, 2, 2) });
        Assert.Contains("not implemented", Assert.Single(GraphPartitioner.Unsupported(model, Shared.Backend, Shared.Cpu)).Reason);
    }

    [Fact]
    public void MatMulInnerDimensionMismatchNamesTheShapes()
    {
        var x = new ValueInfo("A", new TensorType(ElementType.Float32, new TensorShape(new[] { Dimension.Symbolic("m"), Dimension.Symbolic("k") })));
        var y = new ValueInfo("B", new TensorType(ElementType.Float32, new TensorShape(new[] { Dimension.Symbolic("k2"), Dimension.Symbolic("n") })));
        var model = TinyModels.Single(new Node("MatMul", new[] { "A", "B" }, new[] { "C" }, "mm"), new[] { x, y },
            new[] { new ValueInfo("C", new TensorType(ElementType.Float32, null)) });
        using var session = Session(model);
        var e = Assert.Throws<InvalidModelException>(() => session.Run(AccelTensor.Create(new float[6], 2, 3), AccelTensor.Create(new float[8], 4, 2)));
        Assert.Contains("A [2,3], B [4,2]", e.Message);
    }

    [Fact]
    public void Conv3dKernelShapeThatDisagreesWithTheWeightNamesTheNode()
    {
        var conv = new Node("Conv", new[] { "X", "W" }, new[] { "Y" }, "conv3d");
        conv.Attributes.Add(NodeAttribute.Ints("kernel_shape", 3, 3, 2));
        var model = TinyModels.Single(conv, new[] { TinyModels.F32("X", 1, 2, 4, 4, 4), TinyModels.F32("W", 3, 2, 3, 3, 3) },
            new[] { new ValueInfo("Y", new TensorType(ElementType.Float32, null)) });
        using var session = Session(model);
        var e = Assert.Throws<InvalidModelException>(() => session.Run(AccelTensor.Create(new float[128], 1, 2, 4, 4, 4), AccelTensor.Create(new float[162], 3, 2, 3, 3, 3)));
        Assert.Equal("conv3d", e.NodeName);
        Assert.Contains("kernel_shape [3,3,2] disagrees with W [3,2,3,3,3]", e.Message);
    }

    [Fact]
    public void PoolingWindowLargerThanThePaddedInputIsATypedError()
    {
        var pool = new Node("MaxPool", new[] { "X" }, new[] { "Y" }, "pool1d");
        pool.Attributes.Add(NodeAttribute.Ints("kernel_shape", 5));
        var x = new ValueInfo("X", new TensorType(ElementType.Float32, new TensorShape(new[] { Dimension.Known(1), Dimension.Known(1), Dimension.Symbolic("n") })));
        var model = TinyModels.Single(pool, new[] { x }, new[] { new ValueInfo("Y", new TensorType(ElementType.Float32, null)) });
        using var session = Session(model);
        var e = Assert.Throws<InvalidModelException>(() => session.Run(AccelTensor.Create(new float[3], 1, 1, 3)));
        Assert.Equal("pool1d", e.NodeName);
        Assert.Contains("does not fit spatial dimension 0 of size 3", e.Message);
    }

    [Fact]
    public void IntegerTypesWithoutKernelsAreRefusedWithTheReason()
    {
        var u8 = new ValueInfo("A", new TensorType(ElementType.UInt8, new TensorShape(4)));
        var model = TinyModels.Single(new Node("Div", new[] { "A", "A" }, new[] { "Y" }, "div_u8"), new[] { u8 },
            new[] { new ValueInfo("Y", new TensorType(ElementType.UInt8, new TensorShape(4))) });
        Assert.Contains("uint8", Assert.Single(GraphPartitioner.Unsupported(model, Shared.Backend, Shared.Cpu)).Reason);
    }

    [Fact]
    public void IntegerDivisionTruncatesTowardZeroAndDivisionByZeroDoesNotFault()
    {
        var a = new ValueInfo("A", new TensorType(ElementType.Int64, new TensorShape(5)));
        var b = new ValueInfo("B", new TensorType(ElementType.Int64, new TensorShape(5)));
        var model = TinyModels.Single(new Node("Div", new[] { "A", "B" }, new[] { "Y" }, "div"), new[] { a, b },
            new[] { new ValueInfo("Y", new TensorType(ElementType.Int64, new TensorShape(5))) });
        using var session = Session(model);
        var y = session.Run(AccelTensor.FromArray(7L, -7L, 7L, long.MinValue, 5L), AccelTensor.FromArray(2L, 2L, -2L, -1L, 0L))[0];
        Assert.Equal(new[] { 3L, -3L, -3L, long.MinValue, 0L }, y.AsSpan<long>().ToArray());
    }
}
