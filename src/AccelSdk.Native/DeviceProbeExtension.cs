using System.Globalization;
using AccelSdk.Backends;

[assembly: AccelSdk.AccelSdkExtension(typeof(AccelSdk.Native.DeviceProbeExtension))]

namespace AccelSdk.Native;

/// <summary>
/// The device probe as the core's <see cref="IMachineProbe"/>: <c>AccelRuntime.Machine</c> (added with <c>AddDeviceProbe()</c>) and the fingerprint in
/// every <c>SelectionReport</c> come from here when AccelSdk.Native is deployed.
/// </summary>
public sealed class DeviceProbeExtension : IMachineProbe
{
    /// <inheritdoc />
    public bool IsAvailable => DeviceProbe.IsAvailable;

    /// <inheritdoc />
    public string? UnavailableReason => DeviceProbe.UnavailableReason;

    /// <inheritdoc />
    public string Fingerprint => DeviceProbe.Current?.Fingerprint ?? "";

    /// <inheritdoc />
    public IReadOnlyDictionary<string, string> Facts => DeviceProbe.Current is { } machine ? Describe(machine) : new Dictionary<string, string>();

    /// <summary>The profile as name/value pairs.</summary>
    public static IReadOnlyDictionary<string, string> Describe(MachineProfile machine)
    {
        var cpu = machine.Cpu;
        string N(long value) => value.ToString(CultureInfo.InvariantCulture);
        var facts = new Dictionary<string, string>
        {
            ["fingerprint"] = machine.Fingerprint,
            ["cpu.architecture"] = cpu.Architecture,
            ["cpu.vendor"] = cpu.Vendor,
            ["cpu.model"] = cpu.Model,
            ["cpu.isa"] = string.Join(' ', cpu.FeatureNames),
            ["cpu.logical_cores"] = N(cpu.LogicalCores),
            ["cpu.physical_cores"] = N(cpu.PhysicalCores),
            ["cpu.packages"] = N(cpu.Packages),
            ["cpu.numa_nodes"] = N(cpu.NumaNodes),
            ["cpu.l1d_bytes"] = N(cpu.Caches.L1DataBytes),
            ["cpu.l2_bytes"] = N(cpu.Caches.L2Bytes),
            ["cpu.l3_bytes"] = N(cpu.Caches.L3Bytes),
            ["opencl"] = machine.OpenCl.Message,
            ["cuda"] = machine.Cuda.Message,
        };
        foreach (var d in machine.OpenCl.Devices.Concat(machine.Cuda.Devices))
            facts[$"{d.Api}.{d.PlatformIndex}.{d.DeviceIndex}"] = $"{d.Name} ({d.Type.ToString().ToLowerInvariant()}, {d.ComputeUnits} units, {d.GlobalMemoryBytes >> 20} MiB)";
        return facts;
    }
}
