using System.Runtime.InteropServices;
using System.Text;
using AccelSdk.Native.Interop;

namespace AccelSdk.Native;

/// <summary>
/// The device probe: CPU vendor, model, ISA features, cores, caches and NUMA nodes, plus OpenCL and CUDA devices,
/// read by the native shim <c>libaccelsdk_probe.so</c>. When the shim is missing, <see cref="IsAvailable"/> is false,
/// <see cref="UnavailableReason"/> names the paths searched, and the rest of the SDK keeps working.
/// </summary>
public static class DeviceProbe
{
    /// <summary>The shim's library name (file <c>libaccelsdk_probe.so</c>).</summary>
    public const string LibraryName = ProbeNative.LibraryName;

    /// <summary>The C ABI version this assembly was generated against.</summary>
    public const int ExpectedAbiVersion = 1;

    private const int MaxDevices = 64;
    private static readonly Lazy<NativeShimUnavailableException?> LoadError = new(TryLoad);
    private static readonly Lazy<MachineProfile?> Cached = new(() => IsAvailable ? ProbeNow() : null);

    /// <summary>True when the shim loaded and speaks the expected ABI.</summary>
    public static bool IsAvailable => LoadError.Value is null;

    /// <summary>Why the probe is unavailable (with every path searched), or null.</summary>
    public static string? UnavailableReason => LoadError.Value?.Message;

    /// <summary>The machine's profile, probed once per process; null when the shim is unavailable.</summary>
    public static MachineProfile? Current => Cached.Value;

    /// <summary>Probes now (devices may have changed). Throws <see cref="NativeShimUnavailableException"/> without the shim.</summary>
    public static MachineProfile ProbeNow()
    {
        ThrowIfUnavailable();
        return new MachineProfile(ProbeCpu(null), ProbeOpenCl(), ProbeCuda());
    }

    /// <summary>Probes the CPU.</summary>
    public static CpuInfo ProbeCpu() => ProbeCpu(null);

    /// <summary>Enumerates OpenCL devices through the ICD loader (<paramref name="library"/>: default <c>libOpenCL.so.1</c>).</summary>
    public static ComputeApiInfo ProbeOpenCl(string? library = null) => ProbeApi("opencl", library);

    /// <summary>Enumerates CUDA devices through the driver API (<paramref name="library"/>: default <c>libcuda.so.1</c>).</summary>
    public static ComputeApiInfo ProbeCuda(string? library = null) => ProbeApi("cuda", library);

    /// <summary>Reads topology and caches from a recorded tree at <paramref name="root"/> (tests); null means this machine.</summary>
    internal static unsafe CpuInfo ProbeCpu(string? root)
    {
        ThrowIfUnavailable();
        accelsdk_cpu_info info;
        var rc = root is null ? ProbeNative.accelsdk_probe_cpu(&info) : ProbeNative.accelsdk_probe_cpu_at(root, &info);
        Check(rc, "accelsdk_probe_cpu");
        var features = new HashSet<CpuFeature>();
        var names = new List<string>();
        for (var bit = 0; bit < 64; bit++)
        {
            if ((info.features & (1UL << bit)) == 0) continue;
            if (Enum.IsDefined(typeof(CpuFeature), bit)) features.Add((CpuFeature)bit);
            names.Add(FeatureName(bit) ?? $"bit{bit}");
        }
        return new CpuInfo(
            Text(info.architecture, 16), Text(info.vendor, 64), Text(info.model, 128),
            features, names,
            info.logical_cores, info.physical_cores, info.packages, info.numa_nodes,
            new CpuCaches(info.l1d_cache_bytes, info.l1i_cache_bytes, info.l2_cache_bytes, info.l3_cache_bytes,
                info.l2_cache_instances, info.l3_cache_instances));
    }

    /// <summary>The probe's name for a feature bit, or null.</summary>
    internal static unsafe string? FeatureName(int bit)
    {
        ThrowIfUnavailable();
        var name = ProbeNative.accelsdk_probe_cpu_feature_name(bit);
        return name == null ? null : Marshal.PtrToStringUTF8((IntPtr)name);
    }

    private static unsafe ComputeApiInfo ProbeApi(string api, string? library)
    {
        ThrowIfUnavailable();
        accelsdk_api_status status;
        var devices = new accelsdk_gpu_device[MaxDevices];
        int count;
        int rc;
        fixed (accelsdk_gpu_device* first = devices)
        {
            rc = api == "cuda"
                ? ProbeNative.accelsdk_probe_cuda(library!, &status, first, MaxDevices, &count)
                : ProbeNative.accelsdk_probe_opencl(library!, &status, first, MaxDevices, &count);
        }
        if (rc == (int)accelsdk_probe_status.ACCELSDK_PROBE_INVALID_ARGUMENT) Check(rc, "accelsdk_probe_" + api);
        var list = new List<ComputeDevice>();
        for (var i = 0; i < Math.Min(count, MaxDevices); i++)
        {
            ref var d = ref devices[i];
            fixed (accelsdk_gpu_device* p = &d)
            {
                list.Add(new ComputeDevice(
                    api, p->platform_index, p->device_index, (ComputeDeviceType)p->device_type,
                    Text(p->platform, 128), Text(p->vendor, 128), Text(p->name, 256), Text(p->version, 128),
                    Text(p->driver_version, 64), p->compute_units, p->max_clock_mhz, p->global_memory_bytes,
                    p->local_memory_bytes, api == "cuda" ? p->compute_capability : null));
            }
        }
        return new ComputeApiInfo(api, status.available != 0, Text(status.library, 256), Text(status.message, 512), status.version, list);
    }

    private static unsafe string Text(byte* buffer, int size)
    {
        var length = 0;
        while (length < size && buffer[length] != 0) length++;
        return Encoding.UTF8.GetString(buffer, length);
    }

    private static void Check(int rc, string function)
    {
        if (rc != 0) throw new AccelSdkException($"{function} failed with status {rc} ({(accelsdk_probe_status)rc})");
    }

    private static void ThrowIfUnavailable()
    {
        if (LoadError.Value is { } error) throw error;
    }

    private static NativeShimUnavailableException? TryLoad()
    {
        try
        {
            NativeShim.EnsureResolver();
            NativeShim.Load(LibraryName);
            var abi = ProbeNative.accelsdk_probe_abi_version();
            if (abi != ExpectedAbiVersion)
            {
                return new NativeShimUnavailableException($"lib{LibraryName}.so",
                    $"ABI version {abi} does not match the expected {ExpectedAbiVersion}: rebuild the shim and regenerate the bindings",
                    NativeShim.SearchDirectories());
            }
            return null;
        }
        catch (NativeShimUnavailableException e)
        {
            return e;
        }
    }
}
