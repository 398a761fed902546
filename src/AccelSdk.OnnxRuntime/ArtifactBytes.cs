using System.IO.Hashing;
using AccelSdk.Storage;

namespace AccelSdk.OnnxRuntime;

/// <summary>
/// Reads saved ORT-format models into pinned buffers, shared by every session of the same unchanged file in this
/// process (a session keeps pointers into its buffer), each with the content hash of its bytes. Only regular files are
/// read, within a time limit.
/// </summary>
internal static class ArtifactBytes
{
    private static readonly TimeSpan ReadTimeout = TimeSpan.FromSeconds(60);

    private static readonly Dictionary<string, (long Length, DateTime WrittenUtc, WeakReference<byte[]> Bytes, string ContentHash)> Shared = new(StringComparer.Ordinal);

    /// <summary>The file's bytes in a pinned array (its address never moves, as ONNX Runtime keeps pointers into it) and their content hash.</summary>
    public static (byte[] Bytes, string ContentHash) Read(string path)
    {
        var info = new FileInfo(path);
        if (!info.Exists) throw new FileNotFoundException("not found", path);
        lock (Shared)
        {
            if (Shared.TryGetValue(path, out var entry) && entry.Length == info.Length && entry.WrittenUtc == info.LastWriteTimeUtc && entry.Bytes.TryGetTarget(out var shared))
            {
                return (shared, entry.ContentHash);
            }
        }
        var bytes = RegularFile.ReadAllBytes(path, Array.MaxLength, ReadTimeout, pinned: true);
        if (bytes.Length == 0) throw new IOException($"{path}: empty");
        var hash = ContentHash(bytes);
        lock (Shared)
        {
            foreach (var dead in Shared.Where(kv => !kv.Value.Bytes.TryGetTarget(out _)).Select(kv => kv.Key).ToList()) Shared.Remove(dead);
            Shared[path] = (info.Length, info.LastWriteTimeUtc, new WeakReference<byte[]>(bytes), hash);
        }
        return (bytes, hash);
    }

    /// <summary>The content hash of a file this process just wrote, read as a stream.</summary>
    public static string ContentHashOfFile(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        var hash = new XxHash128();
        hash.Append(stream);
        return Prefix + Convert.ToHexStringLower(hash.GetCurrentHash());
    }

    /// <summary>XXH128 of <paramref name="bytes"/> with its algorithm: <c>xxh128:</c> and 32 hex digits.</summary>
    public static string ContentHash(ReadOnlySpan<byte> bytes) => Prefix + Convert.ToHexStringLower(XxHash128.Hash(bytes));

    /// <summary>Drops the shared buffer of a file found broken.</summary>
    public static void Forget(string path)
    {
        lock (Shared) Shared.Remove(path);
    }

    private const string Prefix = "xxh128:";
}
