using System.Text.Json.Nodes;
using AccelSdk.Autotune;
using AccelSdk.Autotune.Reporting;
using AccelSdk.Ir;

namespace AccelSdk.GpuCheck.Stages;

/// <summary>
/// <c>accelsdk autotune MODEL --device ort-cpu --device ilgpu-cpu --device DEVICE --no-cache</c> for ResNet18 and
/// BlazeFace through the same library calls as the CLI: report.json, report.html and the console summary per model,
/// the kept plan, and whether a CPU/GPU split was proposed and why it was or was not kept.
/// </summary>
internal static class AutotuneStage
{
    public static void Run(CheckContext context, StageReport report)
    {
        if (context.Options.TunedModels.Count == 0)
        {
            report.Skip("no model given (--resnet18, --blazeface)");
            return;
        }
        var candidates = new[] { CheckContext.OrtCpu, "ilgpu-cpu", context.Options.Device }.Distinct().ToArray();
        var rows = new List<IReadOnlyList<string>>();
        foreach (var path in context.Options.TunedModels)
        {
            var model = GpuCheckRuntime.Instance.LoadModel(path);
            var result = Tune(context, model, candidates);
            var folder = context.PathInOutput("autotune-" + Path.GetFileNameWithoutExtension(path));
            using (result.Session)
            {
                AutotuneReport.Write(result, folder);
                File.WriteAllText(Path.Combine(folder, "summary.txt"), ConsoleReport.Summary(result));
            }
            context.Tunings[path] = result;
            var verdict = SplitVerdict(result);
            Check(report, model, result, context.Options.Device);
            CheckKeptAgainstLatency(context, report, path, result);
            rows.Add(new[]
            {
                model.Label, Describe(result.Chosen), Format.F(result.Chosen?.MeasuredMs, 3),
                string.Join(", ", result.SingleBackend.Select(PlanCell)),
                verdict, result.MaxRelativeDifference is { } d ? $"{Format.G(d)} vs {result.ReferenceDevice}" : "-", Format.F(result.TuningSeconds, 1),
            });
            report.Json[model.Label] = new JsonObject
            {
                ["kept"] = result.Chosen?.Label, ["kept_devices"] = new JsonArray((result.Chosen?.Devices ?? Array.Empty<string>()).Select(d => (JsonNode?)JsonValue.Create(d)).ToArray()),
                ["kept_ms"] = result.Chosen?.MeasuredMs, ["autotuned_devices"] = new JsonArray((result.Autotuned?.Devices ?? Array.Empty<string>()).Select(d => (JsonNode?)JsonValue.Create(d)).ToArray()),
                ["autotuned_ms"] = result.Autotuned?.MeasuredMs, ["split_verdict"] = verdict, ["max_relative_difference"] = result.MaxRelativeDifference,
                ["tuning_seconds"] = result.TuningSeconds, ["report"] = Path.GetFileName(folder),
            };
        }
        report.Line($"Candidates {string.Join(", ", candidates)}; latency policy; no tuning cache; each model's report.json, report.html and summary.txt are under autotune-MODEL/.");
        report.Line("");
        report.Table(new[] { "model", "kept plan", "kept ms", "single-backend plans (ms)", "CPU/GPU split", "kept vs reference", "tuning s" }, rows);
    }

    private static AutotuneResult Tune(CheckContext context, Model model, IReadOnlyList<string> candidates)
    {
        var lastStage = "";
        return Autotuner.Tune(GpuCheckRuntime.Instance, model, new AutotuneOptions
        {
            Candidates = candidates,
            NoCache = true,
            Progress = new InlineProgress<SelectionProgress>(p =>
            {
                if (p.Stage != lastStage) context.Log($"autotune {model.Label}: {p.Stage} ({p.Total} steps)");
                lastStage = p.Stage;
            }),
        });
    }

