using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using AccelSdk.Backends;

namespace AccelSdk.Autotune.Cache;

/// <summary>
/// What makes tuning results of one machine valid: CPU model and features, core count, OS and architecture, and per
/// device its backend, backend version, name and properties (GPU name, driver). Results are cached under its hash.
/// </summary>
public sealed record MachineFingerprint(SortedDictionary<string, string> Facts)
{
    /// <summary>A short stable hash of <see cref="Facts"/>, used as the cache file name.</summary>
    public string Hash { get; } = ComputeHash(Facts);

    /// <summary>The fingerprint of this machine with the given backends.</summary>
    public static MachineFingerprint Of(IEnumerable<DeviceTarget> devices)
    {
        var facts = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            ["cpu.model"] = CpuInfo("model name") ?? CpuInfo("Model") ?? RuntimeInformation.ProcessArchitecture.ToString(),
            ["cpu.features"] = FeatureDigest(),
            ["cpu.logical_cores"] = Environment.ProcessorCount.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["os"] = RuntimeInformation.OSDescription,
            ["architecture"] = RuntimeInformation.OSArchitecture.ToString(),
        };
        foreach (var (backend, device) in devices)
        {
            var prefix = "device." + device.Id;
            facts[prefix + ".backend"] = $"{backend.Name} {backend.Version}";
            facts[prefix + ".name"] = device.Name;
            facts[prefix + ".memory_space"] = device.MemorySpace.Name;
            foreach (var kv in device.Properties) facts[$"{prefix}.{kv.Key}"] = kv.Value;
        }
        return new MachineFingerprint(facts);
    }

    private static string ComputeHash(SortedDictionary<string, string> facts)
    {
        var text = string.Join("\n", facts.Select(kv => kv.Key + "=" + kv.Value));
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..16];
    }

    private static string? CpuInfo(string key)
    {
        try
        {
            if (!File.Exists("/proc/cpuinfo")) return null;
            foreach (var line in File.ReadLines("/proc/cpuinfo"))
            {
                var colon = line.IndexOf(':');
                if (colon > 0 && line[..colon].Trim() == key) return line[(colon + 1)..].Trim();
            }
        }
        catch (IOException)
        {
        }
        return null;
    }

    /// <summary>The CPU feature flags (x86 <c>flags</c> or Arm <c>Features</c>), hashed: the list is long and only equality matters.</summary>
    private static string FeatureDigest()
    {
        var flags = CpuInfo("flags") ?? CpuInfo("Features") ?? "";
        var sorted = string.Join(" ", flags.Split(' ', StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal));
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(sorted)))[..16];
    }
}
