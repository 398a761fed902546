using AccelSdk.Backends;
using AccelSdk.Execution;
using AccelSdk.Ir;
using Xunit;
using Xunit.Abstractions;

namespace AccelSdk.Ilgpu.Tests;

public class DeviceTests(ITestOutputHelper output)
{
    [Fact]
    public void CpuAcceleratorIsAlwaysAnAvailableDeviceWithItsOwnMemorySpace()
    {
        var cpu = Shared.Cpu;
        Assert.True(cpu.IsAvailable);
        Assert.Equal("ilgpu", cpu.Backend);
        Assert.Equal(DeviceKind.Cpu, cpu.Kind);
        Assert.Equal(MemorySpace.BackendPrivate("ilgpu-cpu", hostAddressable: true), cpu.MemorySpace);
        Assert.Equal("ilgpu-cpu", cpu.MemorySpace.Name);
        Assert.Equal("1.5.3", cpu.Properties["ilgpu.version"]);
    }

    [Fact]
    public void DiscoveryFindsTheBackendThroughTheExtensionAttribute()
    {
        Assert.Contains(AccelRuntime.Default.Backends, p => p.Name == "ilgpu");
    }

    [Fact]
    public void EveryUnavailableDeviceSaysWhy()
    {
        foreach (var d in Shared.Backend.Devices)
        {
            output.WriteLine($"{d.Id}: {(d.IsAvailable ? "available" : d.UnavailableReason)}");
            if (!d.IsAvailable) Assert.False(string.IsNullOrWhiteSpace(d.UnavailableReason));
        }
    }

    [Fact]
    public void OpenClDevicesAppearOnlyWhenOptedIn()
    {
        Assert.DoesNotContain(Shared.Backend.Devices, d => d.Id.StartsWith("ilgpu-opencl", StringComparison.Ordinal));
        // DeviceDiscovery reads the variable once per backend instance; this instance is private to the test.
        Environment.SetEnvironmentVariable("ACCELSDK_ILGPU_OPENCL", "1");
        try
        {
            using var backend = new IlgpuBackend();
            var openCl = backend.Devices.Where(d => d.Id.StartsWith("ilgpu-opencl:", StringComparison.Ordinal)).ToArray();
            Assert.NotEmpty(openCl);
            foreach (var d in openCl)
            {
                output.WriteLine($"{d.Id} {d.Name}: {(d.IsAvailable ? "available" : d.UnavailableReason)}");
                Assert.True(d.IsAvailable || !string.IsNullOrWhiteSpace(d.UnavailableReason));
            }
        }
        finally
        {
            Environment.SetEnvironmentVariable("ACCELSDK_ILGPU_OPENCL", null);
        }
    }

    [Fact]
    public void UploadDownloadRoundTripsAndPooledBuffersAreReusedAndReleased()
    {
        // A private backend: its accelerator and pool see no other test's traffic.
        using var backend = new IlgpuBackend();
        var cpu = backend.Devices.Single(d => d.Id == "ilgpu-cpu");
        var data = Enumerable.Range(0, 1000).Select(i => i * 0.5f).ToArray();
        var host = AccelTensor.Create(data, 10, 100);
        using (var t = backend.Upload(cpu, host))
        {
            Assert.IsType<Runtime.IlgpuTensor>(t);
            Assert.Equal("ilgpu-cpu", t.Device.MemorySpace.Name);
            Assert.Equal(data, backend.Download(t).ToArray<float>());
            Assert.Equal(1, backend.PoolStatistics(cpu).Outstanding);
        }
        Assert.Equal(0, backend.PoolStatistics(cpu).Outstanding);
        using (var again = backend.Upload(cpu, host))
        {
            var stats = backend.PoolStatistics(cpu);
            Assert.Equal(1, stats.Allocations);
            Assert.Equal(1, stats.Reuses);
        }
    }

    [Fact]
    public void RepeatedRunsReuseBuffersAndReturnThemAll()
    {
        using var backend = new IlgpuBackend();
        var cpu = backend.Devices.Single(d => d.Id == "ilgpu-cpu");
        var model = TinyModels.ConvRelu();
        var input = SampleInputs.Random(model, seed: 3);
        float[] first;
        using (var session = new AccelSession(GraphPartitioner.WholeModel(model, backend, cpu)))
        {
            first = session.Run(input)[0].ToArray<float>();
            var afterFirst = backend.PoolStatistics(cpu);
            Assert.Equal(first, session.Run(input)[0].ToArray<float>());
            var afterSecond = backend.PoolStatistics(cpu);
            Assert.Equal(afterFirst.Allocations, afterSecond.Allocations);
            Assert.True(afterSecond.Reuses > afterFirst.Reuses);
            // Between runs only the session's constants (the weights) are held.
            Assert.Equal(1, afterSecond.Outstanding);
        }
        Assert.Equal(0, backend.PoolStatistics(cpu).Outstanding);
    }

    [Fact]
    public void KernelCompileTimeIsMeasuredAndCachedPerAccelerator()
    {
        var model = TinyModels.ConvRelu();
        using var first = Shared.Backend.Compile(Shared.Cpu, model, new CompileOptions());
        var kernels = Shared.Backend.CompiledKernels(Shared.Cpu);
        Assert.Contains(kernels, k => k.Name == "PackedMicroKernel");
        Assert.All(kernels, k => Assert.True(k.CompileTime > TimeSpan.Zero));
        using var second = (Runtime.IlgpuPartition)Shared.Backend.Compile(Shared.Cpu, model, new CompileOptions());
        // Everything the model needs was compiled by the first partition: the second one compiles nothing.
        Assert.Equal(TimeSpan.Zero, second.KernelCompileTime);
    }
}
