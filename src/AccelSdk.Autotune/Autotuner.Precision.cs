using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using AccelSdk.Autotune.Cache;
using AccelSdk.Autotune.Precision;
using AccelSdk.Backends;
using AccelSdk.Execution;
using AccelSdk.Ir;
using AccelSdk.Selection;

namespace AccelSdk.Autotune;

/// <summary>
/// Tuning under an accuracy budget: the float32 model is tuned as usual, then a lower-precision version found by
/// <see cref="AutotuneOptions.PrecisionSearch"/> is tuned the same way, both kept plans are timed end to end in one
/// interleaved loop, the lower-precision plan's outputs are compared with float32's on the calibration inputs, and the
/// faster plan within the budget is kept. The cache keeps the lower-precision model by its SHA-256, so a cached plan
/// reloads it without searching again.
/// </summary>
public static partial class Autotuner
{
    private static void CheckBudget(AutotuneOptions options)
    {
        if (options.AccuracyBudget is not { } budget) return;
        budget.Validate();
        if (options.PrecisionSearch is null)
        {
            throw new AccelSdkException("autotune accuracy budget: AutotuneOptions.PrecisionSearch is null; give the search that finds the lower-precision model (AccelSdk.Optimize's MixedPrecisionSearch)");
        }
        if (options.CalibrationInputs is { Count: 0 }) throw new AccelSdkException("autotune accuracy budget: CalibrationInputs is empty; give at least one sample or leave it null");
    }

    /// <summary>Appended to the plan key only under a budget, so plans tuned without one keep their keys.</summary>
    private static string BudgetSettings(AutotuneOptions options) =>
        options.AccuracyBudget is { } budget ? $";budget={budget};search={options.PrecisionSearch!.GetType().FullName}" : "";

    private static void TuneLowerPrecision(AutotuneResult result, Model model, IReadOnlyDictionary<string, AccelTensor> inputs, AutotuneOptions options, TuningCache? cache)
    {
        var budget = options.AccuracyBudget!;
        var scope = options.Scope!;
        var calibration = options.CalibrationInputs ?? new[] { inputs };
        var floatPlan = result.Plan!;
        var floatMs = result.Chosen?.MeasuredMs;
        var first = floatPlan.Partitions[0];
        Report(options, "precision", 0, 3, $"searching per-layer precision within {budget} on {first.Device.Id}");
        var candidate = options.PrecisionSearch!.Search(model, calibration, budget, scope.Runtime, new DeviceTarget(first.Backend, first.Device), scope.Token, out var why);
        PrecisionResult FloatKept(string reason, PrecisionCandidate? c = null, double? cosine = null, double? top1 = null, double? lowMs = null) => new()
        {
            Budget = budget, SourceModel = model, Candidate = c?.Model, Cosine = cosine, Top1 = top1, Float32Ms = floatMs, LowerPrecisionMs = lowMs,
            Layers = c?.Layers ?? new Dictionary<string, string>(), Partitions = PartitionsOf(floatPlan, new Dictionary<string, string>()), Reason = reason,
        };
        if (candidate is null)
        {
            result.Precision = FloatKept("float32 kept: the search found no lower-precision model within the budget (" + why + ")");
            return;
        }
        Report(options, "precision", 1, 3, "tuning the lower-precision model");
        var lower = TuneCore(candidate.Model, options with { AccuracyBudget = null, SharedCache = cache, SampleInputs = inputs });
        if (lower.Session is null)
        {
            result.Precision = FloatKept("float32 kept: the lower-precision model could not be placed" +
                (lower.Unsupported.Count > 0 ? $" ({lower.Unsupported[0].Node} [{lower.Unsupported[0].Op}]: {lower.Unsupported[0].Reason})" : ""), candidate);
            return;
        }
        Report(options, "precision", 2, 3, "checking the lower-precision plan's outputs and timing both plans end to end");
        var (cosine, top1) = Agreement(result.Session!, lower.Session, calibration, scope.Token);
        var (float32Ms, lowerMs) = TimePair(result.Session!, lower.Session, inputs, Math.Max(3, options.PlanRuns), scope.Token);
        var c = CultureInfo.InvariantCulture;
        var measured = $"cosine {cosine.ToString("F5", c)}{(top1 is { } t ? $", top-1 {t.ToString("P1", c)}" : "")} on {calibration.Count} calibration input(s); " +
            $"float32 {float32Ms.ToString("F2", c)} ms, lower precision {lowerMs.ToString("F2", c)} ms (end to end, interleaved); search: {candidate.Summary}";
        if (!budget.IsMetBy(cosine, top1) || lowerMs >= float32Ms)
        {
            lower.Session.Dispose();
            result.Precision = FloatKept((budget.IsMetBy(cosine, top1) ? "float32 kept: not slower" : $"float32 kept: the lower-precision plan misses {budget}") + ": " + measured,
                candidate, cosine, top1, lowerMs) with { Float32Ms = float32Ms };
            return;
        }
        result.Session!.Dispose();
        Adopt(result, lower);
        var saved = cache is null ? null : SaveCandidate(cache, candidate.Model, options.PrecisionSearch, scope);
        result.Precision = new PrecisionResult
        {
            Budget = budget, LowerPrecisionKept = true, SourceModel = model, Candidate = candidate.Model, Cosine = cosine, Top1 = top1,
            Float32Ms = float32Ms, LowerPrecisionMs = lowerMs, Layers = candidate.Layers, Partitions = PartitionsOf(lower.Plan!, candidate.Layers),
            Reason = $"lower precision kept ({(float32Ms / lowerMs).ToString("F2", c)}x float32, within {budget}): " + measured,
            CandidateSha256 = saved?.Sha256, ModelFile = saved?.File,
        };
    }

