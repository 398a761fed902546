using System.Security.Cryptography;
using AccelSdk.Cluster.Wire;
using AccelSdk.Ir;

namespace AccelSdk.Cluster.Hosting;

/// <summary>
/// A node's models on its own disk, one file per content digest (<c>DIGEST.onnx</c>). Uploads go to a private partial
/// file, written strictly in order, and are kept only once their length, SHA-256 and parsed <see cref="ModelDigest"/>
/// match what was announced. Thread-safe.
/// </summary>
public sealed class NodeModelStore
{
    /// <summary>Largest model accepted (a protobuf ONNX model cannot exceed 2 GiB).</summary>
    public const long MaxModelBytes = 2L << 30;

    private static readonly string[] Extensions = { ".onnx", ".ort", ".tflite" };
    private readonly object _gate = new();
    private readonly Dictionary<string, Upload> _uploads = new(StringComparer.Ordinal);
    private long _bytesReceived;
    private int _accepted;
    private int _refused;

    /// <summary>Creates the store under <paramref name="directory"/> for node <paramref name="node"/>.</summary>
    public NodeModelStore(string node, string directory)
    {
        Node = node;
        Directory = System.IO.Directory.CreateDirectory(directory).FullName;
        System.IO.Directory.CreateDirectory(PartialDirectory);
    }

    /// <summary>The node name, for messages.</summary>
    public string Node { get; }

    /// <summary>Where models are kept.</summary>
    public string Directory { get; }

    private string PartialDirectory => Path.Combine(Directory, ".partial");

    /// <summary>The stored file of <paramref name="digest"/>, or null.</summary>
    public string? Find(string digest) =>
        IsDigest(digest) ? Extensions.Select(e => Path.Combine(Directory, digest + e)).FirstOrDefault(File.Exists) : null;

    /// <summary>The stored file of <paramref name="digest"/>; <see cref="ModelTransferException"/> when it is not here.</summary>
    public string PathOf(string digest) => Find(digest) ?? throw new ModelTransferException(Node, digest, "not stored on this node: upload it first");

    /// <summary>Starts an upload, dropping any unfinished one of the same digest.</summary>
    public void Begin(string digest, string extension, long length, string sha256)
    {
        if (!IsDigest(digest)) throw new ModelTransferException(Node, digest, "a model digest is 32 lowercase hex characters");
        if (!Extensions.Contains(extension, StringComparer.Ordinal)) throw new ModelTransferException(Node, digest, $"file extension '{extension}' is not one of {string.Join(", ", Extensions)}");
        if (length <= 0 || length > MaxModelBytes) throw new ModelTransferException(Node, digest, $"announced length {length:N0} bytes is outside 1..{MaxModelBytes:N0}");
        if (sha256.Length != 64 || !sha256.All(Uri.IsHexDigit)) throw new ModelTransferException(Node, digest, "announced SHA-256 is not 64 hex characters");
        lock (_gate)
        {
            if (_uploads.Remove(digest, out var old)) old.Dispose();
            var partial = Path.Combine(PartialDirectory, digest + extension);
            _uploads[digest] = new Upload(partial, extension, length, sha256.ToLowerInvariant(), new FileStream(partial, FileMode.Create, FileAccess.Write, FileShare.None));
        }
    }

    /// <summary>Appends a chunk; it must start where the previous one ended and stay within the announced length.</summary>
    public void Write(string digest, long offset, ReadOnlySpan<byte> chunk)
    {
        lock (_gate)
        {
            var upload = Current(digest);
            if (offset != upload.Written) Refuse(digest, upload, $"chunk at offset {offset:N0}, expected {upload.Written:N0} (chunks are sent in order)");
            if (upload.Written + chunk.Length > upload.Length) Refuse(digest, upload, $"chunk ends at {upload.Written + chunk.Length:N0} bytes, past the announced {upload.Length:N0}");
            upload.Stream.Write(chunk);
            upload.Written += chunk.Length;
            _bytesReceived += chunk.Length;
        }
    }

    /// <summary>Verifies a finished upload and keeps it; refuses and deletes it otherwise.</summary>
    public void Complete(string digest)
    {
        Upload upload;
        lock (_gate)
        {
            upload = Current(digest);
            _uploads.Remove(digest);
        }
        upload.Stream.Dispose();
        try
        {
            if (upload.Written != upload.Length) Fail(digest, $"incomplete upload: {upload.Written:N0} of {upload.Length:N0} bytes received");
            var sha = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(upload.Path)));
            if (sha != upload.Sha256) Fail(digest, $"SHA-256 of the received bytes is {sha}, announced {upload.Sha256}");
            var parsed = LoadForCheck(digest, upload.Path);
            if (parsed != digest) Fail(digest, $"the received model has digest {parsed}");
            File.Move(upload.Path, Path.Combine(Directory, digest + upload.Extension), overwrite: true);
            Interlocked.Increment(ref _accepted);
        }
        catch
        {
            File.Delete(upload.Path);
            throw;
        }
    }

    /// <summary>Counters and held digests.</summary>
    public ModelStoreStats Stats()
    {
        var digests = System.IO.Directory.EnumerateFiles(Directory).Select(Path.GetFileNameWithoutExtension).OfType<string>().Where(IsDigest).Order(StringComparer.Ordinal).ToList();
        lock (_gate) return new ModelStoreStats(Node, _bytesReceived, _accepted, _refused, digests);
    }

    /// <summary>True for 32 lowercase hex characters (what <see cref="ModelDigest.Of"/> returns).</summary>
    public static bool IsDigest(string digest) => digest.Length == 32 && digest.All(c => c is >= '0' and <= '9' or >= 'a' and <= 'f');

    private string LoadForCheck(string digest, string path)
    {
        try
        {
            return LocalRuntime.DigestOf(path);
        }
        catch (AccelSdkException e)
        {
            Fail(digest, "the received bytes are not a loadable model: " + e.Message);
            throw;
        }
    }

    private Upload Current(string digest) =>
        _uploads.TryGetValue(digest, out var upload) ? upload : throw new ModelTransferException(Node, digest, "no upload of this digest was begun (or it was already refused)");

    private void Refuse(string digest, Upload upload, string problem)
    {
        _uploads.Remove(digest);
        upload.Dispose();
        File.Delete(upload.Path);
        Fail(digest, problem);
    }

    private void Fail(string digest, string problem)
    {
        Interlocked.Increment(ref _refused);
        throw new ModelTransferException(Node, digest, problem);
    }

    private sealed class Upload(string path, string extension, long length, string sha256, FileStream stream) : IDisposable
    {
        public string Path { get; } = path;
        public string Extension { get; } = extension;
        public long Length { get; } = length;
        public string Sha256 { get; } = sha256;
        public FileStream Stream { get; } = stream;
        public long Written { get; set; }

        public void Dispose() => Stream.Dispose();
    }
}
