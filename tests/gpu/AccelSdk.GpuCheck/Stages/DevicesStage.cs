using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using AccelSdk.Backends;
using AccelSdk.Native;

namespace AccelSdk.GpuCheck.Stages;

/// <summary>
/// Every backend device (as <c>accelsdk devices</c> lists them) and the device probe's CUDA attributes, checked against
/// <c>nvidia-smi</c> (name, memory, compute capability, CUDA driver version) and PyTorch (multiprocessor count).
/// </summary>
internal static partial class DevicesStage
{
    public static void Run(CheckContext context, StageReport report)
    {
        var devices = new JsonArray();
        foreach (var backend in GpuCheckRuntime.Instance.Backends)
        {
            foreach (var d in backend.Devices)
            {
                devices.Add(new JsonObject
                {
                    ["id"] = d.Id, ["backend"] = d.Backend, ["backend_version"] = backend.Version, ["name"] = d.Name,
                    ["kind"] = d.Kind.ToString().ToLowerInvariant(), ["available"] = d.IsAvailable, ["unavailable_reason"] = d.UnavailableReason,
                    ["properties"] = new JsonObject(d.Properties.Select(p => KeyValuePair.Create(p.Key, (JsonNode?)p.Value))),
                });
            }
        }
        report.Json["devices"] = devices;
        report.Table(new[] { "device", "available", "name", "reason / properties" },
            GpuCheckRuntime.Instance.Devices.Select(d => (IReadOnlyList<string>)new[]
            {
                d.Id, d.IsAvailable ? "yes" : "no", d.Name,
                d.UnavailableReason ?? string.Join(", ", d.Properties.Where(p => p.Key is "architecture" or "driver" or "memory").Select(p => $"{p.Key}={p.Value}")),
            }));

        var tested = GpuCheckRuntime.Instance.Devices.FirstOrDefault(d => d.Id == context.Options.Device);
        if (tested is null) report.Fail($"{context.Options.Device} is not listed by any backend");
        else if (!tested.IsAvailable) report.Fail($"{tested.Id} is unavailable: {tested.UnavailableReason}");

        var probe = DeviceProbe.Current;
        if (probe is null)
        {
            report.Fail($"device probe unavailable: {DeviceProbe.UnavailableReason}");
            return;
        }
        report.Json["cuda"] = new JsonObject
        {
            ["available"] = probe.Cuda.IsAvailable, ["message"] = probe.Cuda.Message, ["driver_api_version"] = probe.Cuda.Version,
            ["devices"] = new JsonArray(probe.Cuda.Devices.Select(g => (JsonNode?)new JsonObject
            {
                ["name"] = g.Name, ["multiprocessors"] = g.ComputeUnits, ["memory_bytes"] = g.GlobalMemoryBytes, ["compute_capability"] = g.ComputeCapability,
                ["driver"] = g.DriverVersion, ["max_clock_mhz"] = g.MaxClockMhz, ["shared_memory_per_block"] = g.LocalMemoryBytes,
            }).ToArray()),
        };
        report.Line($"Probe: CUDA {(probe.Cuda.IsAvailable ? "" : "unavailable: ")}{probe.Cuda.Message}; CPU {probe.Cpu.Model}, {probe.Cpu.LogicalCores} logical cores.");
        report.Line("");
        if (!context.Options.Device.StartsWith("ilgpu-cuda", StringComparison.Ordinal)) return;
        var gpu = probe.Cuda.Devices.FirstOrDefault();
        if (gpu is null)
        {
            report.Fail($"the probe found no CUDA device: {probe.Cuda.Message}");
            return;
        }
        CrossCheck(context, report, gpu);
    }

    private static void CrossCheck(CheckContext context, StageReport report, ComputeDevice gpu)
    {
        var rows = new List<IReadOnlyList<string>>();
        void Compare(string attribute, string probed, string? other, string source, bool agree)
        {
            rows.Add(new[] { attribute, probed, other ?? "-", source, other is null ? "not cross-checked" : agree ? "agrees" : "DIFFERS" });
            if (other is not null && !agree) report.Fail($"probe {attribute} {probed} but {source} says {other}");
        }
        var smi = ReadNvidiaSmi(context.Options.NvidiaSmi);
        var capability = gpu.ComputeCapability is { } cc ? $"{cc / 10}.{cc % 10}" : "?";
        var probedMiB = gpu.GlobalMemoryBytes / (1024.0 * 1024.0);
        Compare("name", gpu.Name, smi?.Name, "nvidia-smi", smi?.Name == gpu.Name);
        Compare("memory MiB", Format.F(probedMiB, 0), smi is null ? null : Format.F(smi.MemoryMiB, 0), "nvidia-smi", smi is not null && Math.Abs(smi.MemoryMiB - probedMiB) <= 0.01 * smi.MemoryMiB);
        Compare("compute capability", capability, smi?.ComputeCapability, "nvidia-smi", smi?.ComputeCapability == capability);
        Compare("CUDA driver version", gpu.DriverVersion, smi?.CudaVersion, "nvidia-smi", smi?.CudaVersion == gpu.DriverVersion);
        var torchSms = context.Anchor("sm_count");
        Compare("multiprocessors", gpu.ComputeUnits.ToString(CultureInfo.InvariantCulture), torchSms?.ToString(CultureInfo.InvariantCulture), "PyTorch", torchSms == gpu.ComputeUnits);
        if (smi is not null) report.Json["nvidia_smi"] = new JsonObject { ["name"] = smi.Name, ["memory_mib"] = smi.MemoryMiB, ["compute_cap"] = smi.ComputeCapability, ["driver"] = smi.Driver, ["cuda"] = smi.CudaVersion };
        report.Line($"GPU: **{gpu.Name}**, {gpu.ComputeUnits} SMs, {Format.F(probedMiB, 0)} MiB, compute capability {capability}, CUDA driver {gpu.DriverVersion}" +
                    (smi is null ? "" : $" (kernel driver {smi.Driver})") + ".");
        report.Line("");
        report.Table(new[] { "attribute", "probe", "other source", "source", "verdict" }, rows);
    }

    internal sealed record SmiFacts(string Name, double MemoryMiB, string ComputeCapability, string Driver, string? CudaVersion);

    /// <summary>
    /// Reads <c>nvidia-smi.csv</c> (<c>--query-gpu=name,memory.total,compute_cap,driver_version --format=csv,noheader,nounits</c>)
    /// and the "CUDA Version" of plain <c>nvidia-smi</c>'s header in <c>nvidia-smi.txt</c>.
    /// </summary>
    internal static SmiFacts? ReadNvidiaSmi(string? folder)
    {
        var csv = folder is null ? null : Path.Combine(folder, "nvidia-smi.csv");
        if (csv is null || !File.Exists(csv)) return null;
        var first = File.ReadLines(csv).FirstOrDefault(l => l.Trim().Length > 0);
        var fields = first?.Split(',').Select(f => f.Trim()).ToArray();
        if (fields is not { Length: 4 } || !double.TryParse(fields[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var mib))
        {
            throw new AccelSdkException($"{csv}: expected 'name, memory MiB, compute_cap, driver', found '{first}'");
        }
        var text = Path.Combine(folder!, "nvidia-smi.txt");
        var cuda = File.Exists(text) && CudaVersion().Match(File.ReadAllText(text)) is { Success: true } m ? m.Groups[1].Value : null;
        return new SmiFacts(fields[0], mib, fields[2], fields[3], cuda);
    }

    [GeneratedRegex(@"CUDA Version:\s*([0-9]+\.[0-9]+)")]
    private static partial Regex CudaVersion();
}
