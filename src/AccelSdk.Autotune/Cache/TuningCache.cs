using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using AccelSdk.Backends;
using AccelSdk.Storage;

namespace AccelSdk.Autotune.Cache;

/// <summary>A cached measurement of one operator signature on one device.</summary>
public sealed record CachedNodeTiming
{
    /// <summary>measured, abandoned or failed.</summary>
    public string Status { get; init; } = "measured";

    /// <summary>Median run time, when measured (or the one run when abandoned).</summary>
    public double? MedianMs { get; init; }

    /// <summary>Compile time.</summary>
    public double CompileMs { get; init; }

    /// <summary>Warm-up time.</summary>
    public double WarmupMs { get; init; }

    /// <summary>Timed runs.</summary>
    public int Runs { get; init; }

    /// <summary>Interquartile range over median.</summary>
    public double RelativeSpread { get; init; }

    /// <summary>Why abandoned or failed.</summary>
    public string? Note { get; init; }
}

/// <summary>A cached transfer cost model of one device.</summary>
public sealed record CachedTransfer(double UploadFixedMs, double UploadMsPerMiB, double DownloadFixedMs, double DownloadMsPerMiB);

/// <summary>A cached plan of one model (by structure, input shapes, candidates, policy and pins).</summary>
public sealed record CachedPlan
{
    /// <summary>Device id per node, in graph order.</summary>
    public IReadOnlyList<string> Placements { get; init; } = Array.Empty<string>();

    /// <summary>Where the plan came from: <c>autotuned</c> or <c>single_backend</c>.</summary>
    public string Source { get; init; } = "autotuned";

    /// <summary>Measured median latency when tuned.</summary>
    public double MeasuredMs { get; init; }

    /// <summary>When it was tuned (UTC, ISO 8601).</summary>
    public string TunedAt { get; init; } = "";

    /// <summary>Items per second of the kept plan over a stream (throughput policy only).</summary>
    public double? ThroughputPerSecond { get; init; }

    /// <summary>The stream mode the kept plan was fastest in (throughput policy only).</summary>
    public string? StreamExecution { get; init; }

    /// <summary>Compile settings of the kept plan's kernel variant (<see cref="Backends.CompileVariant"/>), or null.</summary>
    public IReadOnlyDictionary<string, string>? Settings { get; init; }

    /// <summary>The single-backend plans as measured when tuned, for the report of a cached selection.</summary>
    public IReadOnlyList<CachedSingleBackend> SingleBackend { get; init; } = Array.Empty<CachedSingleBackend>();

    /// <summary>
    /// Set on plans tuned under an accuracy budget: whether the lower-precision model was kept, the file it is saved
    /// in and what was measured; <see cref="Placements"/> are then that model's nodes. Null on other plans.
    /// </summary>
    public CachedPrecision? Precision { get; init; }
}

/// <summary>The outcome of an accuracy-budgeted tuning, enough to rebuild its plan without searching again.</summary>
public sealed record CachedPrecision
{
    /// <summary>True when the plan runs the lower-precision model in <see cref="ModelFile"/>.</summary>
    public bool LowerPrecisionKept { get; init; }

    /// <summary>The lower-precision model's file name in the compiled-artefact directory (named by its digest), when kept.</summary>
    public string? ModelFile { get; init; }

    /// <summary>SHA-256 (lowercase hex) of <see cref="ModelFile"/>'s bytes: a file that differs is not used.</summary>
    public string? ModelSha256 { get; init; }

    /// <summary>Mean output cosine of the lower-precision plan against float32 on the calibration inputs.</summary>
    public double? Cosine { get; init; }

    /// <summary>Top-1 agreement on class-score outputs.</summary>
    public double? Top1 { get; init; }

    /// <summary>Measured median of the float32 plan.</summary>
    public double? Float32Ms { get; init; }

    /// <summary>Measured median of the lower-precision plan.</summary>
    public double? LowerPrecisionMs { get; init; }

    /// <summary>Per layer: int8, float16 or float32.</summary>
    public IReadOnlyDictionary<string, string> Layers { get; init; } = new Dictionary<string, string>();

    /// <summary>Why the kept plan was kept.</summary>
    public string Reason { get; init; } = "";
}

/// <summary>One single-backend plan as measured when the model was tuned.</summary>
/// <param name="Device">Device id.</param>
/// <param name="Backend">Backend name.</param>
/// <param name="MeasuredMs">Median latency, when it ran.</param>
/// <param name="Abandoned">True when hopeless.</param>
/// <param name="Error">Why it could not run.</param>
public sealed record CachedSingleBackend(string Device, string Backend, double? MeasuredMs, bool Abandoned, string? Error)
{
    /// <summary>The plan's label when it differs from the device id (a kernel variant: <c>ilgpu-cpu [blocked]</c>).</summary>
    public string? Label { get; init; }
}

