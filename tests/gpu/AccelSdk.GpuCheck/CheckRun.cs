using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using AccelSdk.GpuCheck.Stages;

namespace AccelSdk.GpuCheck;

/// <summary>Runs the chosen stages in order, rewriting summary.md and results.json after each one.</summary>
internal static class CheckRun
{
    private static readonly IReadOnlyDictionary<string, Action<CheckContext, StageReport>> Stages = new Dictionary<string, Action<CheckContext, StageReport>>
    {
        ["devices"] = DevicesStage.Run,
        ["agreement"] = AgreementStage.Run,
        ["conformance"] = ConformanceStage.Run,
        ["matmul"] = MatMulStage.Run,
        ["latency"] = LatencyStage.Run,
        ["autotune"] = AutotuneStage.Run,
        ["throughput"] = ThroughputStage.Run,
        ["direct-paths"] = DirectPathStage.Run,
    };

    public static int Execute(CheckOptions options)
    {
        Directory.CreateDirectory(options.OutputDirectory);
        var context = new CheckContext(options);
        var reports = new List<StageReport>();
        foreach (var name in options.Stages)
        {
            var report = new StageReport(name);
            reports.Add(report);
            if (options.BudgetSeconds > 0 && context.Elapsed.TotalSeconds > options.BudgetSeconds)
            {
                report.Skip($"the run's budget of {options.BudgetSeconds} s was spent before it started");
            }
            else
            {
                RunStage(context, report, Stages[name]);
            }
            context.Log($"{name}: {report.Status.ToString().ToLowerInvariant()} in {report.Elapsed.TotalSeconds:F1} s" +
                        (report.Problems.Count > 0 ? $" ({report.Problems.Count} problem(s))" : report.SkipReason is { } why ? $" ({why})" : ""));
            Write(context, reports);
        }
        return reports.Any(r => r.Status == StageStatus.Failed) ? 1 : 0;
    }

    private static void RunStage(CheckContext context, StageReport report, Action<CheckContext, StageReport> stage)
    {
        context.Log($"{report.Name}: starting");
        var watch = Stopwatch.StartNew();
        try
        {
            stage(context, report);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Whatever broke (a kernel that did not compile on this GPU, a backend error) is the finding: record it, go on.
            report.Fail($"stage stopped: {e.GetType().Name}: {e.Message.ReplaceLineEndings(" ")}");
            report.Json["error"] = e.ToString();
        }
        report.Elapsed = watch.Elapsed;
    }

    private static void Write(CheckContext context, IReadOnlyList<StageReport> reports)
    {
        var json = new JsonObject
        {
            ["device"] = context.Options.Device,
            ["utc"] = DateTimeOffset.UtcNow.ToString("u"),
            ["seconds"] = Math.Round(context.Elapsed.TotalSeconds, 1),
            ["torch_anchors"] = context.TorchAnchors?.DeepClone(),
        };
        var stages = new JsonObject();
        foreach (var r in reports)
        {
            stages[r.Name] = new JsonObject
            {
                ["status"] = r.Status.ToString().ToLowerInvariant(),
                ["seconds"] = Math.Round(r.Elapsed.TotalSeconds, 1),
                ["skip_reason"] = r.SkipReason,
                ["problems"] = new JsonArray(r.Problems.Select(p => (JsonNode?)JsonValue.Create(p)).ToArray()),
                ["figures"] = r.Json.DeepClone(),
            };
        }
        json["stages"] = stages;
        File.WriteAllText(context.PathInOutput("results.json"), json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        File.WriteAllText(context.PathInOutput("summary.md"), Summary(context, reports));
    }

    private static string AnchorsLine(JsonObject anchors)
    {
        var export = anchors["resnet18_export"] is JsonObject e
            ? $"ResNet18 exported from torchvision {anchors["torchvision"]} by torch {anchors["torch"]} ({e["exporter"]} exporter, opset {e["opset"]})"
            : $"ResNet18 not exported: {anchors["export_error"]}";
        var measured = anchors["anchors_missing"] is { } why
            ? $"PyTorch anchors not measured: {why}"
            : $"PyTorch anchors on {anchors["device_name"]}: CUDA {anchors["cuda"]}, fp32 with TF32 {(anchors["tf32"]?.GetValue<bool>() == true ? "on" : "off")}";
        return $"{export}. {measured}.";
    }

    private static string Summary(CheckContext context, IReadOnlyList<StageReport> reports)
    {
        var sb = new StringBuilder();
        sb.AppendLine("# AccelSdk GPU check (issue 14)");
        sb.AppendLine();
        sb.AppendLine($"Device under test `{context.Options.Device}`, reference `{CheckContext.OrtCpu}`; {DateTimeOffset.UtcNow:u}; " +
                      $"{Environment.ProcessorCount} logical CPUs; .NET {Environment.Version} (self-contained publish); {context.Elapsed.TotalSeconds:F0} s so far.");
        if (context.TorchAnchors is { } anchors) sb.AppendLine(AnchorsLine(anchors));
        sb.AppendLine();
        sb.AppendLine("| stage | status | seconds | problems |");
        sb.AppendLine("| --- | --- | --- | --- |");
        foreach (var r in reports)
        {
            var notes = r.SkipReason ?? string.Join("; ", r.Problems.Take(5)) + (r.Problems.Count > 5 ? $"; and {r.Problems.Count - 5} more (results.json)" : "");
            sb.AppendLine($"| {r.Name} | {r.Status.ToString().ToLowerInvariant()} | {r.Elapsed.TotalSeconds:F1} | {notes.Replace("|", "\\|", StringComparison.Ordinal)} |");
        }
        foreach (var r in reports.Where(r => r.Markdown.Length > 0))
        {
            sb.AppendLine();
            sb.AppendLine($"## {r.Name}");
            sb.AppendLine();
            sb.Append(r.Markdown);
        }
        return sb.ToString();
    }
}
