using System.Globalization;
using System.Net;
using System.Text;

namespace AccelSdk.Optimize.Reports;

/// <summary>
/// Renders an <see cref="OptimizationReport"/> as one self-contained HTML page (inline CSS and SVG, no script, no
/// network): settings, file size before/after, latency per device before/after with the speed-up, accuracy per output,
/// the transformer groups (attention heads and FFN width per block), the per-layer decisions (channels kept, precision
/// chosen, sensitivity, latency saved) and the nodes left alone.
/// </summary>
public static class HtmlReportWriter
{
    private static readonly CultureInfo C = CultureInfo.InvariantCulture;

    /// <summary>The page as a string.</summary>
    public static string Render(OptimizationReport r)
    {
        var sb = new StringBuilder();
        sb.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>AccelSdk ").Append(E(r.Optimization)).Append(": ").Append(E(r.Model)).Append("</title>\n<style>\n")
          .Append("body{font:14px system-ui,sans-serif;margin:24px;color:#222;max-width:1100px}h1{font-size:22px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ddd}")
          .Append("table{border-collapse:collapse;font-size:12px}td,th{border:1px solid #ddd;padding:2px 6px;text-align:right}th{background:#f4f4f4}td.l,th.l{text-align:left}")
          .Append(".ok{color:#2a7}.bad{color:#c33}.note{color:#666;font-size:12px}svg text{font:11px system-ui,sans-serif}\n</style></head><body>\n");
        sb.Append("<h1>").Append(E(r.Optimization)).Append(" of ").Append(E(r.Model)).Append("</h1>\n");
        Settings(sb, r);
        Size(sb, r);
        Latency(sb, r);
        Accuracy(sb, r);
        Layers(sb, r);
        Nodes(sb, r);
        if (r.Notes.Count > 0)
        {
            sb.Append("<h2>Notes</h2><ul>");
            foreach (var note in r.Notes) sb.Append("<li>").Append(E(note)).Append("</li>");
            sb.Append("</ul>\n");
        }
        sb.Append("</body></html>\n");
        return sb.ToString();
    }