/// <summary>
/// The tuning cache of one machine: one JSON file per <see cref="MachineFingerprint"/>, holding node timings keyed by
/// operator signature and device (reused across models), transfer costs, per-call overheads, tuned plans, and the
/// content hashes of the compiled plans saved next to it (it is their <see cref="IArtifactIndex"/>).
/// The file is checked as a whole before anything in it is used: only a regular file of at most
/// <see cref="MaxFileBytes"/>, read within <see cref="ReadTimeout"/>, of this format and this machine's exact
/// fingerprint, whose body hashes to the SHA-256 recorded with it and whose every entry is valid (no nulls, finite
/// non-negative costs, known statuses). Anything else is ignored whole with a warning (so the model is tuned afresh)
/// and rewritten on the next save; it never fails tuning.
/// </summary>
public sealed class TuningCache : IArtifactIndex
{
    /// <summary>Format tag written into every file; a file with another tag is foreign.</summary>
    public const string Format = "accelsdk-autotune-cache/2";

    /// <summary>The largest cache file read (64 MiB; a file of ResNet18's tuning is ~100 KB).</summary>
    public const long MaxFileBytes = 64L << 20;

    /// <summary>How long reading the cache file may take before it is given up.</summary>
    public static readonly TimeSpan ReadTimeout = TimeSpan.FromSeconds(10);

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    private readonly CacheBody _body;
    private bool _artifactsChanged;

    private TuningCache(string path, MachineFingerprint fingerprint, CacheBody body, bool loaded)
    {
        Path = path;
        Fingerprint = fingerprint;
        _body = body;
        Loaded = loaded;
    }

    /// <summary><c>$ACCELSDK_CACHE_DIR/autotune</c>, else <c>$XDG_CACHE_HOME/accelsdk/autotune</c>, else <c>~/.cache/accelsdk/autotune</c>.</summary>
    public static string DefaultDirectory
    {
        get
        {
            var explicitDir = Environment.GetEnvironmentVariable("ACCELSDK_CACHE_DIR");
            if (!string.IsNullOrEmpty(explicitDir)) return System.IO.Path.Combine(explicitDir, "autotune");
            var xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
            var root = !string.IsNullOrEmpty(xdg) ? xdg : System.IO.Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
            return System.IO.Path.Combine(root, "accelsdk", "autotune");
        }
    }

    /// <summary>The file backing this cache.</summary>
    public string Path { get; }

    /// <summary>The machine it belongs to.</summary>
    public MachineFingerprint Fingerprint { get; }

    /// <summary>True when an existing valid file was read.</summary>
    public bool Loaded { get; }

    /// <summary>Node timings by <c>device|signature</c>.</summary>
    public Dictionary<string, CachedNodeTiming> Nodes => _body.Nodes;

    /// <summary>Transfer costs by device id.</summary>
    public Dictionary<string, CachedTransfer> Transfers => _body.Transfers;

    /// <summary>Per-call overhead by device id.</summary>
    public Dictionary<string, double> Overheads => _body.Overheads;

    /// <summary>Tuned plans by model key.</summary>
    public Dictionary<string, CachedPlan> Plans => _body.Plans;

    /// <summary>True when an artefact was recorded or forgotten since the cache was opened or last saved.</summary>
    public bool ArtifactsChanged
    {
        get
        {
            lock (_body.Artifacts) return _artifactsChanged;
        }
    }

    /// <summary>The cache key of a node timing.</summary>
    public static string NodeKey(string deviceId, string signature) => deviceId + "|" + signature;

    /// <inheritdoc />
    public ArtifactRecord? Find(string fileName)
    {
        lock (_body.Artifacts) return _body.Artifacts.GetValueOrDefault(fileName);
    }

    /// <inheritdoc />
    public void Record(string fileName, ArtifactRecord record)
    {
        lock (_body.Artifacts)
        {
            _body.Artifacts[fileName] = record;
            _artifactsChanged = true;
        }
    }

    /// <inheritdoc />
    public void Forget(string fileName)
    {
        lock (_body.Artifacts) _artifactsChanged |= _body.Artifacts.Remove(fileName);
    }

    /// <summary>
    /// Opens the cache of <paramref name="fingerprint"/> in <paramref name="directory"/>. A missing file gives an empty
    /// cache; a file that is not a regular file, too large, slow to read, corrupt, foreign or invalid in any entry gives
    /// an empty cache and a warning naming the problem, sent to <paramref name="warn"/> like a failure to save later.
    /// </summary>
    public static TuningCache Open(string directory, MachineFingerprint fingerprint, Action<string>? warn = null)
    {
        var path = System.IO.Path.Combine(directory, $"autotune-{fingerprint.Hash}.json");
        var problem = TryRead(path, fingerprint, out var body);
        if (body is not null) return new TuningCache(path, fingerprint, body, loaded: true) { _warn = warn };
        if (problem is not null) warn?.Invoke($"tuning cache {path} is ignored and will be rebuilt: {problem}");
        return new TuningCache(path, fingerprint, new CacheBody(), loaded: false) { _warn = warn };
    }

