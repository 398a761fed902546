namespace AccelSdk.Optimize.Pruning;

/// <summary>Where unstructured magnitude pruning ranks weights.</summary>
public enum PruningScope
{
    /// <summary>Each layer loses the same share of its weights.</summary>
    PerLayer,

    /// <summary>One threshold over all prunable weights: layers with many small weights lose more.</summary>
    Global,
}

/// <summary>Options of pruning.</summary>
public sealed record PruningOptions
{
    /// <summary>Share of weights (unstructured) or of channels of each prunable layer (structured) to remove, in [0, 1).</summary>
    public double Sparsity { get; init; } = 0.5;

    /// <summary>
    /// Structured pruning: share of the attention heads removed from each self-attention block of a transformer encoder
    /// (BERT-family exports: Q/K/V projections reshaped into heads), in [0, 1); whole heads go from Q, K, V and the output
    /// projection together and the Reshapes follow. 0 (the default) leaves the heads; <see cref="Sparsity"/> then
    /// applies to the channel groups, which in such an encoder are the FFN widths.
    /// </summary>
    public double HeadSparsity { get; init; }

    /// <summary>Ranking scope for unstructured pruning.</summary>
    public PruningScope Scope { get; init; } = PruningScope.PerLayer;

    /// <summary>Nodes to leave as they are.</summary>
    public IReadOnlyCollection<string> ExcludedNodes { get; init; } = Array.Empty<string>();

    /// <summary>Weights with fewer elements are left alone.</summary>
    public long MinimumWeightElements { get; init; } = 1024;

    /// <summary>
    /// Structured pruning: every layer keeps a multiple of this many channels (1: any count). Null (the default): the
    /// channel block of ONNX Runtime's CPU convolutions here (16 with AVX-512, 8 with AVX2, else 1); other counts drop
    /// those layers off the blocked kernels, and a smaller model can be slower (BlazeFace-256 at 30%: 0.95x unaligned,
    /// 2.30x at multiples of 16).
    /// </summary>
    public int? ChannelMultiple { get; init; }

    /// <summary>How structured pruning refits layers on calibration data (used when calibration samples are given).</summary>
    public RecoveryOptions Recovery { get; init; } = new();

    internal void Validate()
    {
        Recovery.Validate();
        if (ChannelMultiple is < 1 or > 256) throw new InvalidOptimizationOptionException("channel multiple", $"{ChannelMultiple} is outside [1, 256]");
        if (double.IsNaN(Sparsity) || Sparsity < 0 || Sparsity >= 1)
        {
            throw new InvalidOptimizationOptionException("sparsity", $"{Sparsity} is outside [0, 1)");
        }
        if (double.IsNaN(HeadSparsity) || HeadSparsity < 0 || HeadSparsity >= 1)
        {
            throw new InvalidOptimizationOptionException("head sparsity", $"{HeadSparsity} is outside [0, 1)");
        }
    }
}

/// <summary>Least-squares recovery after structured pruning (channel pruning by reconstruction, He et al. 2017; ThiNet).</summary>
public sealed record RecoveryOptions
{
    /// <summary>
    /// Ridge strength relative to the mean diagonal of X'X (the features' mean energy): the refit minimises
    /// |X W - Y|^2 + lambda |W - W0|^2, pulling towards the pruned original weights W0 where the calibration data says
    /// little. Null (the default): each layer takes the one of <see cref="RidgeCandidates"/> whose fit on the other
    /// calibration samples reproduces the held-out samples best (a quarter of them, at least one), then refits on all.
    /// </summary>
    public double? Ridge { get; init; }

    /// <summary>The ridge strengths tried per layer when <see cref="Ridge"/> is null.</summary>
    public IReadOnlyList<double> RidgeCandidates { get; init; } = new[] { 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10 };

    /// <summary>The ridge used when it cannot be chosen on held-out samples (a single calibration sample).</summary>
    internal const double FallbackRidge = 0.02;

    /// <summary>Output positions (pixels or rows) sampled per layer from all calibration samples together.</summary>
    public int RowsPerLayer { get; init; } = 2048;

    /// <summary>Seed of the position sampling.</summary>
    public int Seed { get; init; } = 17;

    /// <summary>Device that runs the original and the pruned model on the calibration samples.</summary>
    public string Device { get; init; } = "ort-cpu";

    /// <summary>The runtime whose devices run the models; null takes <see cref="AccelRuntime.Default"/>.</summary>
    public AccelRuntime? Runtime { get; init; }

    internal void Validate()
    {
        if (Ridge is { } ridge && !IsPositive(ridge)) throw new InvalidOptimizationOptionException("recovery ridge", $"{ridge} must be a positive number");
        if (Ridge is null && (RidgeCandidates.Count == 0 || !RidgeCandidates.All(IsPositive)))
        {
            throw new InvalidOptimizationOptionException("recovery ridge candidates", $"[{string.Join(", ", RidgeCandidates)}] must be one or more positive numbers");
        }
        if (RowsPerLayer < 16) throw new InvalidOptimizationOptionException("recovery rows per layer", $"{RowsPerLayer} is below 16");
    }

    private static bool IsPositive(double value) => value > 0 && !double.IsInfinity(value);
}
