using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Serialization;

namespace AccelSdk.Native;

/// <summary>Per-instance cache sizes (bytes; 0 when unknown) and how many L2/L3 instances serve the online CPUs.</summary>
public sealed record CpuCaches(long L1DataBytes, long L1InstructionBytes, long L2Bytes, long L3Bytes, int L2Instances, int L3Instances);

/// <summary>The host CPU as the device probe sees it.</summary>
/// <param name="Architecture"><c>x86_64</c> or <c>aarch64</c>.</param>
/// <param name="Vendor">cpuid vendor string or the ARM implementer's name.</param>
/// <param name="Model">Brand string or model name.</param>
/// <param name="Features">ISA features usable on this machine (the OS saves their registers); JSON carries <paramref name="FeatureNames"/> instead.</param>
/// <param name="FeatureNames">The same features as the probe names them (<c>avx2</c>, <c>neon</c>...).</param>
/// <param name="LogicalCores">Online logical processors.</param>
/// <param name="PhysicalCores">Physical cores.</param>
/// <param name="Packages">Sockets.</param>
/// <param name="NumaNodes">Online NUMA nodes.</param>
/// <param name="Caches">Cache sizes.</param>
public sealed record CpuInfo(
    string Architecture,
    string Vendor,
    string Model,
    [property: JsonIgnore] IReadOnlySet<CpuFeature> Features,
    IReadOnlyList<string> FeatureNames,
    int LogicalCores,
    int PhysicalCores,
    int Packages,
    int NumaNodes,
    CpuCaches Caches)
{
    /// <summary>True when the CPU has <paramref name="feature"/>.</summary>
    public bool Has(CpuFeature feature) => Features.Contains(feature);
}

/// <summary>Kind of an OpenCL or CUDA device.</summary>
public enum ComputeDeviceType
{
    /// <summary>Unknown or custom.</summary>
    Other = 0,
    /// <summary>A CPU device (for example PoCL).</summary>
    Cpu = 1,
    /// <summary>A GPU.</summary>
    Gpu = 2,
    /// <summary>Another accelerator.</summary>
    Accelerator = 3,
}

/// <summary>One device reached through OpenCL or CUDA.</summary>
/// <param name="Api"><c>opencl</c> or <c>cuda</c>.</param>
/// <param name="PlatformIndex">OpenCL platform index; 0 for CUDA.</param>
/// <param name="DeviceIndex">Index within the platform (the CUDA ordinal).</param>
/// <param name="Type">Device kind.</param>
/// <param name="Platform">OpenCL platform name, or <c>CUDA</c>.</param>
/// <param name="Vendor">Vendor.</param>
/// <param name="Name">Device name.</param>
/// <param name="Version">OpenCL version string, or CUDA compute capability.</param>
/// <param name="DriverVersion">Driver version.</param>
/// <param name="ComputeUnits">OpenCL compute units or CUDA multiprocessors.</param>
/// <param name="MaxClockMhz">Maximum clock.</param>
/// <param name="GlobalMemoryBytes">Device memory.</param>
/// <param name="LocalMemoryBytes">OpenCL local memory or CUDA shared memory per block.</param>
/// <param name="ComputeCapability">CUDA major*10+minor; null for OpenCL.</param>
public sealed record ComputeDevice(
    string Api,
    int PlatformIndex,
    int DeviceIndex,
    ComputeDeviceType Type,
    string Platform,
    string Vendor,
    string Name,
    string Version,
    string DriverVersion,
    int ComputeUnits,
    int MaxClockMhz,
    long GlobalMemoryBytes,
    long LocalMemoryBytes,
    int? ComputeCapability);

/// <summary>What opening an accelerator API found.</summary>
/// <param name="Api"><c>opencl</c> or <c>cuda</c>.</param>
/// <param name="IsAvailable">True when the library loaded and initialised.</param>
/// <param name="Library">The library opened or tried.</param>
/// <param name="Message">Why it is unavailable, or a summary.</param>
/// <param name="Version">CUDA driver version (12040 = 12.4) or the number of OpenCL platforms.</param>
/// <param name="Devices">The devices found.</param>
public sealed record ComputeApiInfo(string Api, bool IsAvailable, string Library, string Message, int Version, IReadOnlyList<ComputeDevice> Devices);

/// <summary>Everything the device probe knows about this machine.</summary>
/// <param name="Cpu">The CPU.</param>
/// <param name="OpenCl">OpenCL platforms and devices.</param>
/// <param name="Cuda">The CUDA driver and GPUs.</param>
public sealed record MachineProfile(CpuInfo Cpu, ComputeApiInfo OpenCl, ComputeApiInfo Cuda)
{
    /// <summary>
    /// A stable short hash of the facts that change how kernels perform (ISA, cores, caches, device names and
    /// drivers), for keying tuning caches: equal on the same machine, different when the hardware or driver changes.
    /// </summary>
    public string Fingerprint
    {
        get
        {
            var text = new StringBuilder()
                .Append(Cpu.Architecture).Append('|').Append(Cpu.Vendor).Append('|').Append(Cpu.Model).Append('|')
                .AppendJoin(',', Cpu.FeatureNames).Append('|')
                .Append(Cpu.LogicalCores).Append('/').Append(Cpu.PhysicalCores).Append('/').Append(Cpu.Packages).Append('/').Append(Cpu.NumaNodes).Append('|')
                .Append(Cpu.Caches.L1DataBytes).Append('/').Append(Cpu.Caches.L2Bytes).Append('/').Append(Cpu.Caches.L3Bytes);
            foreach (var d in OpenCl.Devices.Concat(Cuda.Devices))
                text.Append('|').Append(d.Api).Append(':').Append(d.Name).Append(':').Append(d.DriverVersion).Append(':').Append(d.ComputeUnits);
            return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())))[..16];
        }
    }
}