    private Action<string>? _warn;

    /// <summary>Writes the cache atomically (temporary file, then rename). A failure to write is a warning only.</summary>
    public void Save()
    {
        var temp = $"{Path}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
        try
        {
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(Path)!);
            byte[] document;
            lock (_body.Artifacts)
            {
                document = Serialize();
                _artifactsChanged = false;
            }
            // CreateNew: never follows a link or opens a FIFO someone left at the temporary name.
            using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None)) file.Write(document);
            File.Move(temp, Path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _warn?.Invoke($"tuning cache {Path} could not be written: {e.Message}");
            TryDelete(temp);
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Nothing more to do: the temporary file is only left behind.
        }
    }

    /// <summary>The hash a cache file records for its body (the body's bytes exactly as they appear in the file).</summary>
    internal static string BodyHash(ReadOnlySpan<byte> body) => Convert.ToHexStringLower(SHA256.HashData(body));

    /// <summary>Null and a body when the file is valid; else the problem (null when the file is simply absent).</summary>
    private static string? TryRead(string path, MachineFingerprint fingerprint, out CacheBody? body)
    {
        body = null;
        byte[] bytes;
        try
        {
            bytes = RegularFile.ReadAllBytes(path, MaxFileBytes, ReadTimeout);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return e.Message.StartsWith(path + ": ", StringComparison.Ordinal) ? e.Message[(path.Length + 2)..] : e.Message;
        }
        try
        {
            using var document = JsonDocument.Parse(bytes);
            var problem = CheckEnvelope(document.RootElement, fingerprint);
            if (problem is not null) return problem;
            var candidate = document.RootElement.GetProperty("body").Deserialize<CacheBody>(Json);
            problem = candidate is null ? "the body is null" : CacheValidation.FirstProblem(candidate);
            if (problem is null) body = candidate;
            return problem;
        }
        catch (JsonException e)
        {
            return "malformed JSON: " + e.Message;
        }
        catch (NotSupportedException e)
        {
            return "malformed JSON: " + e.Message;
        }
    }

    /// <summary>Format, machine (hash and every fact) and the body's hash, before the body is deserialized.</summary>
    private static string? CheckEnvelope(JsonElement root, MachineFingerprint fingerprint)
    {
        if (root.ValueKind != JsonValueKind.Object) return $"the document is a JSON {root.ValueKind}, not an object";
        var format = StringProperty(root, "format");
        if (format != Format) return $"format '{format}' is not {Format}";
        var owner = StringProperty(root, "fingerprint_hash");
        if (owner != fingerprint.Hash) return $"it belongs to machine {owner}, not this one ({fingerprint.Hash})";
        if (!root.TryGetProperty("fingerprint", out var facts) || facts.ValueKind != JsonValueKind.Object) return "the fingerprint is missing";
        var stored = facts.Deserialize<SortedDictionary<string, string?>>(Json)!;
        if (!stored.SequenceEqual(fingerprint.Facts.Select(kv => new KeyValuePair<string, string?>(kv.Key, kv.Value))))
        {
            return $"its fingerprint does not match its hash {owner} (the facts were edited)";
        }
        if (!root.TryGetProperty("body", out var body) || body.ValueKind != JsonValueKind.Object) return "the body is missing or not an object";
        var recorded = StringProperty(root, "body_sha256");
        var actual = BodyHash(JsonMarshal.GetRawUtf8Value(body));
        return recorded == actual ? null : $"its body hashes to {actual}, not the recorded {recorded ?? "(none)"} (it was modified)";
    }

    private static string? StringProperty(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private byte[] Serialize()
    {
        var body = JsonSerializer.SerializeToUtf8Bytes(_body, Json);
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            writer.WriteStartObject();
            writer.WriteString("format", Format);
            writer.WriteString("fingerprint_hash", Fingerprint.Hash);
            writer.WritePropertyName("fingerprint");
            JsonSerializer.Serialize(writer, Fingerprint.Facts, Json);
            writer.WriteString("body_sha256", BodyHash(body));
            writer.WritePropertyName("body");
            writer.WriteRawValue(body, skipInputValidation: true);
            writer.WriteEndObject();
        }
        return stream.ToArray();
    }

    /// <summary>What the file holds besides its format and machine; hashed as written.</summary>
    internal sealed class CacheBody
    {
        public Dictionary<string, CachedNodeTiming> Nodes { get; set; } = new(StringComparer.Ordinal);
        public Dictionary<string, CachedTransfer> Transfers { get; set; } = new(StringComparer.Ordinal);
        public Dictionary<string, double> Overheads { get; set; } = new(StringComparer.Ordinal);
        public Dictionary<string, CachedPlan> Plans { get; set; } = new(StringComparer.Ordinal);
        public Dictionary<string, ArtifactRecord> Artifacts { get; set; } = new(StringComparer.Ordinal);
    }
}
