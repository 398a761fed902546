using AccelSdk.Backends;
using AccelSdk.Ir;
using ILGPU;
using ILGPU.Runtime;
using Device = AccelSdk.Backends.Device;

namespace AccelSdk.Ilgpu.Runtime;

/// <summary>
/// A direct copy between two ILGPU accelerators of which at least one keeps its buffers in host-addressable memory
/// (ILGPU's CPU accelerator): the other accelerator copies straight out of (or into) that buffer, one copy and no
/// host staging tensor, where the session would otherwise download into a host tensor and upload it again.
/// </summary>
internal sealed class AcceleratorTransfer(IlgpuDeviceSlot from, IlgpuDeviceSlot to) : ITransferPath
{
    public string Description => $"ilgpu: {from.Device.Id} buffer copied straight into a {to.Device.Id} buffer";

    public int Copies => 1;

    /// <summary>The path between two ILGPU devices, or null when neither side's memory is host-addressable.</summary>
    public static AcceleratorTransfer? Between(IlgpuDeviceSlot from, IlgpuDeviceSlot to) =>
        from.Device.MemorySpace != to.Device.MemorySpace && (from.Device.MemorySpace.IsHostAddressable || to.Device.MemorySpace.IsHostAddressable)
            ? new AcceleratorTransfer(from, to)
            : null;

    public unsafe DeviceTensor Copy(DeviceTensor source, Device target)
    {
        if (source is not IlgpuTensor tensor || tensor.Device.Id != from.Device.Id || target.Id != to.Device.Id)
        {
            throw new BackendException(IlgpuBackend.BackendName, $"{Description}: got a {source.GetType().Name} of {source.Device.Id} for {target.Id}");
        }
        if (tensor.HostCopy is { } hostCopy) return to.Upload(hostCopy);
        var bytes = tensor.ByteLength;
        var what = $"tensor moved from {from.Device.Id} ({tensor.ElementType.ShortName()}{TensorShape.Format(tensor.Shape)})";
        if (from.Device.MemorySpace.IsHostAddressable)
        {
            lock (from.Gate) from.Synchronize();
            lock (to.Gate)
            {
                var buffer = to.Pool.Rent(bytes, what);
                if (bytes > 0) buffer.Bytes.CopyFromCPU(ref *(byte*)tensor.Buffer.Bytes.LoadEffectiveAddressAsPtr(), bytes);
                return new IlgpuTensor(to.Device, tensor.ElementType, tensor.Shape, buffer);
            }
        }
        DeviceBuffer targetBuffer;
        lock (to.Gate)
        {
            targetBuffer = to.Pool.Rent(bytes, what);
            to.Synchronize();
        }
        lock (from.Gate)
        {
            from.Synchronize();
            if (bytes > 0) tensor.Buffer.Bytes.CopyToCPU(ref *(byte*)targetBuffer.Bytes.LoadEffectiveAddressAsPtr(), bytes);
        }
        return new IlgpuTensor(to.Device, tensor.ElementType, tensor.Shape, targetBuffer);
    }
}

/// <summary>
/// Host memory handed to ILGPU's CPU accelerator in place: its kernels address host memory directly, so a host tensor
/// becomes an accelerator tensor over the same bytes (no copy). The host tensor must outlive the result, as it does in
/// a session run (both are released when the run ends); kernels never write their inputs.
/// </summary>
internal sealed class HostWrapTransfer(IlgpuDeviceSlot to) : ITransferPath
{
    public string Description => $"ilgpu: host memory read in place by {to.Device.Id}";

    public int Copies => 0;

    /// <summary>The path from host memory into <paramref name="to"/>, when its buffers are host-addressable (the CPU accelerator).</summary>
    public static HostWrapTransfer? Into(Device from, IlgpuDeviceSlot to) =>
        from.MemorySpace.IsHost && to.Device.MemorySpace.IsHostAddressable ? new HostWrapTransfer(to) : null;

    public DeviceTensor Copy(DeviceTensor source, Device target)
    {
        if (source is not HostTensor { Value: var host } || target.Id != to.Device.Id)
        {
            throw new BackendException(IlgpuBackend.BackendName, $"{Description}: got a {source.GetType().Name} of {source.Device.Id} for {target.Id}");
        }
        DeviceSlotTransfers.CheckStorable(to, host);
        if (host.ByteLength == 0) return to.Upload(host);
        lock (to.Gate)
        {
            var buffer = DeviceBuffer.WrapHost(to.Accelerator, host.DataPointer, host.ByteLength, host);
            var keepHostCopy = host.ElementCount <= 64 && host.ElementType is ElementType.Int64 or ElementType.Int32;
            return new IlgpuTensor(to.Device, host.ElementType, host.ShapeArray, buffer, keepHostCopy ? host : null);
        }
    }
}

/// <summary>
/// A CPU-accelerator buffer lent to a host-memory device in place (ONNX Runtime reads it as its input): the host tensor
/// holds its own lease on the buffer, which returns to the pool when the session disposes it at the end of the run.
/// Not offered towards the caller (<see cref="Device.Host"/>): model outputs are downloaded, since the caller keeps them.
/// </summary>
internal sealed class HostViewTransfer(IlgpuDeviceSlot from) : ITransferPath
{
    public string Description => $"ilgpu: {from.Device.Id} buffer lent to host memory in place";

