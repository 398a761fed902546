namespace AccelSdk.Cluster.Wire;

/// <summary>One device of a node as its backend reports it.</summary>
[GenerateSerializer, Immutable]
public sealed record NodeDevice(
    [property: Id(0)] string Id,
    [property: Id(1)] string Backend,
    [property: Id(2)] string Name,
    [property: Id(3)] string Kind,
    [property: Id(4)] bool IsAvailable,
    [property: Id(5)] string? UnavailableReason);

/// <summary>What a node publishes about itself: devices, the machine probe's facts and fingerprint, runtimes, memory.</summary>
[GenerateSerializer, Immutable]
public sealed record NodeInfo(
    [property: Id(0)] string Name,
    [property: Id(1)] int ProcessId,
    [property: Id(2)] string? MachineFingerprint,
    [property: Id(3)] IReadOnlyDictionary<string, string> ProbeFacts,
    [property: Id(4)] IReadOnlyList<NodeDevice> Devices,
    [property: Id(5)] IReadOnlyDictionary<string, string> BackendVersions,
    [property: Id(6)] long AvailableMemoryBytes,
    [property: Id(7)] int ProcessorCount,
    [property: Id(8)] IReadOnlyList<string> StoredModels)
{
    /// <summary>Why the node took itself out (its backend failed at run time), or null while it serves.</summary>
    [Id(9)]
    public string? UnavailableReason { get; init; }
}
