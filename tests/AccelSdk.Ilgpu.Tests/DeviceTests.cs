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
        Assert.Equal("ilgpu-cpu", cpu.MemorySpace);
        Assert.Equal("1.5.3", cpu.Properties["ilgpu.version"]);
    }

    [Fact]
    public void DiscoveryFindsTheBackendThroughTheExtensionAttribute()
    {
        Assert.Contains(ExtensionRegistry.BackendProviders, p => p.Name == "ilgpu");
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
        var data = Enumerable.Range(0, 1000).Select(i => i * 0.5f).ToArray();
        var host = Tensor.Create(data, 10, 100);
        var before = Shared.Backend.PoolStatistics(Shared.Cpu);
        using (var t = Shared.Backend.Upload(Shared.Cpu, host))
        {
            Assert.IsType<Runtime.IlgpuTensor>(t);
            Assert.Equal("ilgpu-cpu", t.Device.MemorySpace);
            Assert.Equal(data, Shared.Backend.Download(t).ToArray<float>());
        }
        using (var again = Shared.Backend.Upload(Shared.Cpu, host))
        {
            var after = Shared.Backend.PoolStatistics(Shared.Cpu);
            Assert.True(after.Reuses > before.Reuses, "the second upload of the same size should reuse the released buffer");
        }
    }

    [Fact]
    public void RepeatedRunsReuseBuffersAndReturnThemAll()
    {
        var model = TinyModels.ConvRelu();
        using var session = new AccelSession(GraphPartitioner.WholeModel(model, Shared.Backend, Shared.Cpu));
        var input = SampleInputs.Random(model, seed: 3);
        session.Run(input);
        var afterFirst = Shared.Backend.PoolStatistics(Shared.Cpu);
        var first = session.Run(input)[0].ToArray<float>();
        var afterSecond = Shared.Backend.PoolStatistics(Shared.Cpu);
        Assert.Equal(afterFirst.Allocations, afterSecond.Allocations);
        Assert.True(afterSecond.Reuses > afterFirst.Reuses);
        Assert.Equal(first, session.Run(input)[0].ToArray<float>());
    }

    [Fact]
    public void KernelCompileTimeIsMeasuredAndCachedPerAccelerator()
    {
        var model = TinyModels.ConvRelu();
        using var first = Shared.Backend.Compile(Shared.Cpu, model, new CompileOptions());
        var kernels = Shared.Backend.CompiledKernels(Shared.Cpu);
        Assert.Contains(kernels, k => k.Name == "MatMulBlocked");
        Assert.All(kernels, k => Assert.True(k.CompileTime > TimeSpan.Zero));
        using var second = (Runtime.IlgpuPartition)Shared.Backend.Compile(Shared.Cpu, model, new CompileOptions());
        // Everything the model needs was compiled by the first partition: the second one compiles nothing.
        Assert.Equal(TimeSpan.Zero, second.KernelCompileTime);
    }
}
