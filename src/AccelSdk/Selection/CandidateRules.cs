using AccelSdk.Backends;

namespace AccelSdk.Selection;

/// <summary>
/// The selection rules shared by whole-model selection and the autotuner, implemented once: which devices are
/// candidates, each one's memory cap, which device kinds a policy avoids, and which of two measured candidates wins.
/// </summary>
internal static class CandidateRules
{
    /// <summary>Available devices of <paramref name="backends"/> that <paramref name="filter"/> (device ids or backend names; null = all) admits.</summary>
    public static List<DeviceTarget> Candidates(IEnumerable<IBackend> backends, IReadOnlyList<string>? filter) =>
        backends.SelectMany(b => b.Devices.Where(d => d.IsAvailable && IsCandidate(d, filter)).Select(d => new DeviceTarget(b, d))).ToList();

    /// <summary>Whether <paramref name="filter"/> (device ids or backend names, case-insensitive; null = all) admits <paramref name="device"/>.</summary>
    public static bool IsCandidate(Device device, IReadOnlyList<string>? filter) =>
        filter is null || filter.Any(c => string.Equals(c, device.Id, StringComparison.OrdinalIgnoreCase) || string.Equals(c, device.Backend, StringComparison.OrdinalIgnoreCase));

    /// <summary>The memory cap of <paramref name="device"/>: by device id, else by backend name; null when uncapped.</summary>
    public static long? MemoryCap(IReadOnlyDictionary<string, long>? limits, Device device)
    {
        if (limits is null) return null;
        foreach (var (key, cap) in limits)
        {
            if (string.Equals(key, device.Id, StringComparison.OrdinalIgnoreCase)) return cap;
        }
        foreach (var (key, cap) in limits)
        {
            if (string.Equals(key, device.Backend, StringComparison.OrdinalIgnoreCase)) return cap;
        }
        return null;
    }

    /// <summary>True for a device kind a Prefer* policy avoids (used only where nothing of the preferred kind runs).</summary>
    public static bool Avoided(DeviceKind kind, SelectionPolicy policy) =>
        (policy == SelectionPolicy.PreferCpu && kind != DeviceKind.Cpu) || (policy == SelectionPolicy.PreferGpu && kind == DeviceKind.Cpu);

    /// <summary>
    /// Whether <paramref name="challenger"/> beats <paramref name="incumbent"/> under <paramref name="policy"/>: a
    /// candidate on the preferred kind of device beats one that uses an avoided kind; otherwise the lower median
    /// latency (or, for throughput, the higher rate) wins, and a tie keeps the incumbent.
    /// </summary>
    public static bool Beats(MeasuredCandidate challenger, MeasuredCandidate incumbent, SelectionPolicy policy)
    {
        var challengerAvoided = challenger.Kinds.Any(k => Avoided(k, policy));
        var incumbentAvoided = incumbent.Kinds.Any(k => Avoided(k, policy));
        if (challengerAvoided != incumbentAvoided) return incumbentAvoided;
        return policy == SelectionPolicy.HighestThroughput
            ? (challenger.ThroughputPerSecond ?? 0) > (incumbent.ThroughputPerSecond ?? 0)
            : (challenger.MedianMs ?? double.MaxValue) < (incumbent.MedianMs ?? double.MaxValue);
    }

    /// <summary>The winner among <paramref name="measured"/> (in order: earlier ones win ties); null when empty.</summary>
    public static T? Choose<T>(IEnumerable<T> measured, Func<T, MeasuredCandidate> describe, SelectionPolicy policy) where T : class
    {
        T? best = null;
        foreach (var candidate in measured)
        {
            if (best is null || Beats(describe(candidate), describe(best), policy)) best = candidate;
        }
        return best;
    }
}

/// <summary>What <see cref="CandidateRules.Beats"/> compares: the kinds of device a candidate uses and what it measured.</summary>
internal readonly record struct MeasuredCandidate(IReadOnlyCollection<DeviceKind> Kinds, double? MedianMs, double? ThroughputPerSecond);
