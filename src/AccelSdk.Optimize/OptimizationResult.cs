namespace AccelSdk.Optimize;

/// <summary>The output of one optimization: the new model and what changed.</summary>
/// <param name="Optimization">Its name: dynamic-int8, static-int8, fp16, prune-unstructured, prune-structured.</param>
/// <param name="Model">The optimized model (the input model is never modified).</param>
/// <param name="ChangedNodes">Names of the nodes the optimization rewrote.</param>
/// <param name="SkippedNodes">Nodes it left as they were, with the reason.</param>
/// <param name="Settings">The settings that shaped the result, for reports.</param>
public sealed record OptimizationResult(string Optimization, Ir.Model Model, IReadOnlyList<string> ChangedNodes,
    IReadOnlyList<(string Node, string Reason)> SkippedNodes, IReadOnlyDictionary<string, string> Settings)
{
    /// <summary>What was decided per layer (channels kept, precision chosen...), for the report's per-layer table.</summary>
    public IReadOnlyList<Reports.LayerChoice> Layers { get; init; } = Array.Empty<Reports.LayerChoice>();

    /// <summary>Observations for the report (why a target was missed, what was measured to decide).</summary>
    public IReadOnlyList<string> Notes { get; init; } = Array.Empty<string>();
}
