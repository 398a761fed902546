using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace AccelSdk.Optimize.Reports;

/// <summary>Writes reports as JSON and as a console table.</summary>
public static class ReportWriter
{
    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>The report as indented JSON (snake_case names).</summary>
    public static string ToJson(OptimizationReport report) => JsonSerializer.Serialize(report, Json);

    /// <summary>Reads a report written by <see cref="ToJson"/>.</summary>
    public static OptimizationReport FromJson(string json) =>
        JsonSerializer.Deserialize<OptimizationReport>(json, Json) ?? throw new JsonException("empty report");

    /// <summary>Writes <c>report.json</c>, <c>report.txt</c> and the self-contained <c>report.html</c> into <paramref name="directory"/>; returns the JSON path.</summary>
    public static string Save(OptimizationReport report, string directory)
    {
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, "report.json");
        File.WriteAllText(path, ToJson(report));
        File.WriteAllText(Path.Combine(directory, "report.txt"), ToTable(report));
        HtmlReportWriter.Save(report, directory);
        return path;
    }

    /// <summary>A readable table: size, latency per device, accuracy per output.</summary>
    public static string ToTable(OptimizationReport report)
    {
        var c = CultureInfo.InvariantCulture;
        var s = new StringBuilder();
        var settings = report.Settings.Count > 0 ? " (" + string.Join(", ", report.Settings.Select(kv => $"{kv.Key}={kv.Value}")) + ")" : "";
        s.AppendLine(c, $"{report.Optimization} of {report.Model}{settings}");
        s.AppendLine(c, $"  size       {Mb(report.BaselineBytes)} -> {Mb(report.OptimizedBytes)}  ({report.SizeRatio:P1} of the original)");
        s.AppendLine(c, $"  {"DEVICE",-16} {"ORIGINAL ms",12} {"OPTIMIZED ms",13} {"SPEED-UP",9}");
        foreach (var l in report.Latency)
        {
            if (l.Error is not null) s.AppendLine(c, $"  {l.Device,-16} not run: {l.Error}");
            else s.AppendLine(c, $"  {l.Device,-16} {l.BaselineMedianMs,12:F3} {l.OptimizedMedianMs,13:F3} {l.Speedup,8:F2}x");
        }
        s.AppendLine(c, $"  accuracy on {report.EvaluationSamples} sample(s){(report.EvaluationSource is null ? "" : " from " + report.EvaluationSource)}:");
        s.AppendLine(c, $"  {"OUTPUT",-28} {"MEAN COS",9} {"MIN COS",9} {"MAX ABS ERR",12} {"TOP-1",7}");
        foreach (var a in report.Accuracy)
        {
            var top1 = a.Top1Agreement is { } t ? t.ToString("P0", c) : "-";
            s.AppendLine(c, $"  {Trim(a.Output, 28),-28} {a.MeanCosine,9:F5} {a.MinCosine,9:F5} {a.MaxAbsError,12:G4} {top1,7}");
        }
        s.AppendLine(c, $"  nodes changed: {report.ChangedNodes.Count}, left as they were: {report.SkippedNodes.Count}");
        if (report.Layers.Count > 0)
        {
            s.AppendLine(c, $"  {"LAYER",-32} {"OP",-8} {"CHOICE",-34} {"SENSITIVITY",11} {"SAVED ms",9}");
            foreach (var l in report.Layers)
            {
                var sensitivity = l.Sensitivity is { } v ? v.ToString("G3", c) : "-";
                var saved = l.LatencySavedMs is { } ms ? ms.ToString("F3", c) : "-";
                s.AppendLine(c, $"  {Trim(l.Node, 32),-32} {l.OpType,-8} {Trim(l.Choice, 34),-34} {sensitivity,11} {saved,9}{(l.Detail is null ? "" : "  " + l.Detail)}");
            }
        }
        if (report.MachineLoad is not null) s.AppendLine(c, $"  measured at {report.MachineLoad}");
        foreach (var note in report.Notes) s.AppendLine(c, $"  note: {note}");
        return s.ToString();
    }

    private static string Mb(long bytes) => (bytes / 1048576.0).ToString("F2", CultureInfo.InvariantCulture) + " MB";

    private static string Trim(string text, int width) => text.Length <= width ? text : text[..(width - 1)] + "…";
}
