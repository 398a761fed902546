using AccelSdk.Backends;
using AccelSdk.Ir;
using ILGPU;
using ILGPU.Runtime;
using Device = AccelSdk.Backends.Device;

namespace AccelSdk.Ilgpu.Runtime;

using Accelerator = ILGPU.Runtime.Accelerator;

/// <summary>
/// One ILGPU accelerator behind an AccelSdk <see cref="Device"/>: created on first use, then shared by every partition
/// compiled for the device together with its buffer pool and kernel cache. Launches are serialised by <see cref="Gate"/>
/// because an ILGPU accelerator stream is not safe for concurrent use.
/// </summary>
internal sealed class IlgpuDeviceSlot : IDisposable
{
    private readonly Func<Accelerator> _create;
    private Accelerator? _accelerator;
    private BufferPool? _pool;
    private KernelCache? _kernels;

    public IlgpuDeviceSlot(Device device, Func<Accelerator> create)
    {
        Device = device;
        _create = create;
    }

    public Device Device { get; }

    public object Gate { get; } = new();

    public bool IsCpu => Device.Kind == DeviceKind.Cpu;

    /// <summary>
    /// Why the accelerator cannot hold a value of this node at all, or null: float16 needs the accelerator's Float16
    /// capability on OpenCL (cl_khr_fp16; PoCL on this CPU lacks it and ILGPU fails to compile such kernels there);
    /// ILGPU's CPU and CUDA accelerators always have it.
    /// </summary>
    public string? UnsupportedElementType(Node node, NodeContext context)
    {
        try
        {
            _float16 ??= Accelerator.Capabilities switch
            {
                ILGPU.Runtime.OpenCL.CLCapabilityContext cl => cl.Float16,
                _ => true,
            };
            if (_float16.Value) return null;
        }
        catch (BackendException)
        {
            return null; // the accelerator cannot be created: Compile reports that with ILGPU's reason
        }
        foreach (var name in node.Inputs.Concat(node.Outputs))
        {
            if (name.Length > 0 && context.TensorTypeOf(name)?.ElementType == ElementType.Float16)
            {
                return $"{Device.Id}: '{name}' is float16 and this accelerator has no float16 support (ILGPU capability Float16)";
            }
        }
        return null;
    }

    private bool? _float16;

    /// <summary>ILGPU's own CPU accelerator: its buffers are pinned host memory that kernels may address directly.</summary>
    public bool IsCpuAccelerator => Accelerator.AcceleratorType == AcceleratorType.CPU;

    public Accelerator Accelerator
    {
        get
        {
            lock (Gate)
            {
                if (_accelerator is null)
                {
                    try
                    {
                        _accelerator = _create();
                    }
                    catch (Exception e) when (e is not OutOfMemoryException)
                    {
                        throw new BackendException("ilgpu", $"{Device.Id}: ILGPU could not create the accelerator: {e.Message}", e);
                    }
                }
                return _accelerator;
            }
        }
    }

    /// <summary>Waits for every kernel and copy queued on the accelerator, and counts the wait (tests check where runs wait).</summary>
    public void Synchronize()
    {
        Accelerator.Synchronize();
        Interlocked.Increment(ref _synchronizations);
    }

    private long _synchronizations;

    private void SynchronizeUnderGate()
    {
        lock (Gate) Synchronize();
    }

    /// <summary>How many times <see cref="Synchronize"/> waited for the accelerator.</summary>
    public long Synchronizations => Interlocked.Read(ref _synchronizations);

    public BufferPool Pool
    {
        get
        {
            lock (Gate) return _pool ??= new BufferPool(Accelerator, Device.Id, BufferPool.CapacityOf(Accelerator)) { WaitForQueue = SynchronizeUnderGate };
        }
    }

    public KernelCache Kernels
    {
        get
        {
            lock (Gate) return _kernels ??= new KernelCache(Accelerator);
        }
    }

    public void Dispose()
    {
        lock (Gate)
        {
            _pool?.Dispose();
            _accelerator?.Dispose();
            _pool = null;
            _kernels = null;
            _accelerator = null;
        }
    }
}

internal static class DeviceSlotTransfers
{
    /// <summary>Throws a <see cref="BackendException"/> naming the tensor when its element type cannot live on an accelerator.</summary>
    public static void CheckStorable(IlgpuDeviceSlot slot, AccelTensor host)
    {
        if (host.IsString) throw new BackendException("ilgpu", $"{slot.Device.Id}: string tensors cannot live on an ILGPU accelerator ('{host.Name}')");
        var size = host.ElementType.SizeInBytes();
        if (size is not (1 or 2 or 4 or 8))
        {
            throw new BackendException("ilgpu", $"{slot.Device.Id}: element type {host.ElementType.ShortName()} of '{host.Name}' is not supported");
        }
    }

    public static unsafe IlgpuTensor Upload(this IlgpuDeviceSlot slot, AccelTensor host)
    {
        CheckStorable(slot, host);
        lock (slot.Gate)
        {
            var buffer = slot.Pool.Rent(host.ByteLength, $"tensor '{host.Name}' ({host.ElementType.ShortName()}{TensorShape.Format(host.Shape)})");
            if (host.ByteLength > 0)
            {
                // From the address, not a span: wrapped and native storage may be larger than a span addresses.
                buffer.Bytes.CopyFromCPU(ref *(byte*)host.DataPointer, host.ByteLength);
                GC.KeepAlive(host);
            }
            // Small integer tensors (shapes, axes, indices) keep a host copy so shape arithmetic never waits for the device.
            var keepHostCopy = host.ElementCount <= 64 && host.ElementType is ElementType.Int64 or ElementType.Int32;
            return new IlgpuTensor(slot.Device, host.ElementType, host.ShapeArray, buffer, keepHostCopy ? host : null);
        }
    }

    /// <summary>Copies a device tensor into a host tensor of the same type and size (any host storage, no intermediate copy).</summary>
    public static unsafe void DownloadInto(this IlgpuDeviceSlot slot, IlgpuTensor tensor, AccelTensor host)
    {
        if (tensor.HostCopy is { } copy)
        {
            copy.CopyTo(host);
            return;
        }
        if (host.ByteLength == 0) return;
        lock (slot.Gate)
        {
            slot.Synchronize();
            tensor.Buffer.Bytes.CopyToCPU(ref *(byte*)host.DataPointer, host.ByteLength);
            GC.KeepAlive(host);
        }
    }

    public static AccelTensor Download(this IlgpuDeviceSlot slot, IlgpuTensor tensor)
    {
        if (tensor.HostCopy is { } copy) return AccelTensor.FromBytes(copy.ElementType, copy.Shape, copy.Bytes);
        var host = AccelTensor.Zeros(tensor.ElementType, tensor.Shape);
        if (host.ByteLength == 0) return host;
        lock (slot.Gate)
        {
            slot.Synchronize();
            tensor.Buffer.Bytes.CopyToCPU(ref host.Bytes[0], host.ByteLength);
        }
        return host;
    }
}
