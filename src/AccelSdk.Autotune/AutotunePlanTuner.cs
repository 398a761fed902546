using AccelSdk.Autotune;
using AccelSdk.Execution;
using AccelSdk.Ir;

[assembly: AccelSdk.AccelSdkExtension(typeof(AutotunePlanTuner))]

namespace AccelSdk.Autotune;

/// <summary>
/// Serves <see cref="Accelerator.Select(Model, SelectOptions?)"/> with <see cref="SelectOptions.Autotune"/>: tunes (or
/// reuses the cached tuning from the default cache directory) and returns a session on the kept plan, with
/// <see cref="AccelSession.Selection"/> holding the single-backend measurements.
/// </summary>
public sealed class AutotunePlanTuner : IPlanTuner
{
    /// <inheritdoc />
    public AccelSession Tune(Model model, SelectOptions options)
    {
        var result = Autotuner.Tune(model, AutotuneOptions.From(options));
        if (result.Unsupported.Count > 0) throw new UnsupportedOperatorException(model.Label, result.Unsupported);
        var session = result.Session ?? throw new AccelSdkException($"{model.Label}: autotuning produced no plan");
        var byId = result.Devices.ToDictionary(d => d.Device.Id, d => d.Device, StringComparer.Ordinal);
        var candidates = result.SingleBackend
            .Where(s => byId.ContainsKey(s.Label))
            .Select(s => new CandidateResult(byId[s.Label], s.Abandoned ? null : s.MeasuredMs, s.ThroughputPerSecond, s.CompileMs, s.Error ?? (s.Abandoned ? "abandoned: hopeless" : null)))
            .ToArray();
        session.Selection = new SelectionReport(options.Policy, candidates, session.Plan.Partitions[0].Device, FromTuningCache: result.FromCache);
        return session;
    }
}
