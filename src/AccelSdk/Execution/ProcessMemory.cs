using System.Globalization;

namespace AccelSdk.Execution;

/// <summary>
/// How much memory this process can still get, for caps that must hold before a native runtime allocates (a native
/// runtime that cannot allocate aborts the process rather than throwing).
/// </summary>
public static class ProcessMemory
{
    /// <summary>
    /// The smaller of the memory available to this process (<see cref="GCMemoryInfo.TotalAvailableMemoryBytes"/>:
    /// physical memory or the container's limit) and, under an address-space limit (<c>ulimit -v</c>, RLIMIT_AS),
    /// the address space it has left now.
    /// </summary>
    public static long AvailableBytes
    {
        get
        {
            var total = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
            return AddressSpaceLeft() is { } left ? Math.Min(total, left) : total;
        }
    }

    /// <summary>Address space left under RLIMIT_AS (soft limit minus the current virtual size); null without a limit or off Linux.</summary>
    public static long? AddressSpaceLeft()
    {
        if (!OperatingSystem.IsLinux()) return null;
        try
        {
            var limit = SoftAddressSpaceLimit(File.ReadAllLines("/proc/self/limits"));
            if (limit is null) return null;
            var size = VirtualSizeBytes(File.ReadAllLines("/proc/self/status")) ?? 0;
            return Math.Max(0, limit.Value - size);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>The soft "Max address space" of a <c>/proc/PID/limits</c> text in bytes; null when unlimited or absent.</summary>
    internal static long? SoftAddressSpaceLimit(IEnumerable<string> limitsLines)
    {
        const string Label = "Max address space";
        var line = limitsLines.FirstOrDefault(l => l.StartsWith(Label, StringComparison.Ordinal));
        var fields = line?[Label.Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (fields is not { Length: > 0 }) return null;
        return long.TryParse(fields[0], NumberStyles.None, CultureInfo.InvariantCulture, out var bytes) ? bytes : null;
    }

    /// <summary>The "VmSize" of a <c>/proc/PID/status</c> text in bytes; null when absent.</summary>
    internal static long? VirtualSizeBytes(IEnumerable<string> statusLines)
    {
        var line = statusLines.FirstOrDefault(l => l.StartsWith("VmSize:", StringComparison.Ordinal));
        var fields = line?["VmSize:".Length..].Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
        if (fields is not { Length: 2 } || fields[1] != "kB") return null;
        return long.TryParse(fields[0], NumberStyles.None, CultureInfo.InvariantCulture, out var kb) ? kb * 1024 : null;
    }
}
