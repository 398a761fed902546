namespace AccelSdk.Backends;

/// <summary>
/// Tells what this machine computes with (CPU model and ISA, cores, caches, NUMA, GPUs and drivers), for keying
/// tuning caches and selections by hardware. Found through <see cref="AccelSdkExtensionAttribute"/>, like backends;
/// <c>AccelSdk.Native</c>'s device probe is one.
/// </summary>
public interface IMachineProbe
{
    /// <summary>False when the probe cannot run here (its native part missing, for example).</summary>
    bool IsAvailable { get; }

    /// <summary>Why it is unavailable, naming what is missing and where it was looked for; null when available.</summary>
    string? UnavailableReason { get; }

    /// <summary>A short stable hash of the facts that change performance: equal on the same hardware and drivers.</summary>
    string Fingerprint { get; }

    /// <summary>The facts as name/value pairs (<c>cpu.model</c>, <c>cpu.isa</c>, <c>cpu.l2_bytes</c>, ...).</summary>
    IReadOnlyDictionary<string, string> Facts { get; }
}
