namespace AccelSdk.Backends;

/// <summary>The content hash of one persisted compiled artefact, as recorded when it was written.</summary>
/// <param name="ContentHash">The hash with its algorithm, e.g. <c>xxh128:</c> and 32 lowercase hex digits.</param>
/// <param name="Bytes">The file's size.</param>
public sealed record ArtifactRecord(string ContentHash, long Bytes);

/// <summary>
/// Where a backend records the content hash of every artefact it writes into
/// <see cref="CompileOptions.ArtifactCacheDirectory"/>, and checks it before loading one: an artefact whose bytes do
/// not hash to the recorded value (overwritten, truncated, swapped) or that was never recorded is deleted and compiled
/// afresh, never loaded. The autotuner's tuning cache is the index of its compiled-plan directory. Implementations
/// must be thread-safe: partitions may be compiled concurrently.
/// </summary>
public interface IArtifactIndex
{
    /// <summary>The record of the artefact named <paramref name="fileName"/> (a file name inside the directory), or null.</summary>
    ArtifactRecord? Find(string fileName);

    /// <summary>Records (or replaces) the hash of an artefact just written.</summary>
    void Record(string fileName, ArtifactRecord record);

    /// <summary>Forgets an artefact that was found broken and deleted.</summary>
    void Forget(string fileName);
}
