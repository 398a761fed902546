using AccelSdk.Backends;
using AccelSdk.Execution;
using AccelSdk.Ilgpu.Runtime;
using AccelSdk.Ir;
using ILGPU;
using ILGPU.Runtime.CPU;
using Xunit;

namespace AccelSdk.Ilgpu.Tests;

/// <summary>
/// Capability checks answer, never throw, whatever the node lacks; tensors too large for the device or the kernels'
/// index range are refused with a typed error before anything is allocated.
/// </summary>
public class ReliabilityTests
{
    private static NodeSupport Ask(Node node, IReadOnlyDictionary<string, Ir.ValueType> types, long opset = 17)
    {
        var model = TinyModels.Single(node, Array.Empty<ValueInfo>(), Array.Empty<ValueInfo>(), opset);
        return Shared.Backend.Supports(Shared.Cpu, node, new NodeContext(model, types));
    }

    private static Dictionary<string, Ir.ValueType> Typed(ElementType type, TensorShape? shape, params string[] names) =>
        names.ToDictionary(n => n, _ => (Ir.ValueType)new TensorType(type, shape), StringComparer.Ordinal);

    [Fact]
    public void PowWithoutItsExponentIsRefusedNotAnException()
    {
        var pow = new Node("Pow", new[] { "X" }, new[] { "Y" }, "pow");
        var support = Ask(pow, Typed(ElementType.Float32, new TensorShape(4), "X"));
        Assert.False(support.IsSupported);
        Assert.Contains("input 1", support.Reason);

        var emptyExponent = new Node("Pow", new[] { "X", "" }, new[] { "Y" }, "pow");
        Assert.False(Ask(emptyExponent, Typed(ElementType.Float32, new TensorShape(4), "X")).IsSupported);
    }

    [Fact]
    public void ConstantWithAValueAttributeOfTheWrongKindIsRefused()
    {
        var constant = new Node("Constant", Array.Empty<string>(), new[] { "Y" }, "c") { Attributes = { NodeAttribute.String("value_float", "1.5") } };
        var support = Ask(constant, new Dictionary<string, Ir.ValueType>());
        Assert.False(support.IsSupported);
        Assert.Contains("'value_float' is of kind String", support.Reason);
        var fill = new Node("ConstantOfShape", new[] { "S" }, new[] { "Y" }, "f") { Attributes = { NodeAttribute.Float("value", 2f) } };
        Assert.Contains("'value' is of kind Float", Ask(fill, Typed(ElementType.Int64, new TensorShape(2), "S")).Reason);
    }

    public static IEnumerable<object[]> Ops() => IlgpuBackend.ClaimedOps.Order(StringComparer.Ordinal).Select(op => new object[] { op });

    [Theory]
    [MemberData(nameof(Ops))]
    public void EveryClaimedOpAnswersUnsupportedWithoutTypesInputsOrRightAttributeKinds(string op)
    {
        var inputs = new[] { "A", "B", "C", "D", "E" };
        // No type information at all.
        var untyped = Ask(new Node(op, inputs, new[] { "Y" }, "n"), new Dictionary<string, Ir.ValueType>());
        Assert.False(untyped.IsSupported, $"{op} claimed with no type information");
        Assert.False(string.IsNullOrWhiteSpace(untyped.Reason));
        // No inputs at all, and every input omitted ("").
        foreach (var names in new[] { Array.Empty<string>(), new[] { "", "", "", "", "" } })
        {
            var support = Ask(new Node(op, names, new[] { "Y" }, "n"), new Dictionary<string, Ir.ValueType>());
            Assert.False(support.IsSupported && op != "Constant", $"{op} claimed with inputs [{string.Join(",", names)}]");
        }
        // Types known, ranks unknown, and every attribute the kernels read of the wrong kind.
        var wrongKinds = new Node(op, inputs, new[] { "Y" }, "n");
        foreach (var name in new[] { "axis", "to", "group", "keepdims", "alpha", "epsilon", "mode", "auto_pad", "kernel_shape", "pads", "perm", "axes", "strides" })
        {
            wrongKinds.Attributes.Add(name is "mode" or "auto_pad" ? NodeAttribute.Int(name, 1) : NodeAttribute.String(name, "x"));
        }
        var noRank = Typed(ElementType.Float32, null, inputs);
        var wrong = Ask(wrongKinds, noRank);
        Assert.False(wrong.IsSupported, $"{op} claimed with attributes of the wrong kind");
        Assert.Contains("attribute", wrong.Reason);
        // Unknown ranks with the right attributes, float16 next to untyped inputs, opset 1: an answer either way.
        _ = Ask(new Node(op, inputs, new[] { "Y" }, "n"), noRank);
        _ = Ask(new Node(op, inputs, new[] { "Y" }, "n"), Typed(ElementType.Float16, null, "A"));
        _ = Ask(new Node(op, inputs, new[] { "Y" }, "n"), noRank, opset: 1);
    }

