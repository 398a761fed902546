using AccelSdk.Autotune.Cache;
using AccelSdk.Backends;
using AccelSdk.Execution;
using AccelSdk.Ir;

namespace AccelSdk.Autotune;

/// <summary>What happened to one (node, device) candidate.</summary>
public enum CandidateStatus
{
    /// <summary>Timed until the median was stable.</summary>
    Measured,
    /// <summary>Its first timed run was several times slower than the node's best: given up (the one run is kept).</summary>
    Abandoned,
    /// <summary>Not run: the device was hopeless on a smaller node of the same op.</summary>
    Skipped,
    /// <summary>Compiling or running failed; the note has the backend's message.</summary>
    Failed,
    /// <summary>The backend does not claim the node on this device.</summary>
    Unsupported,
}

/// <summary>One node on one device.</summary>
/// <param name="DeviceId">The device.</param>
/// <param name="Status">What happened.</param>
/// <param name="MedianMs">Median run time (the single run when abandoned), null when not run.</param>
/// <param name="CompileMs">Compile time, kept apart from run time.</param>
/// <param name="WarmupMs">Warm-up runs' time, kept apart from run time.</param>
/// <param name="Runs">Timed runs.</param>
/// <param name="RelativeSpread">Interquartile range over median.</param>
/// <param name="FromCache">True when taken from the tuning cache.</param>
/// <param name="Note">Why abandoned, skipped, failed or unsupported.</param>
public sealed record NodeCandidate(string DeviceId, CandidateStatus Status, double? MedianMs, double CompileMs, double WarmupMs,
    int Runs, double RelativeSpread, bool FromCache, string? Note);

/// <summary>One node's profile and where it was placed.</summary>
/// <param name="Index">Position in graph order.</param>
/// <param name="Name">Node name (its first output when unnamed).</param>
/// <param name="Op">Op type (with the domain when not ONNX).</param>
/// <param name="Signature">The operator signature the cache keys it by.</param>
/// <param name="Candidates">Each candidate device.</param>
public sealed record NodeResult(int Index, string Name, string Op, string Signature, IReadOnlyList<NodeCandidate> Candidates)
{
    /// <summary>The device id chosen for this node in the final plan.</summary>
    public string? Assigned { get; internal set; }

    /// <summary>The device id the placement solver chose (the final plan may be a single-backend one instead).</summary>
    public string? Autotuned { get; internal set; }

    /// <summary>The fastest measured candidate's median.</summary>
    public double? BestMs
    {
        get
        {
            double? best = null;
            foreach (var c in Candidates)
            {
                if (c.Status == CandidateStatus.Measured && c.MedianMs is { } ms && (best is null || ms < best)) best = ms;
            }
            return best;
        }
    }
}

/// <summary>One measured transfer.</summary>
/// <param name="Direction"><c>upload</c> (host to device) or <c>download</c>.</param>
/// <param name="Bytes">Size.</param>
/// <param name="Ms">Median time.</param>
public sealed record TransferSample(string Direction, long Bytes, double Ms);

/// <summary>The transfer cost of one device's memory space as a line in bytes (fixed + per MiB), each way.</summary>
public sealed record TransferCost(string DeviceId, string MemorySpace, double UploadFixedMs, double UploadMsPerMiB,
    double DownloadFixedMs, double DownloadMsPerMiB, bool FromCache, IReadOnlyList<TransferSample> Samples)
{
    /// <summary>Predicted host to device time.</summary>
    public double UploadMs(long bytes) => UploadFixedMs + UploadMsPerMiB * bytes / (1024.0 * 1024.0);

    /// <summary>Predicted device to host time.</summary>
    public double DownloadMs(long bytes) => DownloadFixedMs + DownloadMsPerMiB * bytes / (1024.0 * 1024.0);
}

/// <summary>A whole plan, predicted and measured.</summary>
/// <param name="Label">autotuned, or the device id of a single-backend plan.</param>
/// <param name="Backend">Backend name of a single-backend plan; null for a mixed plan.</param>
/// <param name="Devices">Devices used.</param>
/// <param name="PredictedMs">The cost model's latency, when every node has a measurement.</param>
/// <param name="MeasuredMs">Median end-to-end latency, when run.</param>
/// <param name="CompileMs">Compile time of its session.</param>
/// <param name="Error">Why it cannot run (unsupported nodes, backend failure).</param>
/// <param name="Abandoned">True when its first run was hopeless and it was not timed further.</param>
public sealed record PlanResult(string Label, string? Backend, IReadOnlyList<string> Devices, double? PredictedMs, double? MeasuredMs,
    double CompileMs, string? Error, bool Abandoned)
{
    /// <summary>True when some nodes were not timed on this plan's device, so <see cref="PredictedMs"/> is a lower bound.</summary>
    public bool PredictedIsLowerBound { get; init; }

    /// <summary>
    /// The backend's compile variant this plan was measured with (kernel variants of a single-backend plan), or null
    /// when the device offers none; each variant is its own plan in <see cref="AutotuneResult.SingleBackend"/>.
    /// </summary>
    public Backends.CompileVariant? Variant { get; init; }

    /// <summary>
    /// Items per second over a stream of inputs (<see cref="SelectionPolicy.HighestThroughput"/> only) through
    /// <see cref="Execution.AccelSession.RunMany"/> in the fastest of the stream modes tried.
    /// </summary>
    public double? ThroughputPerSecond { get; init; }

    /// <summary>The stream mode <see cref="ThroughputPerSecond"/> was measured with (the fastest of those tried).</summary>
    public Execution.StreamExecution? StreamExecution { get; init; }

    /// <summary>Items per second per stream mode tried (throughput policy only).</summary>
    public IReadOnlyDictionary<Execution.StreamExecution, double>? ThroughputByMode { get; init; }
}

