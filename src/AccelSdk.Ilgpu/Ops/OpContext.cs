using AccelSdk.Ilgpu.Runtime;
using AccelSdk.Ir;

namespace AccelSdk.Ilgpu.Ops;

/// <summary>
/// MatMul kernel variants, chosen per partition through <c>CompileOptions.Settings["ilgpu.matmul"]</c>
/// (<c>packed</c>, <c>blocked</c> or <c>tiled</c>) so an autotuner can try them; the default is the one meant for the device.
/// </summary>
public enum MatMulVariant
{
    /// <summary>Operands packed into contiguous panels, 8x3 register blocks through raw pointers: ILGPU's CPU accelerator only (its default).</summary>
    Packed,
    /// <summary>Barrier-free 4x8 register blocks per index: the CPU accelerator's kernel.</summary>
    Blocked,
    /// <summary>Shared-memory 64x64 tiles with 4x4 register blocks per thread: the GPU kernel.</summary>
    Tiled,
}

/// <summary>What an operator implementation sees while it runs one node on one accelerator.</summary>
internal readonly struct OpContext
{
    public OpContext(IlgpuDeviceSlot slot, Node node, long opset, MatMulVariant matMul)
    {
        Slot = slot;
        Node = node;
        Opset = opset;
        MatMul = matMul;
    }

    /// <summary>The MatMul kernel variant this partition uses (MatMul, Gemm and Conv all go through it).</summary>
    public MatMulVariant MatMul { get; }

    public IlgpuDeviceSlot Slot { get; }

    public Node Node { get; }

    public long Opset { get; }

    public KernelSet Kernels => new(Slot.Kernels, Slot.IsCpu, Environment.ProcessorCount);

    /// <summary>
    /// A new tensor of <paramref name="shape"/> for this node. The size is checked before anything is allocated: a
    /// byte count that overflows or exceeds what the device holds is a <see cref="DeviceMemoryException"/>, a negative
    /// dimension or more elements than the kernels' 32-bit index range an <see cref="InvalidModelException"/>; both
    /// name the node, its output, the element type and the shape.
    /// </summary>
    public IlgpuTensor Alloc(ElementType type, long[] shape)
    {
        if (shape.Any(d => d < 0)) throw Fail($"shape {TensorShape.Format(shape)} has a negative dimension");
        var description = $"a {type.ShortName()}{TensorShape.Format(shape)} tensor of {Node.Describe()} (output '{Node.Outputs.FirstOrDefault()}')";
        long? count = shape.Contains(0) ? 0 : 1;
        foreach (var d in shape) count = count is { } c ? BufferPool.CheckedProduct(c, d) : null;
        var bytes = count is { } n ? BufferPool.CheckedProduct(n, type.SizeInBytes()) : null;
        if (bytes is null || bytes > Slot.Pool.CapacityBytes) throw new DeviceMemoryException(Slot.Device.Id, description, bytes, Slot.Pool.CapacityBytes);
        if (count > int.MaxValue) throw Fail($"{description} has {count:N0} elements ({bytes:N0} bytes), beyond the 32-bit index range of the ILGPU kernels");
        return new IlgpuTensor(Slot.Device, type, shape, Slot.Pool.Rent(bytes.Value, description));
    }

    /// <summary>Uploads a tensor computed on the host (shape values and the like).</summary>
    public IlgpuTensor UploadHost(AccelTensor host) => Slot.Upload(host);

    /// <summary>The data of a small tensor on the host: its host copy, else a download.</summary>
    public AccelTensor ReadHost(IlgpuTensor tensor) => tensor.HostCopy ?? Slot.Download(tensor);

    public long[] ReadInts(IlgpuTensor tensor)
    {
        if (tensor.ElementType is not (ElementType.Int64 or ElementType.Int32))
        {
            throw Fail($"expects an int64 or int32 tensor here, got {tensor.ElementType.ShortName()}");
        }
        return ReadHost(tensor).ToInt64Array();
    }

    public IlgpuTensor Input(IlgpuTensor?[] inputs, int index) =>
        index < inputs.Length && inputs[index] is { } t ? t : throw Fail($"input {index} is missing");

    public IlgpuTensor? Optional(IlgpuTensor?[] inputs, int index) => index < inputs.Length ? inputs[index] : null;

    public InvalidModelException Fail(string problem) =>
        new($"{Node.Describe()}: {problem}", Node.Name, Node.OpType);

    public static int ToInt(long value, string what, OpContext ctx) =>
        value is >= int.MinValue and <= int.MaxValue ? (int)value : throw ctx.Fail($"{what} {value} exceeds the 32-bit index range of the ILGPU kernels");
}