    private static void Check(StageReport report, Model model, AutotuneResult result, string device)
    {
        foreach (var u in result.Unsupported) report.Fail($"{model.Label}: no candidate runs {u.Node} [{u.Op}]: {u.Reason}");
        if (result.ExcludedDevices.TryGetValue(device, out var why)) report.Fail($"{model.Label}: {device} was excluded from tuning: {why}");
        foreach (var p in result.SingleBackend.Where(p => p.Devices.Contains(device) && p.Error is not null)) report.Fail($"{model.Label}: plan {p.Label} failed: {p.Error}");
        if (result.MaxRelativeDifference is > AgreementStage.Tolerance) report.Fail($"{model.Label}: kept plan differs from {result.ReferenceDevice} by {Format.G(result.MaxRelativeDifference.Value)} (relative)");
    }

    /// <summary>Tolerated excess of the kept plan over a device alone measured in the latency stage (a different moment).</summary>
    public const double KeptSlowdownTolerance = 1.2;

    /// <summary>
    /// The autotuner promises a kept plan never slower than the best single-backend plan; a plan it abandoned without
    /// running cannot show that, so the latency stage's whole-model medians of the same run are the witness.
    /// </summary>
    private static void CheckKeptAgainstLatency(CheckContext context, StageReport report, string path, AutotuneResult result)
    {
        if (result.Chosen?.MeasuredMs is not { } kept || !context.WholeModelMs.TryGetValue(path, out var whole)) return;
        var (bestMs, bestDevice) = whole.DeviceMs <= whole.CpuMs ? (whole.DeviceMs, context.Options.Device) : (whole.CpuMs, CheckContext.OrtCpu);
        if (kept <= KeptSlowdownTolerance * bestMs) return;
        var unmeasured = result.SingleBackend.Where(p => p.Devices.Contains(bestDevice) && p.MeasuredMs is null).Select(p => p.Label).ToArray();
        report.Fail($"{result.Model.Label}: kept plan {Describe(result.Chosen)} measured {Format.F(kept, 3)} ms, but {bestDevice} alone ran it in {Format.F(bestMs, 3)} ms " +
                    $"in the latency stage ({Format.F(kept / bestMs)}x)" + (unmeasured.Length > 0 ? $"; the tuning never ran {string.Join(", ", unmeasured)} (abandoned as predicted hopeless)" : ""));
    }

    private static string PlanCell(PlanResult p) =>
        p.Label + " " + (p.Error is not null ? "(" + p.Error + ")" : p.Abandoned ? $"abandoned{(p.MeasuredMs is { } ms ? " after one run of " + Format.F(ms, 3) : "")}" : Format.F(p.MeasuredMs, 3));

    private static string Describe(PlanResult? plan) => plan is null ? "none" : plan.Backend is null ? $"autotuned ({string.Join("+", plan.Devices)})" : plan.Label;

    /// <summary>Whether the placement solver proposed a plan over several devices, and why it was or was not kept.</summary>
    public static string SplitVerdict(AutotuneResult result)
    {
        var auto = result.Autotuned;
        if (auto is null || auto.Devices.Count == 0) return "no autotuned plan: " + (auto?.Error ?? "nothing placed");
        if (auto.Devices.Count == 1)
        {
            return $"none proposed: the solver put every node on {auto.Devices[0]} (per-node times plus measured transfer costs made no split cheaper; predicted {Format.F(auto.PredictedMs, 3)} ms)";
        }
        var split = string.Join("+", auto.Devices);
        if (auto.Error is not null) return $"proposed {split} but it did not run: {auto.Error}";
        if (result.Chosen == auto) return $"kept: {split} measured {Format.F(auto.MeasuredMs, 3)} ms, faster than every single-backend plan";
        return $"proposed {split} (predicted {Format.F(auto.PredictedMs, 3)} ms), measured {Format.F(auto.MeasuredMs, 3)} ms{(auto.Abandoned ? " (abandoned)" : "")}: " +
               $"not kept, {result.Chosen?.Label} measured {Format.F(result.Chosen?.MeasuredMs, 3)} ms";
    }
}
