using AccelSdk.Backends;
using AccelSdk.Ir;
using ILGPU;

namespace AccelSdk.Ilgpu.Runtime;

/// <summary>
/// A tensor resident on an ILGPU accelerator. It holds a lease on a pooled accelerator buffer; tensors that alias
/// the same data (reshapes) share the lease and the buffer returns to the pool when the last one is disposed.
/// Small integer tensors computed from shapes also keep a host copy so shape arithmetic needs no download.
/// </summary>
public sealed class IlgpuTensor : DeviceTensor, IDeviceAddressable
{
    private DeviceBuffer? _buffer;

    internal IlgpuTensor(Device device, ElementType elementType, long[] shape, DeviceBuffer buffer, AccelTensor? hostCopy = null)
        : base(device, elementType, shape)
    {
        _buffer = buffer;
        HostCopy = hostCopy;
    }

    /// <summary>A host copy of the data when the backend already has one (constants, shape values), else null.</summary>
    public AccelTensor? HostCopy { get; }

    /// <summary>Number of elements.</summary>
    public long ElementCount => AccelTensor.CountElements(Shape);

    internal DeviceBuffer Buffer => _buffer ?? throw new ObjectDisposedException(nameof(IlgpuTensor));

    internal ArrayView<T> View<T>() where T : unmanaged => Buffer.View<T>();

    /// <summary>
    /// The address of the data in the accelerator's memory: a CUDA device pointer on <c>ilgpu-cuda:N</c>, which ONNX
    /// Runtime's CUDA provider on the same GPU wraps in place; a host address on the CPU accelerator.
    /// </summary>
    public nint DataAddress => Buffer.Address;

    /// <summary>Waits until the kernels queued on the accelerator (the ones writing this tensor among them) have finished.</summary>
    public void WaitUntilWritten() => Buffer.WaitForWriters();

    /// <summary>A tensor of another shape over the same data (no copy).</summary>
    internal IlgpuTensor Alias(long[] shape) =>
        new(Device, ElementType, shape, Buffer.AddReference(), HostCopy?.Reshape(shape));

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        Interlocked.Exchange(ref _buffer, null)?.Release();
    }
}