    /// <summary>The result takes the lower-precision tuning's plan, session, node profiles and plan measurements.</summary>
    private static void Adopt(AutotuneResult result, AutotuneResult lower)
    {
        result.Model = lower.Model;
        result.Nodes = lower.Nodes;
        result.FusedGroups = lower.FusedGroups;
        result.Transfers = lower.Transfers;
        result.CallOverheadMs = lower.CallOverheadMs;
        result.Autotuned = lower.Autotuned;
        result.SingleBackend = lower.SingleBackend;
        result.Chosen = lower.Chosen;
        result.Plan = lower.Plan;
        result.Session = lower.Session;
        result.TransferBytes = lower.TransferBytes;
        result.MemoryFootprint = lower.MemoryFootprint;
        result.ReferenceDevice = lower.ReferenceDevice;
        result.MaxRelativeDifference = lower.MaxRelativeDifference;
        foreach (var (device, why) in lower.ExcludedDevices) result.ExcludedDevices.TryAdd(device, why);
    }

    /// <summary>Mean cosine per float output over the samples (the worst output), and top-1 agreement on [N, classes] outputs.</summary>
    internal static (double Cosine, double? Top1) Agreement(AccelSession reference, AccelSession candidate,
        IReadOnlyList<IReadOnlyDictionary<string, AccelTensor>> samples, CancellationToken token)
    {
        double[]? cosineSums = null;
        bool[]? compared = null;
        int agree = 0, rows = 0;
        foreach (var sample in samples)
        {
            token.ThrowIfCancellationRequested();
            var expected = reference.Run(sample);
            var actual = candidate.Run(sample);
            cosineSums ??= new double[expected.Count];
            compared ??= new bool[expected.Count];
            for (var o = 0; o < expected.Count; o++)
            {
                if (!expected[o].ElementType.IsFloatingPoint() || actual[o].ElementCount != expected[o].ElementCount) continue;
                cosineSums[o] += Cosine(expected[o], actual[o]);
                compared[o] = true;
                if (expected[o].Rank == 2 && expected[o].Shape[1] > 1)
                {
                    var classes = expected[o].Shape[1];
                    for (long r = 0; r < expected[o].Shape[0]; r++, rows++)
                    {
                        if (ArgMax(expected[o], r * classes, classes) == ArgMax(actual[o], r * classes, classes)) agree++;
                    }
                }
            }
        }
        var floats = Enumerable.Range(0, cosineSums!.Length).Where(o => compared![o]).Select(o => cosineSums[o] / samples.Count).DefaultIfEmpty(1).Min();
        return (floats, rows > 0 ? (double)agree / rows : null);
    }

    private static double Cosine(AccelTensor a, AccelTensor b)
    {
        double dot = 0, na = 0, nb = 0;
        for (long i = 0; i < a.ElementCount; i++)
        {
            var x = a.GetAsDouble(i);
            var y = b.GetAsDouble(i);
            dot += x * y;
            na += x * x;
            nb += y * y;
        }
        // Two all-zero outputs agree; NaN anywhere fails any budget.
        return na == 0 && nb == 0 ? 1 : dot / Math.Sqrt(na * nb);
    }

    private static long ArgMax(AccelTensor t, long start, long count)
    {
        var best = start;
        for (var i = start + 1; i < start + count; i++)
        {
            if (t.GetAsDouble(i) > t.GetAsDouble(best)) best = i;
        }
        return best - start;
    }

    /// <summary>
    /// Medians of both sessions timed in one interleaved loop, so load drift hits both alike. Each timed run follows an
    /// untimed run of the same session: right after the other session ran, its ONNX Runtime pool threads still spin and
    /// take the cores (timed back to back, BlazeFace's float32 plan measured 22 ms instead of its 1.6 ms).
    /// </summary>
    private static (double First, double Second) TimePair(AccelSession first, AccelSession second, IReadOnlyDictionary<string, AccelTensor> inputs, int runs, CancellationToken token)
    {
        var times = new[] { new List<double>(), new List<double>() };
        var sessions = new[] { first, second };
        for (var r = 0; r < runs; r++)
        {
            for (var i = 0; i < 2; i++)
            {
                token.ThrowIfCancellationRequested();
                sessions[i].Run(inputs);
                var start = Stopwatch.GetTimestamp();
                sessions[i].Run(inputs);
                times[i].Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            }
        }
        return (Profiling.Timer.Summarise(times[0]).Median, Profiling.Timer.Summarise(times[1]).Median);
    }

