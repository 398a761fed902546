using AccelSdk.Ilgpu.Runtime;
using AccelSdk.Ir;

namespace AccelSdk.Ilgpu.Ops;

/// <summary>What an operator implementation sees while it runs one node on one accelerator.</summary>
internal readonly struct OpContext
{
    public OpContext(IlgpuDeviceSlot slot, Node node, long opset)
    {
        Slot = slot;
        Node = node;
        Opset = opset;
    }

    public IlgpuDeviceSlot Slot { get; }

    public Node Node { get; }

    public long Opset { get; }

    public KernelSet Kernels => new(Slot.Kernels, Slot.IsCpu, Environment.ProcessorCount);

    public IlgpuTensor Alloc(ElementType type, long[] shape)
    {
        var bytes = Tensor.CountElements(shape) * type.SizeInBytes();
        return new IlgpuTensor(Slot.Device, type, shape, Slot.Pool.Rent(bytes));
    }

    /// <summary>Uploads a tensor computed on the host (shape values and the like).</summary>
    public IlgpuTensor UploadHost(Tensor host) => Slot.Upload(host);

    /// <summary>The data of a small tensor on the host: its host copy, else a download.</summary>
    public Tensor ReadHost(IlgpuTensor tensor) => tensor.HostCopy ?? Slot.Download(tensor);

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