    public int Copies => 0;

    /// <summary>The path from <paramref name="from"/> to <paramref name="to"/>, when the first is host-addressable and the second a host-memory device (not the caller).</summary>
    public static HostViewTransfer? Into(IlgpuDeviceSlot from, Device to) =>
        from.Device.MemorySpace.IsHostAddressable && to.MemorySpace.IsHost && to.Id != Device.Host.Id ? new HostViewTransfer(from) : null;

    public DeviceTensor Copy(DeviceTensor source, Device target)
    {
        if (source is not IlgpuTensor tensor || tensor.Device.Id != from.Device.Id || !target.MemorySpace.IsHost)
        {
            throw new BackendException(IlgpuBackend.BackendName, $"{Description}: got a {source.GetType().Name} of {source.Device.Id} for {target.Id}");
        }
        if (tensor.HostCopy is { } hostCopy) return new HostTensor(hostCopy);
        lock (from.Gate)
        {
            from.Synchronize();
            var lease = tensor.Alias(tensor.Shape);
            var pointer = tensor.ByteLength == 0 ? 0 : lease.Buffer.Bytes.LoadEffectiveAddressAsPtr();
            return new HostTensor(AccelTensor.WrapBackendMemory(tensor.ElementType, tensor.Shape, pointer, lease), ownsValue: true);
        }
    }
}

/// <summary>
/// Another runtime's tensor on the same CUDA device (ONNX Runtime's <c>ort-cuda:N</c> output) copied device to device
/// into a pooled buffer of <c>ilgpu-cuda:N</c>: one copy on the GPU, queued on the accelerator's stream ahead of the
/// kernels that read it, where staging would download and upload over PCIe. The source is read through its device
/// address (<see cref="IDeviceAddressable"/>) once its runtime has finished writing it. On a host-addressable accelerator
/// (the CPU analogue tested on machines without a GPU) the copy is a memory copy.
/// </summary>
internal sealed class PeerCopyTransfer(IlgpuDeviceSlot to) : ITransferPath
{
    public string Description => $"ilgpu: device-to-device copy into {to.Device.Id}";

    public int Copies => 1;

    /// <summary>The path from another runtime's device into <paramref name="to"/>, when both are the same CUDA device.</summary>
    public static PeerCopyTransfer? Into(Device from, IlgpuDeviceSlot to) =>
        Applies(from, to.Device) ? new PeerCopyTransfer(to) : null;

    /// <summary>Both on one CUDA device (same ordinal) in two runtimes' memory spaces.</summary>
    public static bool Applies(Device from, Device to) =>
        from.Backend != IlgpuBackend.BackendName && from.MemorySpace.Kind == MemorySpaceKind.CudaDevice && to.MemorySpace.Kind == MemorySpaceKind.CudaDevice
        && from.MemorySpace != to.MemorySpace && from.MemorySpace.SharesPhysicalMemoryWith(to.MemorySpace);

    public unsafe DeviceTensor Copy(DeviceTensor source, Device target)
    {
        if (source is not IDeviceAddressable addressable || target.Id != to.Device.Id)
        {
            throw new BackendException(IlgpuBackend.BackendName, $"{Description}: got a {source.GetType().Name} of {source.Device.Id} for {target.Id}; it takes a tensor with a device address");
        }
        if (source.ElementType is ElementType.String or ElementType.Undefined)
        {
            throw new BackendException(IlgpuBackend.BackendName, $"{Description}: a {source.ElementType.ShortName()} tensor of {source.Device.Id} has no dense device data to copy");
        }
        var bytes = source.ByteLength;
        addressable.WaitUntilWritten();
        lock (to.Gate)
        {
            var buffer = to.Pool.Rent(bytes, $"tensor copied from {source.Device.Id} ({source.ElementType.ShortName()}{TensorShape.Format(source.Shape)})");
            try
            {
                if (bytes > 0) CopyBytes(addressable.DataAddress, buffer.Address, bytes);
            }
            catch
            {
                buffer.Release();
                throw;
            }
            return new IlgpuTensor(to.Device, source.ElementType, (long[])source.Shape.Clone(), buffer);
        }
    }

    private unsafe void CopyBytes(nint from, nint into, long bytes)
    {
        if (to.Device.MemorySpace.IsHostAddressable)
        {
            System.Buffer.MemoryCopy((void*)from, (void*)into, bytes, bytes);
            return;
        }
        // A raw driver call: the accelerator's CUDA context must be current on this thread (ILGPU's own calls bind it).
        using var binding = to.Accelerator.BindScoped();
        var status = ILGPU.Runtime.Cuda.CudaAPI.CurrentAPI.MemcpyAsync(into, from, (nint)bytes, to.Accelerator.DefaultStream);
        if (status != ILGPU.Runtime.Cuda.CudaError.CUDA_SUCCESS)
        {
            throw new BackendException(IlgpuBackend.BackendName, $"{Description}: cuMemcpyAsync of {bytes} bytes failed with {status}");
        }
    }
}
