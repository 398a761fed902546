using System.Globalization;
using AccelSdk.Backends;
using AccelSdk.Ir;

namespace AccelSdk.Autotune.Precision;

/// <summary>
/// How much accuracy a lower-precision plan may lose against the float32 model, measured on the calibration inputs:
/// the mean output cosine may fall by at most <see cref="MaxCosineDrop"/>, and top-1 agreement on class-score outputs
/// must stay at least <see cref="MinTop1"/>. At least one of the two is required.
/// </summary>
public sealed record AccuracyBudget
{
    /// <summary>Largest allowed drop of the mean output cosine (0.005: cosine >= 0.995), in [0, 2].</summary>
    public double? MaxCosineDrop { get; init; }

    /// <summary>Lowest allowed top-1 agreement with the float32 model on class-score outputs, in [0, 1].</summary>
    public double? MinTop1 { get; init; }

    /// <summary>True when a candidate with this mean output cosine and top-1 agreement (null: not measurable) is within the budget.</summary>
    public bool IsMetBy(double cosine, double? top1) =>
        (MaxCosineDrop is not { } d || cosine >= 1 - d) && (MinTop1 is not { } t || top1 >= t);

    /// <summary>The budget as the report and the cache key write it (<c>cosine>=0.995</c>, <c>top1>=0.9</c>).</summary>
    public override string ToString() => string.Join(",", new[]
    {
        MaxCosineDrop is { } d ? "cosine>=" + (1 - d).ToString("0.######", CultureInfo.InvariantCulture) : null,
        MinTop1 is { } t ? "top1>=" + t.ToString("0.######", CultureInfo.InvariantCulture) : null,
    }.OfType<string>());

    internal void Validate()
    {
        if (MaxCosineDrop is null && MinTop1 is null) throw new AccelSdkException("autotune accuracy budget: give MaxCosineDrop (--max-cosine-drop) or MinTop1 (--min-top1)");
        if (MaxCosineDrop is { } d && (double.IsNaN(d) || d < 0 || d > 2)) throw new AccelSdkException($"autotune accuracy budget: MaxCosineDrop (--max-cosine-drop) {d} is outside [0, 2]");
        if (MinTop1 is { } t && (double.IsNaN(t) || t < 0 || t > 1)) throw new AccelSdkException($"autotune accuracy budget: MinTop1 (--min-top1) {t} is outside [0, 1]");
    }
}

/// <summary>A lower-precision version of a model that a <see cref="IPrecisionSearch"/> found within the budget.</summary>
/// <param name="Model">The model with some layers in lower precision (e.g. int8 QDQ).</param>
/// <param name="Layers">Each layer the search considered (node name in <paramref name="Model"/>) and its precision: <c>int8</c>, <c>float16</c> or <c>float32</c>.</param>
/// <param name="Summary">One line on how it was found (candidates tried, the one chosen).</param>
public sealed record PrecisionCandidate(Model Model, IReadOnlyDictionary<string, string> Layers, string Summary);

/// <summary>
/// Finds a lower-precision version of a model within an accuracy budget, for the autotuner to measure against the
/// float32 plan (AccelSdk.Optimize's <c>MixedPrecisionSearch</c> chooses int8 or float32 per layer), and persists it so
/// that a cached plan reloads it without searching again.
/// </summary>
public interface IPrecisionSearch
{
    /// <summary>
    /// The fastest version of <paramref name="model"/> it finds within <paramref name="budget"/> on
    /// <paramref name="device"/>, measured on <paramref name="calibration"/>; null when only float32 meets it (with the
    /// reason in <paramref name="why"/>).
    /// </summary>
    PrecisionCandidate? Search(Model model, IReadOnlyList<IReadOnlyDictionary<string, AccelTensor>> calibration, AccuracyBudget budget,
        AccelRuntime runtime, DeviceTarget device, CancellationToken cancellationToken, out string why);

    /// <summary>The model file's bytes (ONNX), for the tuning cache.</summary>
    byte[] Save(Model model);

    /// <summary>Reads back what <see cref="Save"/> wrote; <paramref name="label"/> names it in errors.</summary>
    Model Load(byte[] bytes, string label);
}

/// <summary>Where one partition of the kept plan computes: how many of its layers run int8, float16 or float32.</summary>
/// <param name="Partition">Index in the plan.</param>
/// <param name="Device">Its device id.</param>
/// <param name="Int8Layers">Layers (by the search's choice) that run int8.</param>
/// <param name="Float16Layers">Layers that run float16.</param>
/// <param name="Float32Layers">Layers the search kept float32.</param>
public sealed record PartitionPrecision(int Partition, string Device, int Int8Layers, int Float16Layers, int Float32Layers)
{
    /// <summary><c>int8</c>, <c>float16</c> or <c>float32</c> when all its layers agree, <c>mixed</c> otherwise; <c>float32</c> without layers.</summary>
    public string Precision =>
        (Int8Layers > 0 ? 1 : 0) + (Float16Layers > 0 ? 1 : 0) + (Float32Layers > 0 ? 1 : 0) > 1 ? "mixed"
        : Int8Layers > 0 ? "int8" : Float16Layers > 0 ? "float16" : "float32";
}

/// <summary>What the accuracy-budgeted tuning measured and kept (<see cref="AutotuneOptions.AccuracyBudget"/>).</summary>
public sealed record PrecisionResult
{
    /// <summary>The budget tuned under.</summary>
    public required AccuracyBudget Budget { get; init; }

    /// <summary>True when the kept plan runs the lower-precision model, false when float32 was kept.</summary>
    public bool LowerPrecisionKept { get; init; }

    /// <summary>The model the user gave (float32).</summary>
    public required Model SourceModel { get; init; }

    /// <summary>The lower-precision model the search found, or null when it found none.</summary>
    public Model? Candidate { get; init; }

    /// <summary>Mean output cosine of the lower-precision plan against the float32 plan on the calibration inputs (the worst output).</summary>
    public double? Cosine { get; init; }

    /// <summary>Top-1 agreement on class-score outputs, when the model has one.</summary>
    public double? Top1 { get; init; }

    /// <summary>Measured median latency of the kept float32 plan.</summary>
    public double? Float32Ms { get; init; }

    /// <summary>Measured median latency of the kept lower-precision plan.</summary>
    public double? LowerPrecisionMs { get; init; }

    /// <summary>Per layer of the candidate: int8, float16 or float32.</summary>
    public IReadOnlyDictionary<string, string> Layers { get; init; } = new Dictionary<string, string>();

    /// <summary>The kept plan's partitions and what precision each computes in.</summary>
    public IReadOnlyList<PartitionPrecision> Partitions { get; init; } = Array.Empty<PartitionPrecision>();

    /// <summary>Why the kept plan was kept (or why there was no lower-precision candidate), and how the search went.</summary>
    public string Reason { get; init; } = "";

    /// <summary>SHA-256 of the cached candidate model file, when cached.</summary>
    public string? CandidateSha256 { get; init; }

    /// <summary>The cached candidate's file name in the compiled-artefact directory.</summary>
    internal string? ModelFile { get; init; }
}