    /// <summary>Writes <c>report.html</c> into <paramref name="directory"/> and returns its path.</summary>
    public static string Save(OptimizationReport report, string directory)
    {
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, "report.html");
        File.WriteAllText(path, Render(report));
        return path;
    }

    private static void Settings(StringBuilder sb, OptimizationReport r)
    {
        if (r.Settings.Count == 0) return;
        sb.Append("<table>");
        foreach (var (key, value) in r.Settings) sb.Append("<tr><th class=\"l\">").Append(E(key)).Append("</th><td class=\"l\">").Append(E(value)).Append("</td></tr>");
        sb.Append("</table>\n");
    }

    private static void Size(StringBuilder sb, OptimizationReport r)
    {
        sb.Append("<h2>File size</h2>\n");
        var max = Math.Max(r.BaselineBytes, r.OptimizedBytes);
        sb.Append(Bars(new[] { ("original", (double)r.BaselineBytes, Mb(r.BaselineBytes)), ("optimized", r.OptimizedBytes, $"{Mb(r.OptimizedBytes)} ({r.SizeRatio.ToString("P1", C)})") }, max));
    }

    private static void Latency(StringBuilder sb, OptimizationReport r)
    {
        sb.Append("<h2>Latency per device (median, same run, interleaved)</h2>\n");
        if (r.MachineLoad is not null) sb.Append("<p class=\"note\">Measured at ").Append(E(r.MachineLoad)).Append(".</p>\n");
        sb.Append("<table><tr><th class=\"l\">device</th><th>original ms</th><th>optimized ms</th><th>speed-up</th><th>runs</th><th class=\"l\"></th></tr>");
        foreach (var l in r.Latency)
        {
            sb.Append("<tr><td class=\"l\">").Append(E(l.Device)).Append("</td>");
            if (l.Error is not null)
            {
                sb.Append("<td colspan=\"4\"></td><td class=\"l bad\">not run: ").Append(E(l.Error)).Append("</td></tr>");
                continue;
            }
            var cls = l.Speedup >= 1 ? "ok" : "bad";
            sb.Append("<td>").Append(F(l.BaselineMedianMs, "F3")).Append("</td><td>").Append(F(l.OptimizedMedianMs, "F3")).Append("</td><td class=\"").Append(cls).Append("\">")
              .Append(F(l.Speedup, "F2")).Append("x</td><td>").Append(l.Runs).Append("</td><td></td></tr>");
        }
        sb.Append("</table>\n");
        var measured = r.Latency.Where(l => l.BaselineMedianMs is not null && l.OptimizedMedianMs is not null).ToList();
        if (measured.Count == 0) return;
        var max = measured.Max(l => Math.Max(l.BaselineMedianMs!.Value, l.OptimizedMedianMs!.Value));
        var rows = measured.SelectMany(l => new[]
        {
            ($"{l.Device} original", l.BaselineMedianMs!.Value, $"{l.BaselineMedianMs:F2} ms"),
            ($"{l.Device} optimized", l.OptimizedMedianMs!.Value, $"{l.OptimizedMedianMs:F2} ms ({l.Speedup:F2}x)"),
        }).ToArray();
        sb.Append(Bars(rows, max));
    }

    private static void Accuracy(StringBuilder sb, OptimizationReport r)
    {
        sb.Append("<h2>Accuracy per output against the original</h2>\n<p class=\"note\">")
          .Append(r.EvaluationSamples).Append(" sample(s)").Append(r.EvaluationSource is null ? "" : " from " + E(r.EvaluationSource)).Append(".</p>\n");
        sb.Append("<table><tr><th class=\"l\">output</th><th>mean cosine</th><th>min cosine</th><th>max abs error</th><th>top-1 agreement</th></tr>");
        foreach (var a in r.Accuracy)
        {
            sb.Append("<tr><td class=\"l\">").Append(E(a.Output)).Append("</td><td>").Append(a.MeanCosine.ToString("F5", C)).Append("</td><td>").Append(a.MinCosine.ToString("F5", C))
              .Append("</td><td>").Append(a.MaxAbsError.ToString("G4", C)).Append("</td><td>").Append(a.Top1Agreement is { } t ? t.ToString("P0", C) : "-").Append("</td></tr>");
        }
        sb.Append("</table>\n");
    }

    /// <summary>Rows of whole transformer groups (attention heads, FFN width), shown in their own table.</summary>
    private static bool IsTransformerGroup(LayerChoice l) => l.OpType is "Attention" or "FFN";

    private static void TransformerBlocks(StringBuilder sb, OptimizationReport r)
    {
        var rows = r.Layers.Where(IsTransformerGroup).ToList();
        if (rows.Count == 0) return;
        sb.Append("<h2>Transformer blocks</h2>\n<p class=\"note\">Attention heads and FFN width per encoder block: a head goes from Q, K, V and the output projection at once, FFN columns from the intermediate MatMul, its bias and activation and the next MatMul's rows.</p>\n");
        sb.Append("<table><tr><th class=\"l\">block</th><th class=\"l\">group</th><th class=\"l\">node</th><th class=\"l\">kept</th><th class=\"l\">detail</th></tr>");
        var block = -1;
        foreach (var l in rows)
        {
            if (l.OpType == "Attention") block++;
            sb.Append("<tr><td>").Append(block.ToString(C)).Append("</td><td class=\"l\">").Append(l.OpType == "Attention" ? "heads" : "FFN width").Append("</td><td class=\"l\">").Append(E(l.Node))
              .Append("</td><td class=\"l\">").Append(E(l.Choice)).Append("</td><td class=\"l\">").Append(E(l.Detail ?? "")).Append("</td></tr>");
        }
        sb.Append("</table>\n");
    }

    private static void Layers(StringBuilder sb, OptimizationReport r)
    {
        TransformerBlocks(sb, r);
        if (r.Layers.All(IsTransformerGroup)) return;
        sb.Append("<h2>Per-layer choices</h2>\n<table><tr><th class=\"l\">node</th><th class=\"l\">op</th><th class=\"l\">choice</th><th>sensitivity</th><th>latency saved ms</th><th class=\"l\">detail</th></tr>");
        foreach (var l in r.Layers.Where(l => !IsTransformerGroup(l)))
        {
            sb.Append("<tr><td class=\"l\">").Append(E(l.Node)).Append("</td><td class=\"l\">").Append(E(l.OpType)).Append("</td><td class=\"l\">").Append(E(l.Choice))
              .Append("</td><td>").Append(F(l.Sensitivity, "G3")).Append("</td><td>").Append(F(l.LatencySavedMs, "F3")).Append("</td><td class=\"l\">").Append(E(l.Detail ?? "")).Append("</td></tr>");
        }
        sb.Append("</table>\n");
    }

    private static void Nodes(StringBuilder sb, OptimizationReport r)
    {
        sb.Append("<h2>Nodes</h2>\n<details><summary>").Append(r.ChangedNodes.Count).Append(" changed</summary><p class=\"note\">")
          .Append(E(string.Join(", ", r.ChangedNodes))).Append("</p></details>\n");
        sb.Append("<details><summary>").Append(r.SkippedNodes.Count).Append(" left as they were</summary><ul>");
        foreach (var s in r.SkippedNodes) sb.Append("<li>").Append(E(s)).Append("</li>");
        sb.Append("</ul></details>\n");
    }

    /// <summary>A horizontal bar chart in inline SVG.</summary>
    private static string Bars(IReadOnlyList<(string Label, double Value, string Text)> rows, double max)
    {
        const int labelWidth = 190, barWidth = 520, rowHeight = 20;
        var sb = new StringBuilder();
        sb.Append(C, $"<svg width=\"{labelWidth + barWidth + 200}\" height=\"{rows.Count * rowHeight + 6}\" role=\"img\">");
        for (var i = 0; i < rows.Count; i++)
        {
            var (label, value, text) = rows[i];
            var w = max > 0 ? value / max * barWidth : 0;
            var y = i * rowHeight + 3;
            sb.Append(C, $"<text x=\"{labelWidth - 6}\" y=\"{y + 13}\" text-anchor=\"end\">{E(label)}</text>");
            sb.Append(C, $"<rect x=\"{labelWidth}\" y=\"{y}\" width=\"{w:F1}\" height=\"{rowHeight - 5}\" fill=\"{(i % 2 == 0 ? "#9ab" : "#1f77b4")}\"/>");
            sb.Append(C, $"<text x=\"{labelWidth + w + 6:F1}\" y=\"{y + 13}\">{E(text)}</text>");
        }
        sb.Append("</svg>\n");
        return sb.ToString();
    }

    private static string F(double? value, string format) => value is { } v ? v.ToString(format, C) : "-";

    private static string Mb(long bytes) => (bytes / 1048576.0).ToString("F2", C) + " MB";

    private static string E(string text) => WebUtility.HtmlEncode(text);
}
