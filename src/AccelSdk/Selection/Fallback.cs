namespace AccelSdk;

/// <summary>What kind of degradation a <see cref="Fallback"/> records.</summary>
public enum FallbackKind
{
    /// <summary>A backend could not start; none of its devices takes part.</summary>
    BackendUnavailable,
    /// <summary>A device the backend lists cannot be used (driver missing, runtime refused it).</summary>
    DeviceUnavailable,
    /// <summary>A candidate device was left out of a selection: it does not run every node, is over its memory cap, or failed to compile or run.</summary>
    CandidateExcluded,
    /// <summary>A device was left out of per-node tuning (its nodes failed alone); it may still run a whole-model plan.</summary>
    DeviceExcludedFromTuning,
    /// <summary>A plan failed to compile or run while being measured and was not kept.</summary>
    PlanExcluded,
    /// <summary>A node could not run where it ran fastest or was asked to run, and runs on another device.</summary>
    NodeMoved,
}

/// <summary>
/// One graceful degradation, with its reason: logged as a warning through the runtime's logger when it happens and
/// kept on the session (<see cref="Execution.AccelSession.Fallbacks"/>) so nothing falls back silently.
/// </summary>
/// <param name="Kind">What degraded.</param>
/// <param name="Subject">The backend, device or node it concerns (a device id, a backend name, a node name).</param>
/// <param name="Reason">What fell back and why, in the words of whatever refused: the warning line that was logged.</param>
public sealed record Fallback(FallbackKind Kind, string Subject, string Reason)
{
    /// <inheritdoc />
    public override string ToString() => Reason;
}
