using AccelSdk.Backends;
using AccelSdk.Ilgpu.Runtime;
using AccelSdk.Ir;
using Xunit;
using Device = AccelSdk.Backends.Device;

namespace AccelSdk.Ilgpu.Tests;

/// <summary>
/// Issue 11: ILGPU takes another runtime's tensor on the same CUDA device (an <c>ort-cuda:N</c> output) with one
/// device-to-device copy into its pool (<see cref="PeerCopyTransfer"/>). No GPU here: the selection logic on device
/// descriptions, and the copy on the CPU accelerator, where it is a memory copy from the source's address. The CUDA
/// copy is the GPU check's <c>direct-paths</c> stage. Each test takes well under a second.
/// </summary>
public sealed class PeerCopyTransferTests
{
    private static Device Gpu(string backend, string id, int ordinal) => new(backend, id, id, DeviceKind.Gpu, MemorySpace.CudaDevice(ordinal, id));

    [Fact]
    public void The_copy_is_offered_only_from_another_runtime_on_the_same_CUDA_device()
    {
        var ort0 = Gpu("ort", "ort-cuda:0", 0);
        Assert.True(PeerCopyTransfer.Applies(ort0, Gpu(IlgpuBackend.BackendName, "ilgpu-cuda:0", 0)));
        Assert.False(PeerCopyTransfer.Applies(ort0, Gpu(IlgpuBackend.BackendName, "ilgpu-cuda:1", 1)));
        Assert.False(PeerCopyTransfer.Applies(Gpu(IlgpuBackend.BackendName, "ilgpu-cuda:0", 0), Gpu(IlgpuBackend.BackendName, "ilgpu-cuda:0b", 0))); // ILGPU to ILGPU has its own path
        Assert.False(PeerCopyTransfer.Applies(new Device("ort", "ort-cpu", "cpu", DeviceKind.Cpu), Gpu(IlgpuBackend.BackendName, "ilgpu-cuda:0", 0)));

        using var backend = new IlgpuBackend(openClOptIn: null);
        var cpu = backend.Devices.Single(d => d.Id == "ilgpu-cpu");
        Assert.Null(backend.TryGetTransfer(ort0, cpu)); // CUDA memory is not the CPU accelerator's
        Assert.Equal(0, backend.TryGetTransfer(new Device("ort", "ort-cpu", "cpu", DeviceKind.Cpu), cpu)!.Copies); // host memory: still read in place
    }

    [Fact]
    public void A_tensor_is_copied_from_its_device_address_into_a_pooled_buffer_after_its_writer_finished()
    {
        using var producerBackend = new IlgpuBackend(openClOptIn: null);
        using var backend = new IlgpuBackend(openClOptIn: null);
        var producerDevice = producerBackend.Devices.Single(d => d.Id == "ilgpu-cpu");
        var device = backend.Devices.Single(d => d.Id == "ilgpu-cpu");
        var data = Enumerable.Range(0, 1000).Select(i => i * 0.5f - 100f).ToArray();
        using var host = AccelTensor.Create(data, 10, 100);
        using var source = (IlgpuTensor)producerBackend.Upload(producerDevice, host);
        Assert.NotEqual(0, source.DataAddress);
        var waits = producerBackend.SlotOf(producerDevice).Synchronizations;

        var path = new PeerCopyTransfer(backend.SlotOf(device));
        Assert.Equal(1, path.Copies);
        using var copied = Assert.IsType<IlgpuTensor>(path.Copy(source, device));
        Assert.True(producerBackend.SlotOf(producerDevice).Synchronizations > waits); // waited for the producer's queue
        Assert.NotEqual(source.DataAddress, copied.DataAddress);
        Assert.Equal(new long[] { 10, 100 }, copied.Shape);
        Assert.Equal(data, backend.Download(copied).ToArray<float>());
        Assert.Equal(1, backend.PoolStatistics(device).Outstanding);

        var e = Assert.Throws<BackendException>(() => path.Copy(new HostTensor(host), device));
        Assert.Contains("it takes a tensor with a device address", e.Message);
    }
}
