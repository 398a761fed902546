using AccelSdk.Backends;
using AccelSdk.Execution;
using AccelSdk.Ir;

namespace AccelSdk;

/// <summary>What <see cref="AccelRuntime.Select(Model, SelectOptions?, IProgress{SelectionProgress}?, CancellationToken)"/> optimises for.</summary>
public enum SelectionPolicy
{
    /// <summary>Lowest median latency of one run (default).</summary>
    LowestLatency,
    /// <summary>
    /// Most inferences per second over a stream of inputs, as <see cref="AccelSession.RunMany"/> runs it: sequentially,
    /// as concurrent runs, or (autotuning) the partitions of a multi-device plan as a pipeline, whichever measured fastest.
    /// </summary>
    HighestThroughput,
    /// <summary>A CPU device whenever one can run the model; fastest among them.</summary>
    PreferCpu,
    /// <summary>A GPU device whenever one can run the model; fastest among them; else the fastest device.</summary>
    PreferGpu,
}

/// <summary>Options of <see cref="AccelRuntime.Select(Model, SelectOptions?, IProgress{SelectionProgress}?, CancellationToken)"/>.</summary>
public sealed record SelectOptions
{
    /// <summary>What to optimise.</summary>
    public SelectionPolicy Policy { get; init; } = SelectionPolicy.LowestLatency;

    /// <summary>Inputs to measure with; when null, fixed-seed inputs are made from the declared input types.</summary>
    public IReadOnlyDictionary<string, AccelTensor>? SampleInputs { get; init; }

    /// <summary>Timed runs per candidate after warm-up.</summary>
    public int MeasuredRuns { get; init; } = 10;

    /// <summary>Untimed warm-up runs per candidate.</summary>
    public int WarmupRuns { get; init; } = 2;

    /// <summary>Restricts candidates to these backend names or device ids; null means every available device.</summary>
    public IReadOnlyList<string>? Candidates { get; init; }

    /// <summary>Options passed to each backend's compile step.</summary>
    public CompileOptions Compile { get; init; } = new();

    /// <summary>
    /// Place each node on the (backend, device) measured fastest for it, counting transfers, instead of running the
    /// whole model on one device; the result is never slower than the best single device as measured. Needs a
    /// registered <see cref="IPlanTuner"/> (the AccelSdk.Autotune package); tuning results are cached per machine.
    /// </summary>
    public bool Autotune { get; init; }

    /// <summary>
    /// Memory cap in bytes per device id (or backend name, for all its devices). A device whose estimated footprint
    /// (<see cref="MemoryEstimate"/>: the weights plus the peak of live activations of what runs there) exceeds its cap
    /// runs nothing (whole-model selection) or only the layers that fit (autotuning); when nothing fits,
    /// <see cref="MemoryLimitException"/> names the device and the needed and allowed bytes.
    /// </summary>
    public IReadOnlyDictionary<string, long>? MemoryLimits { get; init; }

    /// <summary>
    /// Caps on one tensor's and one run's bytes, checked before allocating (<see cref="ResourceLimits"/>); null takes
    /// <see cref="ResourceLimits.Default"/>. The returned session keeps them as <see cref="AccelSession.Limits"/>.
    /// </summary>
    public ResourceLimits? Limits { get; init; }

    /// <summary>
    /// Autotuning only: nodes pinned by hand, keyed by node name or op type, to a device id or backend name.
    /// </summary>
    public IReadOnlyDictionary<string, string>? Pins { get; init; }

    /// <summary>
    /// Autotuning: which partitions of a multi-device plan may run at the same time. Plans are predicted, measured,
    /// cached and run with it (the returned session's <see cref="AccelSession.PartitionOverlap"/>); a whole-model plan
    /// has one partition and is not affected.
    /// </summary>
    public PartitionOverlap PartitionOverlap { get; init; } = PartitionOverlap.AcrossProcessors;
}

/// <summary>
/// Chooses a multi-device plan for a model by measurement (AccelSdk.Autotune's, added with <c>AddAutotune()</c>); used by
/// <see cref="AccelRuntime.Select(Model, SelectOptions?, IProgress{SelectionProgress}?, CancellationToken)"/> when
/// <see cref="SelectOptions.Autotune"/> is set.
/// </summary>
public interface IPlanTuner
{
    /// <summary>
    /// Tunes (or reuses a cached tuning of) <paramref name="model"/> on <paramref name="runtime"/>'s devices and returns a
    /// session on the chosen plan. Throws <see cref="OperationCanceledException"/> promptly once
    /// <paramref name="cancellationToken"/> is cancelled, never leaving a partly written cache behind.
    /// </summary>
    AccelSession Tune(AccelRuntime runtime, Model model, SelectOptions options, IProgress<SelectionProgress>? progress, CancellationToken cancellationToken);
}

/// <summary>The measured result of one candidate device.</summary>
/// <param name="Device">The device.</param>
/// <param name="MedianMs">Median latency of one run, or null when it failed.</param>
/// <param name="ThroughputPerSecond">Runs per second under concurrency (throughput policy only).</param>
/// <param name="CompileMs">Compile (session creation) time.</param>
/// <param name="Error">Why the candidate could not run the model.</param>
public sealed record CandidateResult(Device Device, double? MedianMs, double? ThroughputPerSecond, double CompileMs, string? Error);

/// <summary>How a device was chosen: every candidate measured and the winner.</summary>
/// <param name="Policy">The policy used.</param>
/// <param name="Candidates">Each candidate's measurements.</param>
/// <param name="Chosen">The chosen device.</param>
/// <param name="MachineFingerprint">
/// <see cref="IMachineProbe.Fingerprint"/> of the machine measured on (null without a probe): a selection holds for
/// machines with the same fingerprint.
/// </param>
/// <param name="FromTuningCache">
/// True when the plan came from a tuning cache without measuring anything (an autotuned model selected again).
/// </param>
public sealed record SelectionReport(SelectionPolicy Policy, IReadOnlyList<CandidateResult> Candidates, Device Chosen, string? MachineFingerprint = null, bool FromTuningCache = false);
