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

    /// <summary>Ranking scope for unstructured pruning.</summary>
    public PruningScope Scope { get; init; } = PruningScope.PerLayer;

    /// <summary>Nodes to leave as they are.</summary>
    public IReadOnlyCollection<string> ExcludedNodes { get; init; } = Array.Empty<string>();

    /// <summary>Weights with fewer elements are left alone.</summary>
    public long MinimumWeightElements { get; init; } = 1024;

    internal void Validate()
    {
        if (double.IsNaN(Sparsity) || Sparsity < 0 || Sparsity >= 1)
        {
            throw new InvalidOptimizationOptionException("sparsity", $"{Sparsity} is outside [0, 1)");
        }
    }
}