    private static Model ConstantOfShape(long[] shape) => TinyModels.Single(
        new Node("ConstantOfShape", new[] { "shape" }, new[] { "Y" }, "huge"),
        Array.Empty<ValueInfo>(), new[] { new ValueInfo("Y", new TensorType(ElementType.Float32, null)) }, 17,
        AccelTensor.FromArray(shape).WithName("shape"));

    [Fact]
    public void TensorLargerThanTheDeviceIsRefusedBeforeAllocatingNamingTensorAndBytes()
    {
        // A backend of its own: other test classes run in parallel on the shared one.
        using var backend = new IlgpuBackend();
        var cpu = backend.Devices.Single(d => d.Id == "ilgpu-cpu");
        // The session's own caps would refuse first (tested in AccelSdk.Tests): this is the device's check.
        using var session = new AccelSession(GraphPartitioner.WholeModel(ConstantOfShape(new[] { 1L << 40 }), backend, cpu)) { Limits = ResourceLimits.Unlimited };
        var before = backend.PoolStatistics(cpu);
        var e = Assert.Throws<DeviceMemoryException>(() => session.Run(Array.Empty<AccelTensor>()));
        Assert.Equal("ilgpu-cpu", e.DeviceId);
        Assert.Equal(4L << 40, e.RequestedBytes);
        Assert.True(e.AvailableBytes > 0 && e.AvailableBytes < 4L << 40);
        Assert.Contains("output 'Y'", e.Message);
        Assert.Contains("huge", e.Message);
        Assert.Contains("4,398,046,511,104 bytes", e.Message);
        var after = backend.PoolStatistics(cpu);
        Assert.Equal(before.Allocations, after.Allocations);
        Assert.Equal(before.Outstanding, after.Outstanding);
    }

    [Fact]
    public void SizeThatOverflows64BitsIsATypedError()
    {
        using var session = new AccelSession(GraphPartitioner.WholeModel(ConstantOfShape(new[] { 1L << 62, 8L }), Shared.Backend, Shared.Cpu)) { Limits = ResourceLimits.Unlimited };
        var e = Assert.Throws<DeviceMemoryException>(() => session.Run(Array.Empty<AccelTensor>()));
        Assert.Null(e.RequestedBytes);
        Assert.Contains("more bytes than a 64-bit size holds", e.Message);
    }

    [Fact]
    public void MoreElementsThanTheKernelsIndexIsATypedErrorBeforeAllocating()
    {
        // 2^31 bool elements: 2 GiB, within the host's memory, beyond the kernels' int32 index range.
        var node = new Node("ConstantOfShape", new[] { "shape" }, new[] { "Y" }, "wide");
        node.Attributes.Add(NodeAttribute.FromTensor("value", AccelTensor.Create(new[] { true }, 1)));
        var model = TinyModels.Single(node, Array.Empty<ValueInfo>(), new[] { new ValueInfo("Y", new TensorType(ElementType.Bool, null)) }, 17,
            AccelTensor.FromArray(1L << 31).WithName("shape"));
        using var session = new AccelSession(GraphPartitioner.WholeModel(model, Shared.Backend, Shared.Cpu));
        var e = Assert.Throws<InvalidModelException>(() => session.Run(Array.Empty<AccelTensor>()));
        Assert.Contains("2,147,483,648 elements", e.Message);
        Assert.Contains("32-bit index range", e.Message);
    }

    [Fact]
    public void PoolRefusesABufferOverItsCapacityAndStaysUsable()
    {
        using var context = Context.Create(b => b.CPU());
        using var accelerator = context.CreateCPUAccelerator(0);
        using var pool = new BufferPool(accelerator, "test-cpu", 1 << 20);
        var e = Assert.Throws<DeviceMemoryException>(() => pool.Rent((1 << 20) + 1, "tensor 'x'"));
        Assert.Equal((1L << 20) + 1, e.RequestedBytes);
        Assert.Equal(1L << 20, e.AvailableBytes);
        Assert.Contains("tensor 'x'", e.Message);
        Assert.Equal(0, pool.Outstanding);
        var buffer = pool.Rent(1 << 20, "tensor 'y'");
        Assert.Equal(1, pool.Outstanding);
        buffer.Release();
        Assert.Equal(0, pool.Outstanding);
    }
}
