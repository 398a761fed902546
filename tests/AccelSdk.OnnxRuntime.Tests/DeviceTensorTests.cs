using AccelSdk.Backends;
using AccelSdk.Ir;
using AccelSdk.Onnx;
using Microsoft.ML.OnnxRuntime;

namespace AccelSdk.OnnxRuntime.Tests;

/// <summary>
/// Issue 11: device-resident ORT tensors. No GPU here, so the device path runs with ONNX Runtime's CPU memory standing
/// in for CUDA memory: the same binding code (inputs bound as OrtValues, outputs left where ORT put them and owned by
/// one <see cref="OrtDeviceTensor"/> each, copied back with OrtEnv.CopyTensors) on real ORT.
/// </summary>
public class DeviceTensorTests
{
    private static Model Relu() => OneNodeModels.Relu(new TensorShape(2, 2), new TensorShape(2, 2));

    [Fact]
    public void A_partition_on_device_memory_keeps_outputs_there_and_takes_them_back_without_a_copy()
    {
        using var backend = new OrtBackend();
        var device = new Device(OrtBackend.BackendName, "ort-standin:0", "CPU memory standing in for a GPU's", DeviceKind.Gpu, MemorySpace.CudaDevice(0, "ort-standin:0"));
        var model = Relu();
        using var session = new InferenceSession(OnnxExporter.ToBytes(model));
        using var partition = new OrtPartition(device, session, model, TimeSpan.Zero, deviceMemory: OrtMemoryInfo.DefaultInstance);

        using var x = AccelTensor.Create(new[] { -1f, 2f, -3f, 4f }, 2, 2);
        var first = Assert.IsType<OrtDeviceTensor>(Assert.Single(partition.Run([new HostTensor(x)])));
        Assert.Equal(device, first.Device);
        Assert.Equal(new long[] { 2, 2 }, first.Shape);

        // Fed back in: bound as the OrtValue it is (Relu of Relu).
        var second = Assert.IsType<OrtDeviceTensor>(Assert.Single(partition.Run([first])));
        Assert.Equal(new[] { 0f, 2f, 0f, 4f }, backend.Download(second).ToArray<float>());

        first.Dispose();
        first.Dispose(); // one owner, released once
        Assert.Throws<ObjectDisposedException>(() => first.Value);
        Assert.Equal(new[] { 0f, 2f, 0f, 4f }, backend.Download(second).ToArray<float>());
        second.Dispose();
    }

    [Fact]
    public void A_tensor_on_another_memory_space_is_refused_naming_both()
    {
        using var backend = new OrtBackend();
        var device = new Device(OrtBackend.BackendName, "ort-standin:0", "stand-in", DeviceKind.Gpu, MemorySpace.CudaDevice(0, "ort-standin:0"));
        var other = new Device(OrtBackend.BackendName, "ort-standin:1", "stand-in", DeviceKind.Gpu, MemorySpace.CudaDevice(1, "ort-standin:1"));
        var model = Relu();
        using var session = new InferenceSession(OnnxExporter.ToBytes(model));
        using var partition = new OrtPartition(device, session, model, TimeSpan.Zero, deviceMemory: OrtMemoryInfo.DefaultInstance);
        using var x = AccelTensor.Create(new[] { -1f, 2f, -3f, 4f }, 2, 2);
        using var elsewhere = new OrtDeviceTensor(other, OrtPartition.ToOrtValue(x), ElementType.Float32, [2, 2]);
        var e = Assert.Throws<BackendException>(() => partition.Run([elsewhere]));
        Assert.Contains("is on ort-standin:1 (ort-standin:1), not on ort-standin:0", e.Message);
    }

    [Fact]
    public void Ort_devices_in_host_memory_upload_as_host_tensors_and_cuda_devices_name_their_gpu_space()
    {
        using var backend = new OrtBackend();
        using var x = AccelTensor.Create(new[] { 1f }, 1);
        Assert.IsType<HostTensor>(backend.Upload(backend.CpuDevice, x));
        Assert.True(backend.CpuDevice.MemorySpace.IsHost);
        Assert.Equal(MemorySpace.CudaDevice(1, "ort-cuda:1"), OrtBackend.SpaceOf("CUDAExecutionProvider", 1));
        Assert.Equal(OrtBackend.SpaceOf("CUDAExecutionProvider", 1), OrtBackend.SpaceOf("TensorrtExecutionProvider", 1));
        Assert.True(OrtBackend.SpaceOf("CUDAExecutionProvider", 1).SharesPhysicalMemoryWith(MemorySpace.CudaDevice(1, "ilgpu-cuda:1")));
        Assert.True(OrtBackend.SpaceOf("DnnlExecutionProvider", 0).IsHost);
    }
}
