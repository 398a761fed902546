using AccelSdk.Backends;
using AccelSdk.Execution;
using AccelSdk.Ir;
using Microsoft.ML.OnnxRuntime;

namespace AccelSdk.OnnxRuntime.Tests;

/// <summary>Issue 11: devices from ONNX Runtime 1.32's own device API, provider options from the compile settings.</summary>
public class DiscoveryTests
{
    [Fact]
    public void Every_ep_device_ort_reports_is_one_available_device_and_every_listed_provider_has_a_device()
    {
        using var backend = new OrtBackend();
        var env = OrtEnv.Instance();
        var epDevices = env.GetEpDevices();
        Assert.NotEmpty(epDevices);

        var discovered = backend.Devices.Where(d => d.Properties.GetValueOrDefault("discovered_by") == "OrtEnv.GetEpDevices").ToArray();
        Assert.Equal(epDevices.Count, discovered.Length);
        foreach (var group in epDevices.GroupBy(d => d.EpName))
        {
            var mine = discovered.Where(d => d.Properties["execution_provider"] == group.Key).ToArray();
            Assert.Equal(group.Count(), mine.Length);
            Assert.All(mine, d => Assert.True(d.IsAvailable, d.UnavailableReason));
            Assert.Equal(group.Select(e => (e.HardwareDevice.Type.ToString(), e.HardwareDevice.Vendor, e.HardwareDevice.VendorId.ToString(System.Globalization.CultureInfo.InvariantCulture))).OrderBy(x => x),
                mine.Select(d => (d.Properties["hardware_type"], d.Properties["hardware_vendor"], d.Properties["hardware_vendor_id"])).OrderBy(x => x));
        }
        Assert.Equal(backend.Devices.Count, backend.Devices.Select(d => d.Id).Distinct().Count());
        Assert.Equal(env.GetAvailableProviders().ToHashSet(), backend.Devices.Select(d => d.Properties["execution_provider"]).ToHashSet());
        var cpu = Assert.Single(backend.Devices, d => d.Id == "ort-cpu");
        Assert.Equal(DeviceKind.Cpu, cpu.Kind);
        Assert.Equal(epDevices.Single(e => e.EpName == "CPUExecutionProvider").HardwareDevice.Vendor, cpu.Properties["hardware_vendor"]);
    }

    [Fact]
    public void A_listed_provider_whose_library_cannot_be_registered_is_unavailable_with_onnx_runtimes_message()
    {
        // The CPU build of ONNX Runtime has no CUDA bridge library: registering it fails the way a GPU build without it would.
        if (OrtEnv.Instance().GetAvailableProviders().Contains("CUDAExecutionProvider")) return;
        using var backend = new OrtBackend();
        var devices = backend.DiscoverDevices(OrtEnv.Instance(), ["CPUExecutionProvider", "CUDAExecutionProvider"]);

        var cuda = Assert.Single(devices, d => d.Properties["execution_provider"] == "CUDAExecutionProvider");
        Assert.False(cuda.IsAvailable);
        Assert.Contains("CUDAExecutionProvider is listed by ONNX Runtime but its library failed to load", cuda.UnavailableReason);
        Assert.Contains("libonnxruntime_providers_cuda.so", cuda.UnavailableReason); // ORT's own words name the library
        Assert.Throws<BackendException>(() => backend.Compile(cuda, ReluModel(), new CompileOptions()));
    }

    [Fact]
    public void Provider_options_resolve_by_provider_then_device_id_and_ignore_other_targets()
    {
        var device = new Device(OrtBackend.BackendName, "ort-cuda:1", "gpu 1", DeviceKind.Gpu);
        var settings = new Dictionary<string, string>
        {
            [OrtBackend.ProviderOptionKey("CUDAExecutionProvider", "arena_extend_strategy")] = "kSameAsRequested",
            [OrtBackend.ProviderOptionKey("cuda", "gpu_mem_limit")] = "1000",
            [OrtBackend.ProviderOptionKey("ort-cuda:1", "gpu_mem_limit")] = "2000",
            [OrtBackend.ProviderOptionKey("ort-cuda:0", "gpu_mem_limit")] = "3000",
            ["session.intra_op.allow_spinning"] = "0",
        };
        var options = OrtBackend.ProviderOptions(device, "CUDAExecutionProvider", settings);
        Assert.Equal(new Dictionary<string, string> { ["arena_extend_strategy"] = "kSameAsRequested", ["gpu_mem_limit"] = "2000" }, options);
        Assert.Throws<ArgumentException>(() => OrtBackend.ProviderOptionKey("a.b", "x"));
    }

    [Fact]
    public void Cpu_provider_options_reach_onnx_runtime_through_its_ep_device()
    {
        using var backend = new OrtBackend();
        var settings = new Dictionary<string, string> { [OrtBackend.ProviderOptionKey("ort-cpu", "no_such_cpu_option")] = "1" };
        // The CPU provider is then appended through AppendExecutionProvider(env, [its OrtEpDevice], options); a run works.
        using var partition = backend.Compile(backend.CpuDevice, ReluModel(), new CompileOptions { Settings = settings });
        using var x = AccelTensor.Create(new[] { -1f, 2f }, 2);
        var y = backend.Download(partition.Run([backend.Upload(backend.CpuDevice, x)])[0]);
        Assert.Equal(new[] { 0f, 2f }, y.ToArray<float>());
    }

    private static Model ReluModel() => OneNodeModels.Relu(new TensorShape(new[] { Dimension.Known(2) }), new TensorShape(new[] { Dimension.Known(2) }));
}