    /// <summary>Per partition of <paramref name="plan"/>, how many of the search's layers it runs in each precision.</summary>
    internal static IReadOnlyList<PartitionPrecision> PartitionsOf(ExecutionPlan plan, IReadOnlyDictionary<string, string> layers) =>
        plan.Partitions.Select(p =>
        {
            var choices = p.NodeIndices.Select(i => layers.GetValueOrDefault(plan.Model.Graph.Nodes[i].Name)).OfType<string>().ToList();
            var others = p.NodeIndices.Count(i => plan.Model.Graph.Nodes[i].OpType is "Conv" or "Gemm" or "MatMul" && !layers.ContainsKey(plan.Model.Graph.Nodes[i].Name));
            return new PartitionPrecision(p.Index, p.Device.Id, choices.Count(x => x == "int8"), choices.Count(x => x == "float16"), choices.Count(x => x == "float32") + others);
        }).ToArray();

    /// <summary>Writes the lower-precision model next to the compiled artefacts, named by its digest (atomically).</summary>
    private static (string File, string Sha256)? SaveCandidate(TuningCache cache, Model candidate, IPrecisionSearch search, TuneScope scope)
    {
        var file = $"precision-{ModelDigest.Of(candidate)}.onnx";
        var path = Path.Combine(Path.GetDirectoryName(cache.Path)!, "compiled-" + cache.Fingerprint.Hash, file);
        var bytes = search.Save(candidate);
        var temp = $"{path}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None)) stream.Write(bytes);
            File.Move(temp, path, overwrite: true);
            return (file, Convert.ToHexStringLower(SHA256.HashData(bytes)));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            scope.Warn($"the lower-precision model could not be saved to {path} ({e.Message}); the next tuning searches again");
            try { File.Delete(temp); } catch (Exception d) when (d is IOException or UnauthorizedAccessException) { }
            return null;
        }
    }

    private static CachedPrecision? ToCached(PrecisionResult p) =>
        p.LowerPrecisionKept && p.ModelFile is null ? null : new CachedPrecision
        {
            LowerPrecisionKept = p.LowerPrecisionKept, ModelFile = p.ModelFile, ModelSha256 = p.CandidateSha256, Cosine = p.Cosine, Top1 = p.Top1,
            Float32Ms = p.Float32Ms, LowerPrecisionMs = p.LowerPrecisionMs, Layers = p.Layers, Reason = p.Reason,
        };

    /// <summary>
    /// A plan tuned under this budget: the float32 plan as cached, or the lower-precision model read back from its file
    /// (refused, and tuned afresh, when its bytes no longer hash to what was recorded) with its cached placements.
    /// </summary>
    private static bool TryUseCachedPrecision(AutotuneResult result, Model model, IReadOnlyDictionary<string, AccelTensor> inputs, List<DeviceTarget> candidates,
        CachedPlan cached, TuningCache cache, CompileOptions compile, AutotuneOptions options)
    {
        var p = cached.Precision!;
        var scope = options.Scope!;
        var planModel = model;
        if (p.LowerPrecisionKept)
        {
            var path = Path.Combine(Path.GetDirectoryName(cache.Path)!, "compiled-" + cache.Fingerprint.Hash, p.ModelFile!);
            try
            {
                var bytes = Storage.RegularFile.ReadAllBytes(path, TuningCache.MaxFileBytes * 16, TimeSpan.FromSeconds(60));
                if (Convert.ToHexStringLower(SHA256.HashData(bytes)) != p.ModelSha256)
                {
                    scope.Warn($"{path} was modified since it was tuned; {model.Label} is tuned afresh under {options.AccuracyBudget}");
                    return false;
                }
                planModel = options.PrecisionSearch!.Load(bytes, path);
            }
            catch (Exception e) when (e is AccelSdkException or IOException or UnauthorizedAccessException or TimeoutException)
            {
                scope.Warn($"the cached lower-precision model {path} could not be read ({e.Message}); {model.Label} is tuned afresh under {options.AccuracyBudget}");
                return false;
            }
        }
        if (!TryUseCachedPlan(result, planModel, candidates, InferTypes(planModel, inputs), cached, cache, compile, options)) return false;
        result.Model = planModel;
        result.Precision = new PrecisionResult
        {
            Budget = options.AccuracyBudget!, LowerPrecisionKept = p.LowerPrecisionKept, SourceModel = model, Candidate = p.LowerPrecisionKept ? planModel : null,
            Cosine = p.Cosine, Top1 = p.Top1, Float32Ms = p.Float32Ms, LowerPrecisionMs = p.LowerPrecisionMs, Layers = p.Layers,
            Partitions = PartitionsOf(result.Plan!, p.LowerPrecisionKept ? p.Layers : new Dictionary<string, string>()), Reason = p.Reason,
            CandidateSha256 = p.ModelSha256, ModelFile = p.ModelFile,
        };
        return true;
    }
}
