namespace AccelSdk.Cluster.Wire;

/// <summary>How a node prepares its session for one model (the local <see cref="SelectOptions"/> that travel).</summary>
[GenerateSerializer, Immutable]
public sealed record PrepareRequest(
    [property: Id(0)] SelectionPolicy Policy,
    [property: Id(1)] IReadOnlyList<string>? Candidates,
    [property: Id(2)] int MeasuredRuns,
    [property: Id(3)] int WarmupRuns,
    [property: Id(4)] TensorPayload[]? SampleInputs,
    [property: Id(5)] bool Autotune = false);

/// <summary>What a node measured when it prepared its session: the device it chose and its own latency.</summary>
[GenerateSerializer, Immutable]
public sealed record PrepareResult(
    [property: Id(0)] string Node,
    [property: Id(1)] string Device,
    [property: Id(2)] double NodeMedianMs,
    [property: Id(3)] double? NodeThroughputPerSecond,
    [property: Id(4)] IReadOnlyList<string> OutputNames,
    [property: Id(5)] string? TuningSource = null);

/// <summary>Counters of one inference grain, for reports and tests.</summary>
[GenerateSerializer, Immutable]
public sealed record InferenceStats(
    [property: Id(0)] string Node,
    [property: Id(1)] long Runs,
    [property: Id(2)] long CancelledBeforeRun,
    [property: Id(3)] long DeadlinePassed);

/// <summary>One run's reply: outputs in graph order.</summary>
[GenerateSerializer, Immutable]
public sealed record RunReply(
    [property: Id(0)] string Node,
    [property: Id(1)] TensorPayload[] Outputs);

/// <summary>Counters of a node's model store, for reports and tests.</summary>
[GenerateSerializer, Immutable]
public sealed record ModelStoreStats(
    [property: Id(0)] string Node,
    [property: Id(1)] long BytesReceived,
    [property: Id(2)] int UploadsAccepted,
    [property: Id(3)] int UploadsRefused,
    [property: Id(4)] IReadOnlyList<string> Digests);

/// <summary>
/// The fleet's tuning cache file of one machine fingerprint, shared with the nodes of that fingerprint: the plans every
/// node of it tuned, merged.
/// </summary>
/// <param name="FileName">The cache file name (<c>autotune-FINGERPRINT_HASH.json</c>): the key.</param>
/// <param name="Bytes">Its content (checked as a whole by the receiving node's tuner before use).</param>
/// <param name="PublishedBy">The node that published this version.</param>
[GenerateSerializer, Immutable]
public sealed record SharedTuning(
    [property: Id(0)] string FileName,
    [property: Id(1)] byte[] Bytes,
    [property: Id(2)] string PublishedBy)
{
    /// <summary>
    /// The version this file is (as read) or builds on (as published): a publication is stored only when it builds on
    /// the stored version, so that two nodes merging at once cannot drop each other's plans.
    /// </summary>
    [Id(3)]
    public long Version { get; init; }

    /// <summary>The node that tuned each plan in the file, by plan key (<c>AutotuneResult.PlanKey</c>).</summary>
    [Id(4)]
    public IReadOnlyDictionary<string, string> PlanOwners { get; init; } = new Dictionary<string, string>(StringComparer.Ordinal);
}
