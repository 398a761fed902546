using AccelSdk.Backends;
using AccelSdk.Ir;
using Microsoft.ML.OnnxRuntime;
using TensorElementType = Microsoft.ML.OnnxRuntime.Tensors.TensorElementType;

namespace AccelSdk.OnnxRuntime;

/// <summary>Direct paths into ONNX Runtime's device memory from another runtime on the same GPU.</summary>
public sealed partial class OrtBackend
{
    /// <summary>
    /// A tensor another runtime left on CUDA device N (ILGPU's <c>ilgpu-cuda:N</c>) handed to <c>ort-cuda:N</c> or
    /// <c>ort-tensorrt:N</c> as an OrtValue over the same device pointer (no copy); null for every other pair, which the
    /// session stages through host memory or the other backend's own path.
    /// </summary>
    public ITransferPath? TryGetTransfer(Device from, Device to)
    {
        ArgumentNullException.ThrowIfNull(from);
        ArgumentNullException.ThrowIfNull(to);
        if (to.Backend != Name || from.Backend == Name || !DevicePointerTransfer.Applies(from, to)) return null;
        return DeviceMemoryOf(to) is { } memory ? new DevicePointerTransfer(to, memory) : null;
    }
}

/// <summary>
/// Another runtime's tensor on the same physical memory wrapped as an OrtValue over its device pointer
/// (<see cref="IDeviceAddressable"/>): 0 copies. The wrapped tensor must outlive the result, as it does in a session run
/// (the session releases both when the run ends). On this machine only the CPU analogue runs (host-addressable memory
/// with ORT's CPU memory info); the CUDA case is in the GPU check.
/// </summary>
internal sealed class DevicePointerTransfer(Device to, OrtMemoryInfo memory) : ITransferPath
{
    public string Description => $"ort: device pointer wrapped in place by {to.Id}";

    public int Copies => 0;

    /// <summary>Both devices on one CUDA device (the same ordinal), in two runtimes' memory spaces.</summary>
    public static bool Applies(Device from, Device to) =>
        from.MemorySpace.Kind == MemorySpaceKind.CudaDevice && to.MemorySpace.Kind == MemorySpaceKind.CudaDevice
        && from.MemorySpace != to.MemorySpace && from.MemorySpace.SharesPhysicalMemoryWith(to.MemorySpace);

    public DeviceTensor Copy(DeviceTensor source, Device target)
    {
        if (source is not IDeviceAddressable addressable || target.Id != to.Id)
        {
            throw new BackendException(OrtBackend.BackendName, $"{Description}: got a {source.GetType().Name} of {source.Device.Id} for {target.Id}; it takes a tensor with a device address");
        }
        if (source.ElementType is ElementType.String or ElementType.Undefined)
        {
            throw new BackendException(OrtBackend.BackendName, $"{Description}: a {source.ElementType.ShortName()} tensor of {source.Device.Id} has no dense device data to wrap");
        }
        addressable.WaitUntilWritten();
        var shape = (long[])source.Shape.Clone();
        var value = OrtValue.CreateTensorValueWithData(memory, (TensorElementType)(int)source.ElementType, shape, addressable.DataAddress, source.ByteLength);
        return new OrtDeviceTensor(target, value, source.ElementType, shape, source);
    }
}