/// <summary>Everything one tuning found: the report's content, the chosen plan and a session on it.</summary>
public sealed class AutotuneResult
{
    internal AutotuneResult(Model model, MachineFingerprint fingerprint) { Model = model; Fingerprint = fingerprint; }

    /// <summary>The model the kept plan runs: the one tuned, or the lower-precision version of it when <see cref="Precision"/> says it was kept.</summary>
    public Model Model { get; internal set; }

    /// <summary>What tuning under <see cref="AutotuneOptions.AccuracyBudget"/> measured and kept; null without a budget.</summary>
    public Precision.PrecisionResult? Precision { get; internal set; }

    /// <summary>The machine.</summary>
    public MachineFingerprint Fingerprint { get; }

    /// <summary>When tuning started (UTC).</summary>
    public DateTimeOffset Date { get; } = DateTimeOffset.UtcNow;

    /// <summary>The candidate devices with their backends.</summary>
    public IReadOnlyList<DeviceTarget> Devices { get; internal set; } = Array.Empty<DeviceTarget>();

    /// <summary>Devices left out during tuning, with why.</summary>
    public Dictionary<string, string> ExcludedDevices { get; } = new(StringComparer.Ordinal);

    /// <summary>The policy tuned for.</summary>
    public SelectionPolicy Policy { get; internal set; }

    /// <summary>The overlap setting every plan was predicted and measured with, and the session runs with (part of <see cref="PlanKey"/>).</summary>
    public Execution.PartitionOverlap PartitionOverlap { get; internal set; } = Execution.PartitionOverlap.AcrossProcessors;

    /// <summary>Per node profiles, graph order.</summary>
    public IReadOnlyList<NodeResult> Nodes { get; internal set; } = Array.Empty<NodeResult>();

    /// <summary>Fusion groups timed as units; the placement charges a group's nodes its unit time when they share a device.</summary>
    public IReadOnlyList<GroupResult> FusedGroups { get; internal set; } = Array.Empty<GroupResult>();

    /// <summary>Nodes no candidate device runs: (node, op, reasons). Non-empty means no plan.</summary>
    public IReadOnlyList<UnsupportedNode> Unsupported { get; internal set; } = Array.Empty<UnsupportedNode>();

    /// <summary>Transfer cost per device not in host memory.</summary>
    public IReadOnlyList<TransferCost> Transfers { get; internal set; } = Array.Empty<TransferCost>();

    /// <summary>Per-run call overhead of each device (a one-element Identity partition).</summary>
    public IReadOnlyDictionary<string, double> CallOverheadMs { get; internal set; } = new Dictionary<string, double>();

    /// <summary>The placement solver's plan.</summary>
    public PlanResult? Autotuned { get; internal set; }

    /// <summary>Every single-backend plan (one per candidate device).</summary>
    public IReadOnlyList<PlanResult> SingleBackend { get; internal set; } = Array.Empty<PlanResult>();

    /// <summary>The plan kept: the fastest measured of <see cref="Autotuned"/> and <see cref="SingleBackend"/>.</summary>
    public PlanResult? Chosen { get; internal set; }

    /// <summary>The kept plan's partitions and transfers.</summary>
    public ExecutionPlan? Plan { get; internal set; }

    /// <summary>Bytes of each transferred value in <see cref="Plan"/>.</summary>
    public IReadOnlyDictionary<string, long> TransferBytes { get; internal set; } = new Dictionary<string, long>();

    /// <summary>A session on <see cref="Plan"/>; the caller owns it.</summary>
    public AccelSession? Session { get; internal set; }

    /// <summary>The device whose single-backend outputs the kept plan was compared with.</summary>
    public string? ReferenceDevice { get; internal set; }

    /// <summary>Largest |plan - reference| over the reference's largest magnitude, over all float outputs.</summary>
    public double? MaxRelativeDifference { get; internal set; }

    /// <summary>True when the plan came from the tuning cache without measuring.</summary>
    public bool FromCache { get; internal set; }

    /// <summary>The cache file used, if any.</summary>
    public string? CachePath { get; internal set; }

    /// <summary>
    /// The key of this model's plan in the tuning cache (<see cref="Cache.TuningCache.Plans"/>): the model's structure
    /// and input shapes, the policy, the candidate devices, pins, memory caps and the partition overlap. Null when no cache was used.
    /// </summary>
    public string? PlanKey { get; internal set; }

    /// <summary>The kept plan's estimated memory per device (weights + peak activations); from inferred shapes when taken from the cache.</summary>
    public IReadOnlyList<Execution.DeviceFootprint> MemoryFootprint { get; internal set; } = Array.Empty<Execution.DeviceFootprint>();

    /// <summary>The memory caps tuned under (bytes per device id or backend name).</summary>
    public IReadOnlyDictionary<string, long>? MemoryLimits { get; internal set; }

    /// <summary>Seconds the tuning took.</summary>
    public double TuningSeconds { get; internal set; }

    /// <summary>Warnings raised while tuning (this tuning's only, also logged through the runtime's logger).</summary>
    public List<string> Warnings { get; } = new();

    /// <summary>Devices excluded from tuning and plans that failed, with the reasons (also in <see cref="Warnings"/>).</summary>
    public IReadOnlyList<Fallback> Fallbacks { get; internal set; } = Array.Empty<Fallback>();
}
