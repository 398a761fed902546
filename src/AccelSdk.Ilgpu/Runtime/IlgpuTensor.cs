using AccelSdk.Backends;
using AccelSdk.Ir;
using ILGPU;

namespace AccelSdk.Ilgpu.Runtime;

/// <summary>
/// A tensor resident on an ILGPU accelerator. It holds a lease on a pooled accelerator buffer; tensors that alias
/// the same data (reshapes) share the lease and the buffer returns to the pool when the last one is disposed.
/// Small integer tensors computed from shapes also keep a host copy so shape arithmetic needs no download.
/// </summary>
public sealed class IlgpuTensor : DeviceTensor
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

    /// <summary>A tensor of another shape over the same data (no copy).</summary>
    internal IlgpuTensor Alias(long[] shape) =>
        new(Device, ElementType, shape, Buffer.AddReference(), HostCopy?.Reshape(shape));

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        Interlocked.Exchange(ref _buffer, null)?.Release();
    }
}
