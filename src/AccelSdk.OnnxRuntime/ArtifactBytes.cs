namespace AccelSdk.OnnxRuntime;

/// <summary>
/// The pinned bytes of saved ORT-format models, read once per process while any session still holds them: ONNX
/// Runtime reads the model straight from the buffer and never writes it, so sessions of the same
/// artefact share one buffer, and a second selection in the same process skips the file read. Entries are weak: a
/// buffer is freed with the last session that uses it. A file rewritten since (other length or time) is read again.
/// </summary>
internal static class ArtifactBytes
{
    private static readonly Dictionary<string, (long Length, DateTime WrittenUtc, WeakReference<byte[]> Bytes)> Shared = new(StringComparer.Ordinal);

    /// <summary>The file's bytes in a pinned array (its address never moves, as ONNX Runtime keeps pointers into it).</summary>
    public static byte[] Read(string path)
    {
        var info = new FileInfo(path);
        if (!info.Exists) throw new FileNotFoundException("not found", path);
        lock (Shared)
        {
            if (Shared.TryGetValue(path, out var entry) && entry.Length == info.Length && entry.WrittenUtc == info.LastWriteTimeUtc && entry.Bytes.TryGetTarget(out var shared))
            {
                return shared;
            }
        }
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
        if (file.Length is 0 or > int.MaxValue) throw new IOException($"unexpected length {file.Length}");
        var bytes = GC.AllocateUninitializedArray<byte>((int)file.Length, pinned: true);
        file.ReadExactly(bytes);
        lock (Shared)
        {
            foreach (var dead in Shared.Where(kv => !kv.Value.Bytes.TryGetTarget(out _)).Select(kv => kv.Key).ToList()) Shared.Remove(dead);
            Shared[path] = (info.Length, info.LastWriteTimeUtc, new WeakReference<byte[]>(bytes));
        }
        return bytes;
    }

    /// <summary>Drops the shared buffer of a file found broken.</summary>
    public static void Forget(string path)
    {
        lock (Shared) Shared.Remove(path);
    }
}
