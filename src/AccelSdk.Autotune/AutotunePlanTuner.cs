using AccelSdk.Autotune;
using AccelSdk.Execution;
using AccelSdk.Ir;

[assembly: AccelSdk.AccelSdkExtension(typeof(AutotunePlanTuner))]

namespace AccelSdk.Autotune;

/// <summary>
/// Serves <see cref="AccelRuntime.Select(Model, SelectOptions?, IProgress{SelectionProgress}?, CancellationToken)"/> with
/// <see cref="SelectOptions.Autotune"/>: tunes (or reuses the cached tuning from the default cache directory) and returns
/// a session on the kept plan, with <see cref="AccelSession.Selection"/> holding the single-backend measurements and
/// <see cref="AccelSession.Fallbacks"/> every device or plan left out.
/// </summary>
public sealed class AutotunePlanTuner : IPlanTuner
{
    /// <inheritdoc />
    public AccelSession Tune(AccelRuntime runtime, Model model, SelectOptions options, IProgress<SelectionProgress>? progress, CancellationToken cancellationToken)
    {
        var result = Autotuner.Tune(runtime, model, AutotuneOptions.From(options) with { Progress = progress }, cancellationToken);
        if (result.Unsupported.Count > 0) throw new UnsupportedOperatorException(model.Label, result.Unsupported);
        var session = result.Session ?? throw new AccelSdkException($"{model.Label}: autotuning produced no plan");
        var byId = result.Devices.ToDictionary(d => d.Device.Id, d => d.Device, StringComparer.Ordinal);
        var candidates = result.SingleBackend
            .Where(s => byId.ContainsKey(s.Label))
            .Select(s => new CandidateResult(byId[s.Label], s.Abandoned ? null : s.MeasuredMs, s.ThroughputPerSecond, s.CompileMs, s.Error ?? (s.Abandoned ? "abandoned: hopeless" : null)))
            .ToArray();
        session.Selection = new SelectionReport(options.Policy, candidates, session.Plan.Partitions[0].Device, runtime.Machine?.Fingerprint, FromTuningCache: result.FromCache);
        session.Fallbacks = runtime.UnavailableFallbacks(options.Candidates).Concat(result.Fallbacks).ToArray();
        return session;
    }
}
