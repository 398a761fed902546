using System.Diagnostics;
using AccelSdk.Backends;
using AccelSdk.Ilgpu.Runtime;
using AccelSdk.Ir;

namespace AccelSdk.GpuCheck.Stages;

/// <summary>
/// Issue 11's direct paths on the GPU. Always: the device's tensors expose a device address, and ILGPU's
/// device-to-device copy (<see cref="PeerCopyTransfer"/>, what an <c>ort-cuda:N</c> output takes into <c>ilgpu-cuda:N</c>)
/// copies a 64 MiB tensor bit for bit, timed next to staging the same tensor through host memory. With an available
/// <c>ort-cuda:0</c> (the GPU flavour of ONNX Runtime; the carried runner has the CPU build, so this part reports itself
/// skipped): the paths each backend offers between <c>ilgpu-cuda:0</c> and <c>ort-cuda:0</c>, run both ways.
/// </summary>
internal static class DirectPathStage
{
    private const int Elements = 16 << 20;
    private const int Repeats = 10;

    public static void Run(CheckContext context, StageReport report)
    {
        var (backend, device) = context.Device;
        var data = Enumerable.Range(0, Elements).Select(i => (float)(i % 1009) - 504f).ToArray();
        using var host = AccelTensor.Create(data, Elements);
        using var source = (IlgpuTensor)backend.Upload(device, host);
        if (source.DataAddress == 0) report.Fail($"{device.Id}: a 64 MiB tensor has no device address");
        var peer = new PeerCopyTransfer(backend.SlotOf(device));
        using (var warm = peer.Copy(source, device)) backend.Download(warm);
        var copyMs = Time(() =>
        {
            using var copied = peer.Copy(source, device);
            ((IDeviceAddressable)copied).WaitUntilWritten();
        });
        using (var copied = peer.Copy(source, device))
        {
            if (!backend.Download(copied).AsSpan<float>().SequenceEqual(data)) report.Fail($"{peer.Description}: the copy differs from its source");
        }
        var stagedMs = Time(() =>
        {
            using var down = backend.Download(source);
            using var up = backend.Upload(device, down);
            ((IDeviceAddressable)up).WaitUntilWritten();
        });
        report.Table(new[] { "move of 64 MiB on " + device.Id, "median ms", "copies" }, new IReadOnlyList<string>[]
        {
            new[] { "device-to-device copy (PeerCopyTransfer)", Format.F(copyMs, 3), "1" },
            new[] { "staged through host memory (download + upload)", Format.F(stagedMs, 3), "2" },
        });
        report.Json["copy_ms"] = copyMs;
        report.Json["staged_ms"] = stagedMs;
        OrtCudaPaths(context, report, backend, device, source, data);
    }

    private static void OrtCudaPaths(CheckContext context, StageReport report, IBackend ilgpu, Device device, IlgpuTensor source, float[] data)
    {
        var ortCuda = GpuCheckRuntime.Instance.Devices.FirstOrDefault(d => d.Id == "ort-cuda:0");
        if (ortCuda is not { IsAvailable: true } || device.MemorySpace.Kind != MemorySpaceKind.CudaDevice)
        {
            var why = $"ILGPU <-> ONNX Runtime CUDA not run: {(ortCuda is null ? "no ort-cuda:0 listed (the carried runner has ONNX Runtime's CPU build)" : ortCuda.UnavailableReason ?? $"{device.Id} is not a CUDA device")}";
            report.Line(why);
            report.Json["ort_cuda"] = why;
            return;
        }
        var (ort, _) = GpuCheckRuntime.Instance.Resolve(ortCuda.Id);
        var into = ort.TryGetTransfer(device, ortCuda);
        var back = ilgpu.TryGetTransfer(ortCuda, device);
        if (into is not { Copies: 0 }) report.Fail($"ort offers no in-place path from {device.Id} to {ortCuda.Id} ({into?.Description ?? "none"})");
        if (back is null) report.Fail($"ilgpu offers no path from {ortCuda.Id} to {device.Id}");
        if (into is null || back is null) return;
        using var wrapped = into.Copy(source, ortCuda);
        if (((IDeviceAddressable)wrapped).DataAddress != source.DataAddress) report.Fail($"{into.Description}: the OrtValue is not over the ILGPU buffer");
        if (!ort.Download(wrapped).AsSpan<float>().SequenceEqual(data)) report.Fail($"{into.Description}: ONNX Runtime reads other data");
        using var returned = back.Copy(wrapped, device);
        if (!ilgpu.Download(returned).AsSpan<float>().SequenceEqual(data)) report.Fail($"{back.Description}: the copy differs");
        report.Line($"{into.Description} and {back.Description}: 64 MiB both ways, bit for bit.");
        report.Json["ort_cuda"] = "passed";
    }

    private static double Time(Action action)
    {
        var times = new double[Repeats];
        for (var i = 0; i < Repeats; i++)
        {
            var start = Stopwatch.GetTimestamp();
            action();
            times[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }
        Array.Sort(times);
        return times[Repeats / 2];
    }
}
