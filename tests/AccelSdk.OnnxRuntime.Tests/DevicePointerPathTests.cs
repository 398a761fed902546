using AccelSdk.Backends;
using AccelSdk.Ir;
using AccelSdk.Onnx;
using Microsoft.ML.OnnxRuntime;

namespace AccelSdk.OnnxRuntime.Tests;

/// <summary>
/// Issue 11: ONNX Runtime takes another runtime's tensor on the same CUDA device as an OrtValue over its device pointer
/// (<see cref="DevicePointerTransfer"/>, 0 copies). No GPU here: the selection logic on device descriptions, and the
/// wrapping itself on real ONNX Runtime with host memory and ORT's CPU memory info standing in for CUDA's. The CUDA case
/// is the GPU check's <c>direct-paths</c> stage. Each test takes well under a second.
/// </summary>
public class DevicePointerPathTests
{
    private static Device Gpu(string backend, string id, int ordinal) => new(backend, id, id, DeviceKind.Gpu, MemorySpace.CudaDevice(ordinal, id));

    [Fact]
    public void The_path_is_offered_only_between_two_runtimes_on_the_same_CUDA_device()
    {
        var ilgpu0 = Gpu("ilgpu", "ilgpu-cuda:0", 0);
        var ort0 = new Device(OrtBackend.BackendName, "ort-cuda:0", "CUDA 0", DeviceKind.Gpu, OrtBackend.SpaceOf("CUDAExecutionProvider", 0));
        var trt0 = new Device(OrtBackend.BackendName, "ort-tensorrt:0", "TensorRT 0", DeviceKind.Gpu, OrtBackend.SpaceOf("TensorrtExecutionProvider", 0));
        var ort1 = new Device(OrtBackend.BackendName, "ort-cuda:1", "CUDA 1", DeviceKind.Gpu, OrtBackend.SpaceOf("CUDAExecutionProvider", 1));
        var ilgpuCpu = new Device("ilgpu", "ilgpu-cpu", "CPU accelerator", DeviceKind.Cpu, MemorySpace.BackendPrivate("ilgpu-cpu", hostAddressable: true));
        Assert.True(DevicePointerTransfer.Applies(ilgpu0, ort0));
        Assert.True(DevicePointerTransfer.Applies(ilgpu0, trt0));
        Assert.False(DevicePointerTransfer.Applies(ilgpu0, ort1)); // another GPU
        Assert.False(DevicePointerTransfer.Applies(ilgpuCpu, ort0)); // not CUDA memory
        Assert.False(DevicePointerTransfer.Applies(trt0, ort0)); // one space: handed over as it is, no transfer

        using var backend = new OrtBackend();
        // This machine lists no ort-cuda:0, so its memory has no OrtMemoryInfo: nothing is offered rather than a path that fails.
        Assert.Null(backend.TryGetTransfer(ilgpu0, ort0));
        Assert.Null(backend.TryGetTransfer(ilgpu0, backend.CpuDevice));
        Assert.Null(backend.TryGetTransfer(ort0, ilgpu0)); // the other direction is ILGPU's to offer (a device-to-device copy)
    }

    [Fact]
    public void Another_runtimes_tensor_is_wrapped_over_its_own_memory_and_run_on_in_place()
    {
        var producer = Gpu("other", "standin-producer:0", 0);
        var device = Gpu(OrtBackend.BackendName, "ort-standin:0", 0);
        using var x = AccelTensor.Create(new[] { -1f, 2f, -3f, 4f }, 2, 2);
        using var source = new OrtDeviceTensor(producer, OrtPartition.ToOrtValue(x), ElementType.Float32, [2, 2]);
        Assert.Equal(x.DataPointer, source.DataAddress);
        Assert.True(DevicePointerTransfer.Applies(producer, device));
        var path = new DevicePointerTransfer(device, OrtMemoryInfo.DefaultInstance);
        Assert.Equal(0, path.Copies);

        using var wrapped = Assert.IsType<OrtDeviceTensor>(path.Copy(source, device));
        Assert.Equal(device, wrapped.Device);
        Assert.Equal(x.DataPointer, wrapped.DataAddress); // the same memory, no copy

        var model = Relu();
        using var session = new InferenceSession(OnnxExporter.ToBytes(model));
        using var partition = new OrtPartition(device, session, model, TimeSpan.Zero, deviceMemory: OrtMemoryInfo.DefaultInstance,
            deviceAllocator: () => OrtAllocator.DefaultInstance);
        using var backend = new OrtBackend();
        using var y = partition.Run([wrapped])[0];
        Assert.Equal(new[] { 0f, 2f, 0f, 4f }, backend.Download(y).ToArray<float>());

        var e = Assert.Throws<BackendException>(() => path.Copy(new HostTensor(x), device));
        Assert.Contains("it takes a tensor with a device address", e.Message);
    }

    private static Model Relu() => OneNodeModels.Relu(new TensorShape(2, 2), new TensorShape(2, 2));
}
