using AccelSdk.Backends;
using AccelSdk.Execution;

namespace AccelSdk.Autotune.Cache;

/// <summary>
/// Checks a tuning cache's sections as a whole before any entry is used: every entry present (no nulls), every cost a
/// finite non-negative number, every status, source, stream mode and content hash one that is written. The first
/// problem found is returned with where it is; the file is then rejected whole.
/// </summary>
internal static class CacheValidation
{
    private static readonly string[] NodeStatuses = { "measured", "abandoned" };
    private static readonly string[] PlanSources = { "autotuned", "single_backend" };

    /// <summary>The first problem in <paramref name="body"/>, or null when every entry is valid.</summary>
    public static string? FirstProblem(TuningCache.CacheBody body)
    {
        if (body.Nodes is null || body.Transfers is null || body.Overheads is null || body.Plans is null || body.Artifacts is null)
        {
            return "a section (nodes, transfers, overheads, plans, artifacts) is missing or null";
        }
        return body.Nodes.Select(kv => Node(kv.Key, kv.Value)).FirstOrDefault(p => p is not null)
            ?? body.Transfers.Select(kv => Transfer(kv.Key, kv.Value)).FirstOrDefault(p => p is not null)
            ?? body.Overheads.Select(kv => Cost($"overheads[\"{kv.Key}\"]", kv.Value)).FirstOrDefault(p => p is not null)
            ?? body.Plans.Select(kv => Plan(kv.Key, kv.Value)).FirstOrDefault(p => p is not null)
            ?? body.Artifacts.Select(kv => Artifact(kv.Key, kv.Value)).FirstOrDefault(p => p is not null);
    }

    private static string? Node(string key, CachedNodeTiming? t)
    {
        var at = $"nodes[\"{key}\"]";
        if (t is null) return at + " is null";
        if (!NodeStatuses.Contains(t.Status)) return $"{at}.status is '{t.Status}', not one of {string.Join(", ", NodeStatuses)}";
        if (t.Status == "measured" && t.MedianMs is null) return $"{at}.median_ms is missing for a measured node";
        return OptionalCost(at + ".median_ms", t.MedianMs) ?? Cost(at + ".compile_ms", t.CompileMs) ?? Cost(at + ".warmup_ms", t.WarmupMs)
            ?? Cost(at + ".relative_spread", t.RelativeSpread) ?? (t.Runs < 0 ? $"{at}.runs is {t.Runs}, negative" : null);
    }

    private static string? Transfer(string device, CachedTransfer? t)
    {
        var at = $"transfers[\"{device}\"]";
        if (t is null) return at + " is null";
        return Cost(at + ".upload_fixed_ms", t.UploadFixedMs) ?? Cost(at + ".upload_ms_per_mi_b", t.UploadMsPerMiB)
            ?? Cost(at + ".download_fixed_ms", t.DownloadFixedMs) ?? Cost(at + ".download_ms_per_mi_b", t.DownloadMsPerMiB);
    }

    private static string? Plan(string key, CachedPlan? plan)
    {
        var at = $"plans[\"{key}\"]";
        if (plan is null) return at + " is null";
        if (plan.Placements is null) return at + ".placements is null";
        if (plan.Placements.Any(p => p is null)) return at + ".placements holds a null device";
        if (!PlanSources.Contains(plan.Source)) return $"{at}.source is '{plan.Source}', not one of {string.Join(", ", PlanSources)}";
        if (plan.TunedAt is null) return at + ".tuned_at is null";
        if (plan.StreamExecution is { } mode && !Enum.TryParse<StreamExecution>(mode, out _)) return $"{at}.stream_execution '{mode}' is not a stream mode";
        if (plan.Settings is { } settings && settings.Values.Any(v => v is null)) return at + ".settings holds a null value";
        if (plan.SingleBackend is null) return at + ".single_backend is null";
        return Cost(at + ".measured_ms", plan.MeasuredMs) ?? OptionalCost(at + ".throughput_per_second", plan.ThroughputPerSecond)
            ?? plan.SingleBackend.Select((s, i) => SingleBackend($"{at}.single_backend[{i}]", s)).FirstOrDefault(p => p is not null)
            ?? (plan.Precision is { } precision ? Precision(at + ".precision", precision) : null);
    }

    private static readonly string[] LayerPrecisions = { "int8", "float16", "float32" };

    private static string? Precision(string at, CachedPrecision p)
    {
        if (p.Layers is null || p.Reason is null) return at + " has null layers or reason";
        if (p.Layers.Values.Any(v => !LayerPrecisions.Contains(v))) return $"{at}.layers holds a precision other than {string.Join(", ", LayerPrecisions)}";
        if (p.LowerPrecisionKept && (p.ModelFile is null || p.ModelSha256 is null)) return at + " keeps a lower-precision model but names no model file and hash";
        if (p.ModelFile is { } file && (file.Length == 0 || file != Path.GetFileName(file) || file is "." or "..")) return $"{at}.model_file '{file}' is not a plain file name";
        if (p.ModelSha256 is { } sha && (sha.Length != 64 || !sha.All(char.IsAsciiHexDigitLower))) return $"{at}.model_sha256 is not 64 lowercase hex digits";
        if (p.Cosine is { } c && !(c >= -1 && c <= 1)) return $"{at}.cosine is {c}, outside [-1, 1]";
        if (p.Top1 is { } t && !(t >= 0 && t <= 1)) return $"{at}.top1 is {t}, outside [0, 1]";
        return OptionalCost(at + ".float32_ms", p.Float32Ms) ?? OptionalCost(at + ".lower_precision_ms", p.LowerPrecisionMs);
    }

    private static string? SingleBackend(string at, CachedSingleBackend? s)
    {
        if (s is null) return at + " is null";
        if (s.Device is null || s.Backend is null) return at + " has a null device or backend";
        return OptionalCost(at + ".measured_ms", s.MeasuredMs);
    }

    private static string? Artifact(string fileName, ArtifactRecord? record)
    {
        var at = $"artifacts[\"{fileName}\"]";
        if (fileName.Length == 0 || fileName != Path.GetFileName(fileName) || fileName is "." or "..") return at + ": not a plain file name";
        if (record is null) return at + " is null";
        if (record.ContentHash is null || !IsContentHash(record.ContentHash)) return $"{at}.content_hash '{record.ContentHash}' is not an algorithm and hex digits";
        return record.Bytes <= 0 ? $"{at}.bytes is {record.Bytes}, not positive" : null;
    }

    private static bool IsContentHash(string text)
    {
        var colon = text.IndexOf(':');
        return colon > 0 && colon < text.Length - 1 && text[..colon].All(char.IsAsciiLetterOrDigit) && text[(colon + 1)..].All(char.IsAsciiHexDigitLower);
    }

    private static string? OptionalCost(string at, double? value) => value is { } v ? Cost(at, v) : null;

    private static string? Cost(string at, double value) =>
        double.IsFinite(value) && value >= 0 ? null : $"{at} is {value.ToString(System.Globalization.CultureInfo.InvariantCulture)}, not a finite non-negative number";
}
