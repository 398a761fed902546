using System.Diagnostics;
using AccelSdk.Backends;
using AccelSdk.Diagnostics;
using AccelSdk.Execution;
using AccelSdk.Ir;

namespace AccelSdk.Selection;

/// <summary>
/// Whole-model selection: measures the model on every candidate device that runs it whole and keeps the one
/// <see cref="CandidateRules.Beats"/> prefers. Only the best session so far and the one being measured are alive at a
/// time: a candidate is disposed as soon as it loses, so peak memory stays near two compiled models, not one per candidate.
/// </summary>
internal sealed class WholeModelSelection(AccelRuntime runtime, Model model, SelectOptions options, IProgress<SelectionProgress>? progress, CancellationToken cancellationToken)
{
    private readonly List<CandidateResult> _results = new();
    private readonly List<Fallback> _fallbacks = new();
    private readonly List<UnsupportedNode> _unsupported = new();
    private readonly List<(string Device, long Needed, long Allowed)> _overCap = new();

    public AccelSession Run()
    {
        var inputs = options.SampleInputs ?? SampleInputs.Random(model, limits: options.Limits);
        var types = ShapeInference.Infer(model);
        var candidates = CandidateRules.Candidates(runtime.Backends, options.Candidates);
        _fallbacks.AddRange(runtime.UnavailableFallbacks(options.Candidates));
        (AccelSession Session, CandidateResult Result)? best = null;
        try
        {
            for (var i = 0; i < candidates.Count; i++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                progress?.Report(new SelectionProgress("candidates", i, candidates.Count, candidates[i].Device.Id));
                if (Measure(candidates[i], types, inputs) is not { } measured) continue;
                if (best is null || CandidateRules.Beats(Describe(measured.Result), Describe(best.Value.Result), options.Policy))
                {
                    best?.Session.Dispose();
                    best = measured;
                }
                else
                {
                    measured.Session.Dispose();
                }
            }
        }
        catch
        {
            best?.Session.Dispose();
            throw;
        }
        progress?.Report(new SelectionProgress("candidates", candidates.Count, candidates.Count, "done"));
        if (best is not { } chosen) throw NothingRuns();
        chosen.Session.Selection = new SelectionReport(options.Policy, _results, chosen.Result.Device, runtime.Machine?.Fingerprint);
        chosen.Session.Fallbacks = _fallbacks.ToArray();
        return chosen.Session;
    }

    private (AccelSession Session, CandidateResult Result)? Measure(DeviceTarget candidate, Dictionary<string, Ir.ValueType> types, IReadOnlyDictionary<string, AccelTensor> inputs)
    {
        var (backend, device) = candidate;
        var unsupported = GraphPartitioner.Unsupported(model, backend, device, types);
        if (unsupported.Count > 0)
        {
            Exclude(device, null, $"{unsupported.Count} unsupported node(s), first {unsupported[0].Node} [{unsupported[0].Op}]: {unsupported[0].Reason}");
            _unsupported.AddRange(unsupported.Select(u => u with { Reason = $"{device.Id}: {u.Reason}" }));
            return null;
        }
        var plan = GraphPartitioner.WholeModel(model, backend, device);
        if (CandidateRules.MemoryCap(options.MemoryLimits, device) is { } cap && MemoryEstimate.Of(plan, MemoryEstimate.FromTypes(types)).Single().TotalBytes is var needed && needed > cap)
        {
            Exclude(device, null, $"over the memory cap: needs {needed:N0} bytes, {cap:N0} allowed");
            _overCap.Add((device.Id, needed, cap));
            return null;
        }
        AccelSession? session = null;
        try
        {
            session = new AccelSession(plan, options.Compile);
            if (options.Limits is not null) session.Limits = options.Limits;
            var result = Time(session, inputs, device);
            _results.Add(result);
            return (session, result);
        }
        catch (AccelSdkException e) when (e is not InputMismatchException)
        {
            session?.Dispose();
            Exclude(device, session?.CompileTime.TotalMilliseconds, e.Message);
            return null;
        }
        catch
        {
            session?.Dispose();
            throw;
        }
    }

    private void Exclude(Device device, double? compileMs, string reason)
    {
        _results.Add(new CandidateResult(device, null, null, compileMs ?? 0, reason));
        runtime.ReportFallback(_fallbacks, new Fallback(FallbackKind.CandidateExcluded, device.Id, $"{device.Id} excluded for {model.Label}: {reason}"));
    }

    private CandidateResult Time(AccelSession session, IReadOnlyDictionary<string, AccelTensor> inputs, Device device)
    {
        for (var i = 0; i < options.WarmupRuns; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            session.Run(inputs);
        }
        var times = new double[Math.Max(1, options.MeasuredRuns)];
        for (var i = 0; i < times.Length; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var start = Stopwatch.GetTimestamp();
            session.Run(inputs);
            times[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }
        Array.Sort(times);
        var throughput = options.Policy == SelectionPolicy.HighestThroughput ? TimeStream(session, inputs) : null;
        return new CandidateResult(device, times[times.Length / 2], throughput, session.CompileTime.TotalMilliseconds, null);
    }

    private double? TimeStream(AccelSession session, IReadOnlyDictionary<string, AccelTensor> inputs)
    {
        double? throughput = null;
        // Sequential streaming can beat concurrent runs (a runtime that already uses every core for one run).
        var stream = Enumerable.Repeat(inputs, Math.Max(2, Environment.ProcessorCount) * Math.Max(2, options.MeasuredRuns / 2)).ToArray();
        foreach (var mode in new[] { StreamExecution.Sequential, StreamExecution.Concurrent })
        {
            cancellationToken.ThrowIfCancellationRequested();
            var start = Stopwatch.GetTimestamp();
            session.RunMany(stream, mode: mode);
            var rate = stream.Length / Stopwatch.GetElapsedTime(start).TotalSeconds;
            if (throughput is null || rate > throughput)
            {
                throughput = rate;
                session.StreamExecution = mode;
            }
        }
        return throughput;
    }

    private static MeasuredCandidate Describe(CandidateResult result) => new(new[] { result.Device.Kind }, result.MedianMs, result.ThroughputPerSecond);

    private AccelSdkException NothingRuns()
    {
        if (_overCap.Count > 0)
        {
            var (device, needed, allowed) = _overCap.OrderBy(f => (double)f.Needed / Math.Max(1, f.Allowed)).First();
            return new MemoryLimitException(model.Label, device, needed, allowed);
        }
        if (_unsupported.Count > 0) return new UnsupportedOperatorException(model.Label, _unsupported);
        return new AccelSdkException($"{model.Label}: no device could run the model: " +
            (_results.Count == 0 ? runtime.DescribeDevices() : string.Join("; ", _results.Select(r => $"{r.Device.Id}: {r.Error}"))));
    }
}
