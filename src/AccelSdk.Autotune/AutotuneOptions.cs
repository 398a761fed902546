using AccelSdk.Backends;
using AccelSdk.Ir;

namespace AccelSdk.Autotune;

/// <summary>When a repeated measurement is good enough, and when a candidate is given up.</summary>
public sealed record TimingRules
{
    /// <summary>Untimed runs before timing (their cost is reported apart, with the compile time).</summary>
    public int WarmupRuns { get; init; } = 1;

    /// <summary>Timed runs at least.</summary>
    public int MinRuns { get; init; } = 5;

    /// <summary>Timed runs at most.</summary>
    public int MaxRuns { get; init; } = 40;

    /// <summary>Stop once the interquartile range divided by the median is at most this.</summary>
    public double MaxRelativeSpread { get; init; } = 0.05;

    /// <summary>Stop once this much time was spent in timed runs of one candidate (even before <see cref="MinRuns"/>).</summary>
    public TimeSpan BudgetPerCandidate { get; init; } = TimeSpan.FromMilliseconds(150);

    /// <summary>
    /// A node candidate whose first timed run is this many times slower than the best measured for the node is
    /// abandoned (marked so in the report); later, larger nodes of the same op are then not run on that device at all.
    /// </summary>
    public double AbandonFactor { get; init; } = 4.0;

    /// <summary>
    /// A device at least this many times slower than the best on every one of its first <see cref="HopelessAfterNodes"/>
    /// nodes is not run on any further node that another device can run (marked skipped).
    /// </summary>
    public double HopelessFactor { get; init; } = 20.0;

    /// <summary>Nodes a device is tried on before <see cref="HopelessFactor"/> can rule it out.</summary>
    public int HopelessAfterNodes { get; init; } = 3;
}

/// <summary>Options of <see cref="Autotuner"/>.</summary>
public sealed record AutotuneOptions
{
    /// <summary>What the plan optimises; <see cref="SelectionPolicy.PreferCpu"/>/<see cref="SelectionPolicy.PreferGpu"/>
    /// keep nodes off the other kind unless only it can run them. <see cref="SelectionPolicy.HighestThroughput"/> places
    /// nodes like latency, then keeps the plan with the most items per second over a stream of inputs (pipelined
    /// partitions or concurrent runs, see <see cref="Execution.AccelSession.RunMany"/>).</summary>
    public SelectionPolicy Policy { get; init; } = SelectionPolicy.LowestLatency;

    /// <summary>Inputs with the real shapes; when null, fixed-seed inputs from the declared types (symbolic dimensions = 1).</summary>
    public IReadOnlyDictionary<string, AccelTensor>? SampleInputs { get; init; }

    /// <summary>Restricts candidates to these backend names or device ids; null means every available device.</summary>
    public IReadOnlyList<string>? Candidates { get; init; }

    /// <summary>Nodes pinned by hand: node name or op type -> device id or backend name.</summary>
    public IReadOnlyDictionary<string, string>? Pins { get; init; }

    /// <summary>
    /// Memory cap in bytes per device id (or backend name, for all its devices): the kept plan's estimated footprint
    /// on each device (<see cref="Execution.MemoryEstimate"/>: weights plus peak activations) stays within it.
    /// </summary>
    public IReadOnlyDictionary<string, long>? MemoryLimits { get; init; }

    /// <summary>Per-node timing rules.</summary>
    public TimingRules NodeTiming { get; init; } = new();

    /// <summary>Timed runs of each whole plan (the chosen plan and every single-backend plan), interleaved.</summary>
    public int PlanRuns { get; init; } = 15;

    /// <summary>Where the tuning cache lives; null means <see cref="Cache.TuningCache.DefaultDirectory"/>.</summary>
    public string? CacheDirectory { get; init; }

    /// <summary>Ignore and do not write the cache.</summary>
    public bool NoCache { get; init; }

    /// <summary>Re-measure everything even when the cache has it (the cache is rewritten).</summary>
    public bool Retune { get; init; }

    /// <summary>
    /// Only look the plan up in the cache, never measure: without a cached plan for this model and machine the result
    /// has no plan and no session (<see cref="AutotuneResult.FromCache"/> false), so the caller can use a default.
    /// </summary>
    public bool CachedPlanOnly { get; init; }

    /// <summary>Options passed to each backend's compile step.</summary>
    public CompileOptions Compile { get; init; } = new();

    /// <summary>
    /// Which partitions of a plan may run at the same time (<see cref="Execution.AccelSession.PartitionOverlap"/>). The
    /// placement predicts with it (partitions holding the same processor, or device, run one after another), every plan
    /// is measured with it, the kept session runs with it, and it is part of the cached plan's key.
    /// </summary>
    public Execution.PartitionOverlap PartitionOverlap { get; init; } = Execution.PartitionOverlap.AcrossProcessors;

    /// <summary>Receives progress while tuning, called on the tuning thread (<see cref="Progress{T}"/> posts it to the caller's context).</summary>
    public IProgress<SelectionProgress>? Progress { get; init; }

    /// <summary>
    /// When set, a lower-precision version of the model is a candidate too: <see cref="PrecisionSearch"/> chooses each
    /// layer's precision within this budget, the lower-precision model is tuned like the float32 one, both kept plans
    /// are measured end to end and the lower-precision plan's outputs checked against float32 on
    /// <see cref="CalibrationInputs"/>; the faster plan within the budget is kept (<see cref="AutotuneResult.Precision"/>).
    /// Null (the default) tunes the model as given; plans tuned under a budget are cached under their own key.
    /// </summary>
    public Precision.AccuracyBudget? AccuracyBudget { get; init; }

    /// <summary>Finds the lower-precision candidate under <see cref="AccuracyBudget"/> (AccelSdk.Optimize's <c>MixedPrecisionSearch</c>); required with a budget.</summary>
    public Precision.IPrecisionSearch? PrecisionSearch { get; init; }

    /// <summary>Inputs the search calibrates and measures accuracy on, and the kept plan is checked on; null uses <see cref="SampleInputs"/> (or the fixed-seed inputs) alone.</summary>
    public IReadOnlyList<IReadOnlyDictionary<string, AccelTensor>>? CalibrationInputs { get; init; }

    /// <summary>Set by <see cref="Autotuner.Tune(AccelRuntime, Model, AutotuneOptions?, CancellationToken)"/> for the one tuning these options drive.</summary>
    internal TuneScope? Scope { get; init; }

    /// <summary>The cache of the tuning that tunes the lower-precision model inside it, so both write one cache.</summary>
    internal Cache.TuningCache? SharedCache { get; init; }

    /// <summary>The autotuner's options for <see cref="AccelRuntime.Select(Model, SelectOptions?, IProgress{SelectionProgress}?, CancellationToken)"/>'s.</summary>
    public static AutotuneOptions From(SelectOptions options) => new()
    {
        Policy = options.Policy,
        SampleInputs = options.SampleInputs,
        Candidates = options.Candidates,
        Pins = options.Pins,
        MemoryLimits = options.MemoryLimits,
        Compile = options.Compile,
        PartitionOverlap = options.PartitionOverlap,
    };
}
