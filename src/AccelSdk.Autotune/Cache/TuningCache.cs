using System.Text.Json;
using System.Text.Json.Serialization;
using AccelSdk.Diagnostics;

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
/// operator signature and device (reused across models), transfer costs, per-call overheads and tuned plans.
/// A corrupt or foreign file is ignored with a warning and rewritten on the next save; it never fails tuning.
/// </summary>
public sealed class TuningCache
{
    /// <summary>Format tag written into every file; a file with another tag is foreign.</summary>
    public const string Format = "accelsdk-autotune-cache/1";

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    private readonly CacheFile _file;

    private TuningCache(string path, MachineFingerprint fingerprint, CacheFile file, bool loaded)
    {
        Path = path;
        Fingerprint = fingerprint;
        _file = file;
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
    public Dictionary<string, CachedNodeTiming> Nodes => _file.Nodes;

    /// <summary>Transfer costs by device id.</summary>
    public Dictionary<string, CachedTransfer> Transfers => _file.Transfers;

    /// <summary>Per-call overhead by device id.</summary>
    public Dictionary<string, double> Overheads => _file.Overheads;

    /// <summary>Tuned plans by model key.</summary>
    public Dictionary<string, CachedPlan> Plans => _file.Plans;

    /// <summary>The cache key of a node timing.</summary>
    public static string NodeKey(string deviceId, string signature) => deviceId + "|" + signature;

    /// <summary>
    /// Opens the cache of <paramref name="fingerprint"/> in <paramref name="directory"/>. A missing file gives an empty
    /// cache; an unreadable, corrupt or foreign one gives an empty cache and a warning.
    /// </summary>
    public static TuningCache Open(string directory, MachineFingerprint fingerprint)
    {
        var path = System.IO.Path.Combine(directory, $"autotune-{fingerprint.Hash}.json");
        if (!File.Exists(path)) return new TuningCache(path, fingerprint, CacheFile.Empty(fingerprint), loaded: false);
        string? problem;
        CacheFile? file = null;
        try
        {
            file = JsonSerializer.Deserialize<CacheFile>(File.ReadAllBytes(path), Json);
            problem = file is null ? "empty document"
                : file.Format != Format ? $"format '{file.Format}' is not {Format}"
                : file.FingerprintHash != fingerprint.Hash ? $"it belongs to machine {file.FingerprintHash}, not this one ({fingerprint.Hash})"
                : file.Nodes is null || file.Transfers is null || file.Overheads is null || file.Plans is null ? "a section is missing"
                : null;
        }
        catch (JsonException e)
        {
            problem = "not valid JSON: " + e.Message;
        }
        catch (IOException e)
        {
            problem = e.Message;
        }
        catch (UnauthorizedAccessException e)
        {
            problem = e.Message;
        }
        catch (NotSupportedException e)
        {
            problem = e.Message;
        }
        if (problem is not null || file is null)
        {
            AccelSdkDiagnostics.Warn($"tuning cache {path} is ignored and will be rebuilt: {problem}");
            return new TuningCache(path, fingerprint, CacheFile.Empty(fingerprint), loaded: false);
        }
        return new TuningCache(path, fingerprint, file, loaded: true);
    }

    /// <summary>Writes the cache atomically (temporary file, then rename). A failure to write is a warning only.</summary>
    public void Save()
    {
        try
        {
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(Path)!);
            var temp = Path + "." + Environment.ProcessId + ".tmp";
            File.WriteAllBytes(temp, JsonSerializer.SerializeToUtf8Bytes(_file, Json));
            File.Move(temp, Path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            AccelSdkDiagnostics.Warn($"tuning cache {Path} could not be written: {e.Message}");
        }
    }

    private sealed class CacheFile
    {
        public string Format { get; set; } = "";
        public string FingerprintHash { get; set; } = "";
        public SortedDictionary<string, string>? Fingerprint { get; set; }
        public Dictionary<string, CachedNodeTiming> Nodes { get; set; } = new(StringComparer.Ordinal);
        public Dictionary<string, CachedTransfer> Transfers { get; set; } = new(StringComparer.Ordinal);
        public Dictionary<string, double> Overheads { get; set; } = new(StringComparer.Ordinal);
        public Dictionary<string, CachedPlan> Plans { get; set; } = new(StringComparer.Ordinal);

        public static CacheFile Empty(MachineFingerprint fingerprint) => new()
        {
            Format = TuningCache.Format,
            FingerprintHash = fingerprint.Hash,
            Fingerprint = fingerprint.Facts,
        };
    }
}
