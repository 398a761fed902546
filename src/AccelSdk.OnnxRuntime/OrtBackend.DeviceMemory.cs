using AccelSdk.Backends;
using AccelSdk.Ir;
using Microsoft.ML.OnnxRuntime;

namespace AccelSdk.OnnxRuntime;

/// <summary>
/// Device memory of execution providers that have it: <c>ort-cuda:N</c> and <c>ort-tensorrt:N</c> live in the memory
/// space <c>ort-cuda:N</c> (CUDA device N as ONNX Runtime allocates it, so both providers on one GPU share tensors);
/// every other ORT device is in host memory. Tensors there are <see cref="OrtDeviceTensor"/>s allocated through the
/// provider's <see cref="OrtEpDevice"/> (an environment-wide shared allocator) and copied with
/// <see cref="OrtEnv.CopyTensors"/>. No GPU here: this path is untested on this machine.
/// </summary>
public sealed partial class OrtBackend
{
    /// <summary>Shared allocators are the environment's (process-wide), so they are kept per device id for the process.</summary>
    private static readonly Dictionary<string, OrtAllocator> DeviceAllocators = new(StringComparer.Ordinal);

    /// <summary>The memory space of a device of <paramref name="provider"/> on GPU <paramref name="gpu"/>.</summary>
    internal static MemorySpace SpaceOf(string provider, int gpu) => provider is "CUDAExecutionProvider" or "TensorrtExecutionProvider"
        ? MemorySpace.CudaDevice(gpu, $"ort-cuda:{gpu}")
        : MemorySpace.Host;

    /// <summary>The OrtMemoryInfo of <paramref name="device"/>'s own memory, or null for a device in host memory.</summary>
    internal OrtMemoryInfo? DeviceMemoryOf(Device device)
    {
        if (device.MemorySpace.IsHost || !_targets.TryGetValue(device.Id, out var target)) return null;
        var info = target.MemoryDevice?.GetMemoryInfo(OrtDeviceMemoryType.DEFAULT);
        return info is { IsInvalid: false } ? info : null;
    }

    private DeviceTensor UploadToDevice(Device device, AccelTensor host)
    {
        if (host.IsString) throw new BackendException(Name, $"tensor '{host.Name}': string tensors stay in host memory; {device.Id} takes numeric tensors");
        var allocator = AllocatorOf(device);
        var value = OrtValue.CreateAllocatedTensorValue(allocator, (Microsoft.ML.OnnxRuntime.Tensors.TensorElementType)(int)host.ElementType, host.ShapeArray);
        try
        {
            using var source = OrtPartition.ToOrtValue(host);
            OrtEnv.Instance().CopyTensors([source], [value], null);
            GC.KeepAlive(host);
            return new OrtDeviceTensor(device, value, host.ElementType, host.ShapeArray);
        }
        catch (OnnxRuntimeException e)
        {
            value.Dispose();
            throw new BackendException(Name, $"copying '{host.Name}' onto {device.Id}: {FirstLine(e.Message)}", e);
        }
    }

    private AccelTensor DownloadFromDevice(OrtDeviceTensor tensor)
    {
        // Memory the host can read (CPU, or a provider's host-accessible memory) is copied with a plain memory copy;
        // ORT's CopyTensors only knows the data transfers of registered EP libraries (CPU to CPU is not one of them).
        if (tensor.Value.GetTensorMemoryInfo().GetDeviceType() == OrtMemoryInfoDeviceType.CPU) return OrtPartition.FromOrtValue(tensor.Value, "");
        var host = AccelTensor.Zeros(tensor.ElementType, tensor.Shape);
        using var target = OrtPartition.ToOrtValue(host);
        try
        {
            OrtEnv.Instance().CopyTensors([tensor.Value], [target], null);
        }
        catch (OnnxRuntimeException e)
        {
            throw new BackendException(Name, $"copying a tensor from {tensor.Device.Id} to the host: {FirstLine(e.Message)}", e);
        }
        GC.KeepAlive(host);
        return host;
    }

    /// <summary>The environment's shared allocator of the device's memory, created on first use.</summary>
    private OrtAllocator AllocatorOf(Device device)
    {
        lock (DeviceAllocators)
        {
            if (DeviceAllocators.TryGetValue(device.Id, out var allocator)) return allocator;
            if (!_targets.TryGetValue(device.Id, out var target) || target.MemoryDevice is not { } epDevice)
            {
                throw new BackendException(Name, $"{device.Id}: ONNX Runtime lists no EP device whose memory AccelSdk could allocate");
            }
            try
            {
                allocator = OrtEnv.Instance().CreateSharedAllocator(epDevice, OrtDeviceMemoryType.DEFAULT, OrtAllocatorType.DeviceAllocator, null);
            }
            catch (OnnxRuntimeException e)
            {
                throw new BackendException(Name, $"{device.Id}: no allocator for its memory: {FirstLine(e.Message)}", e);
            }
            DeviceAllocators[device.Id] = allocator;
            return allocator;
        }
    }
}
