using AccelSdk.Cluster.Wire;

namespace AccelSdk.Cluster.Grains;

/// <summary>One per node (keyed by node name, placed on that node): what the node has.</summary>
public interface INodeInfoGrain : IGrainWithStringKey
{
    /// <summary>The node's devices, probe facts, fingerprint, backend versions and free memory, read now.</summary>
    Task<NodeInfo> GetInfoAsync();
}

/// <summary>
/// One per node (keyed by node name, placed on that node): models stored by content digest. An upload is announced
/// with its length and SHA-256, sent in chunks and checked on completion (bytes, then the parsed model's
/// <see cref="Ir.ModelDigest"/>); a refused upload leaves nothing behind.
/// </summary>
public interface IModelStoreGrain : IGrainWithStringKey
{
    /// <summary>True when the node holds a verified model with this digest.</summary>
    Task<bool> HasAsync(string digest);

    /// <summary>Starts (or restarts) an upload.</summary>
    Task BeginUploadAsync(string digest, string extension, long length, string sha256);

    /// <summary>Writes one chunk at <paramref name="offset"/> of a begun upload.</summary>
    Task UploadChunkAsync(string digest, long offset, byte[] chunk);

    /// <summary>Checks the upload and keeps it under its digest, or refuses it with <see cref="ModelTransferException"/>.</summary>
    /// <remarks>Hashing and parsing a large model takes longer than one request may usually wait.</remarks>
    [ResponseTimeout("00:02:00")]
    Task CompleteUploadAsync(string digest);

    /// <summary>Counters: bytes received, uploads accepted and refused, digests held.</summary>
    Task<ModelStoreStats> GetStatsAsync();
}

/// <summary>
/// One per (node, model digest), keyed <c>node/digest</c> and placed on that node: owns one local session of the
/// model loaded from the node's own store.
/// </summary>
public interface IInferenceGrain : IGrainWithStringKey
{
    /// <summary>Selects the local device for the model (measuring as the local API does) and keeps the session.</summary>
    /// <remarks>Measuring every local device can take minutes on a busy node; cancel through the token instead.</remarks>
    [ResponseTimeout("00:10:00")]
    Task<PrepareResult> PrepareAsync(PrepareRequest request, CancellationToken cancellationToken);

    /// <summary>
    /// Runs once. A request whose token is cancelled, or whose deadline (UTC, Unix milliseconds; 0 for none) passed,
    /// before it starts is not run.
    /// </summary>
    Task<RunReply> RunAsync(TensorPayload[] inputs, long deadlineUnixMs, CancellationToken cancellationToken);

    /// <summary>
    /// The per-layer profile of the prepared model on the device the node chose (the autotuner's node timings, from
    /// the node's own tuning cache when present), for the split planner.
    /// </summary>
    [ResponseTimeout("00:10:00")]
    Task<LayerProfile> ProfileLayersAsync(CancellationToken cancellationToken);

    /// <summary>Median time (ms) of <paramref name="runs"/> local runs of the prepared session on its sample inputs, measured on the node.</summary>
    [ResponseTimeout("00:05:00")]
    Task<double> MeasureLocalAsync(int runs, CancellationToken cancellationToken);

    /// <summary>Counters of runs done and refused.</summary>
    Task<InferenceStats> GetStatsAsync();
}

/// <summary>
/// Fleet-shared tuning, one grain per tuning cache file name, which names the machine fingerprint (CPU, cores, OS and
/// every backend with its version): nodes with the same fingerprint reuse what any of them tuned, for every model (each
/// node merges its plans into the file: one entry per model, input shapes, policy and candidates); a node whose
/// fingerprint differs (another backend version included) has another key and tunes for itself, so a version change
/// invalidates every result published before it. Kept in Orleans grain storage: Redis with Redis clustering (it
/// survives the death of the node that published it), memory with localhost clustering.
/// </summary>
public interface IFleetTuningGrain : IGrainWithStringKey
{
    /// <summary>The fleet's cache file of this fingerprint with its version, or null.</summary>
    Task<SharedTuning?> GetAsync();

    /// <summary>
    /// Stores <paramref name="tuning"/> (a node's plans merged into the version it read) when its
    /// <see cref="SharedTuning.Version"/> is still the stored version, and returns true; false when another node
    /// published meanwhile (read and merge again).
    /// </summary>
    Task<bool> PublishAsync(SharedTuning tuning);
}
