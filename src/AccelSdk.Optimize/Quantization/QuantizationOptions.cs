namespace AccelSdk.Optimize.Quantization;

/// <summary>What the quantizers leave in float32: nodes by name and operators by type.</summary>
public record QuantizationExclusions
{
    /// <summary>Names of nodes to keep in float32.</summary>
    public IReadOnlyCollection<string> ExcludedNodes { get; init; } = Array.Empty<string>();

    /// <summary>Operator types to keep in float32 (e.g. <c>Gemm</c>).</summary>
    public IReadOnlyCollection<string> ExcludedOpTypes { get; init; } = Array.Empty<string>();

    internal bool Excludes(Ir.Node node) => ExcludedNodes.Contains(node.Name) || ExcludedOpTypes.Contains(node.OpType);
}

/// <summary>Options of dynamic int8 quantization.</summary>
public sealed record DynamicQuantizationOptions : QuantizationExclusions
{
    /// <summary>One scale per output channel/column of each weight instead of one per tensor.</summary>
    public bool PerChannel { get; init; } = true;

    /// <summary>Symmetric int8 weights (zero point 0); false gives asymmetric int8 weights.</summary>
    public bool SymmetricWeights { get; init; } = true;

    /// <summary>7-bit weights, for CPUs without VNNI where u8s8 products can saturate.</summary>
    public bool ReduceRange { get; init; }

    /// <summary>Also quantize Conv (ConvInteger). Off by default: ONNX Runtime's ConvInteger is slower than its float Conv.</summary>
    public bool QuantizeConv { get; init; }

    /// <summary>Weights with fewer elements stay float32 (quantizing them saves nothing and costs accuracy).</summary>
    public long MinimumWeightElements { get; init; } = 256;
}

