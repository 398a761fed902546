namespace AccelSdk.Optimize.Reports;

/// <summary>Latency of the original and optimized model on one device, measured in the same run, interleaved.</summary>
/// <param name="Device">Device id.</param>
/// <param name="BaselineMedianMs">Median latency of the original model, or null when it did not run.</param>
/// <param name="OptimizedMedianMs">Median latency of the optimized model, or null when it did not run.</param>
/// <param name="Speedup">Baseline / optimized median (above 1 is faster).</param>
/// <param name="Runs">Measured runs per model.</param>
/// <param name="Error">Why a model did not run on this device.</param>
public sealed record LatencyResult(string Device, double? BaselineMedianMs, double? OptimizedMedianMs, double? Speedup, int Runs, string? Error);

/// <summary>Accuracy of one output of the optimized model against the original on the evaluation inputs.</summary>
/// <param name="Output">Output name.</param>
/// <param name="MeanCosine">Mean over samples of the cosine similarity of the flattened outputs.</param>
/// <param name="MinCosine">Worst sample's cosine similarity.</param>
/// <param name="MaxAbsError">Largest absolute difference over all samples and elements.</param>
/// <param name="Top1Agreement">Share of samples whose argmax agrees, for outputs that look like class scores ([N, classes]); else null.</param>
public sealed record AccuracyResult(string Output, double MeanCosine, double MinCosine, double MaxAbsError, double? Top1Agreement);

/// <summary>The decision an optimization took for one layer.</summary>
/// <param name="Node">Node name (or its first output when unnamed).</param>
/// <param name="OpType">Its operator.</param>
/// <param name="Choice">What was chosen: "int8" / "float32", "out 64 -> 45, in 64 -> 45"...</param>
/// <param name="Sensitivity">How much accuracy the layer costs when optimized (e.g. the output cosine lost), when measured.</param>
/// <param name="LatencySavedMs">Latency the choice saves (negative: costs), when measured.</param>
/// <param name="Detail">How it was decided or what else was done (refitted, reverted at step 3...).</param>
public sealed record LayerChoice(string Node, string OpType, string Choice, double? Sensitivity = null, double? LatencySavedMs = null, string? Detail = null);

/// <summary>What one optimization did and what it measured.</summary>
public sealed record OptimizationReport
{
    /// <summary>The optimization (dynamic-int8, static-int8, fp16, prune-unstructured, prune-structured).</summary>
    public required string Optimization { get; init; }

    /// <summary>The input model.</summary>
    public required string Model { get; init; }

    /// <summary>Settings that shaped the result (mode, calibrator, sparsity...).</summary>
    public IReadOnlyDictionary<string, string> Settings { get; init; } = new Dictionary<string, string>();

    /// <summary>Serialized ONNX size of the original model.</summary>
    public long BaselineBytes { get; init; }

    /// <summary>Serialized ONNX size of the optimized model.</summary>
    public long OptimizedBytes { get; init; }

    /// <summary>Optimized / original size.</summary>
    public double SizeRatio => BaselineBytes == 0 ? 0 : (double)OptimizedBytes / BaselineBytes;

    /// <summary>Evaluation samples the accuracy rows average over, and where they came from.</summary>
    public int EvaluationSamples { get; init; }

    /// <summary>Where the evaluation samples came from.</summary>
    public string? EvaluationSource { get; init; }

    /// <summary>One row per available device.</summary>
    public IReadOnlyList<LatencyResult> Latency { get; init; } = Array.Empty<LatencyResult>();

    /// <summary>One row per model output.</summary>
    public IReadOnlyList<AccuracyResult> Accuracy { get; init; } = Array.Empty<AccuracyResult>();

    /// <summary>Per-layer decisions.</summary>
    public IReadOnlyList<LayerChoice> Layers { get; init; } = Array.Empty<LayerChoice>();

    /// <summary>Machine load (1-minute load average) and logical cores when the latencies were measured.</summary>
    public string? MachineLoad { get; init; }

    /// <summary>Nodes the optimization changed.</summary>
    public IReadOnlyList<string> ChangedNodes { get; init; } = Array.Empty<string>();

    /// <summary>Nodes it left alone, with the reason.</summary>
    public IReadOnlyList<string> SkippedNodes { get; init; } = Array.Empty<string>();

    /// <summary>Free-form observations (e.g. why a target is missed).</summary>
    public IReadOnlyList<string> Notes { get; init; } = Array.Empty<string>();
}
