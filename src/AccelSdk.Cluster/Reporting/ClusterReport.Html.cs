using System.Globalization;
using System.Net;
using System.Text;
using AccelSdk.Cluster.Client;
using AccelSdk.Cluster.Wire;

namespace AccelSdk.Cluster.Reporting;

public static partial class ClusterReport
{
    private static readonly string[] Palette = { "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf" };

    private static string Html(string modelPath, ClusterSelection s, IReadOnlyList<NodeInfo> nodes, IReadOnlyList<string> layers, IReadOnlyList<LayerSpan> spans)
    {
        var names = nodes.Select(n => n.Name).ToList();
        string ColorOf(string node) => Palette[Math.Max(0, names.IndexOf(node)) % Palette.Length];
        var model = Path.GetFileName(modelPath);
        var sb = new StringBuilder();
        sb.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>AccelSdk cluster autotune: ").Append(E(model)).Append("</title>\n<style>\n")
          .Append("body{font:14px system-ui,sans-serif;margin:24px;color:#222;max-width:1200px}h1{font-size:22px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ddd}")
          .Append("table{border-collapse:collapse;font-size:12px}td,th{border:1px solid #ddd;padding:2px 6px;text-align:right}th{background:#f4f4f4}td.l,th.l{text-align:left}")
          .Append(".sw{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:middle}.fleet{background:#fff3c4}.note{color:#666;font-size:12px}.bad{color:#c33}\n")
          .Append("</style></head><body>\n");
        sb.Append("<h1>Cluster autotune report: ").Append(E(model)).Append("</h1>\n<p>Kept placement: <b>").Append(E(Kept(s))).Append("</b>");
        if (s.KeptMeasuredMs is { } measured)
            sb.Append($", measured {Ms(measured)} end to end against {Ms(s.KeptPredictedMs)} predicted");
        sb.Append(".<br><span class=\"note\">model digest ").Append(E(s.ModelDigest)).Append(", ").Append(E(DateTimeOffset.UtcNow.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture))).Append(" UTC</span></p>\n");

        sb.Append("<h2>Nodes</h2>\n<table><tr><th class=\"l\">node</th><th class=\"l\">devices available</th><th class=\"l\">runtimes</th><th>cores</th><th class=\"l\">fingerprint</th>")
          .Append("<th class=\"l\">device chosen</th><th>node median</th><th>end to end</th><th>predicted</th><th class=\"l\">plan from</th></tr>\n");
        foreach (var n in nodes)
        {
            var m = s.Nodes.FirstOrDefault(x => x.Node == n.Name);
            var fleet = m?.TuningSource?.StartsWith("fleet:", StringComparison.Ordinal) == true;
            sb.Append("<tr").Append(fleet ? " class=\"fleet\"" : "").Append("><td class=\"l\"><i class=\"sw\" style=\"background:").Append(ColorOf(n.Name)).Append("\"></i>").Append(E(n.Name)).Append("</td><td class=\"l\">")
              .Append(E(string.Join(", ", n.Devices.Where(d => d.IsAvailable).Select(d => d.Id)))).Append("</td><td class=\"l\">")
              .Append(E(string.Join(", ", n.BackendVersions.Select(kv => kv.Key + " " + kv.Value)))).Append("</td><td>").Append(n.ProcessorCount).Append("</td><td class=\"l\">")
              .Append(E(n.MachineFingerprint ?? "")).Append("</td><td class=\"l\">").Append(E(m?.Device ?? m?.Error ?? n.UnavailableReason ?? "")).Append("</td><td>")
              .Append(Ms(m?.NodeMedianMs)).Append("</td><td>").Append(Ms(m?.EndToEndMedianMs)).Append("</td><td>").Append(Ms(m?.PredictedMs)).Append("</td><td class=\"l\">")
              .Append(E(DescribeTuning(m?.TuningSource))).Append("</td></tr>\n");
        }
        sb.Append("</table>\n<p class=\"note\">Highlighted rows took their plan from the fleet's tuning cache (another node of the same machine fingerprint and backend versions tuned it).</p>\n");

        sb.Append("<h2>Measured links</h2>\n");
        if (s.Links.Count == 0) sb.Append("<p class=\"note\">Links are measured when splits are considered.</p>\n");
        else
        {
            sb.Append("<table><tr><th class=\"l\">from</th><th class=\"l\">to</th><th>latency</th><th>ms per MiB</th><th>bandwidth</th><th class=\"l\">probes (bytes: median)</th></tr>\n");
            foreach (var l in s.Links)
                sb.Append("<tr><td class=\"l\">").Append(E(l.From)).Append("</td><td class=\"l\">").Append(E(l.To)).Append("</td><td>").Append(Ms(l.LatencyMs)).Append("</td><td>")
                  .Append(l.MsPerMiB.ToString("F2", CultureInfo.InvariantCulture)).Append("</td><td>")
                  .Append(double.IsPositiveInfinity(l.MegabitsPerSecond) ? "unmeasurable" : l.MegabitsPerSecond.ToString("F0", CultureInfo.InvariantCulture) + " Mbit/s").Append("</td><td class=\"l\">")
                  .Append(E(string.Join(", ", l.Samples.Select(x => $"{x.Bytes:N0}: {x.MedianMs:F2} ms")))).Append("</td></tr>\n");
            sb.Append("</table>\n");
        }

        sb.Append("<h2>Where each layer runs</h2>\n").Append(LayerStrip(spans, layers.Count, ColorOf));
        sb.Append("<table><tr><th>layers</th><th class=\"l\">first</th><th class=\"l\">last</th><th class=\"l\">node(s)</th><th class=\"l\">device</th></tr>\n");
        foreach (var span in spans)
            sb.Append("<tr><td>").Append(span.From).Append('-').Append(span.To - 1).Append("</td><td class=\"l\">").Append(E(layers[span.From])).Append("</td><td class=\"l\">")
              .Append(E(layers[span.To - 1])).Append("</td><td class=\"l\">").Append(E(string.Join(", ", span.Nodes))).Append("</td><td class=\"l\">").Append(E(span.Device ?? "each node's own")).Append("</td></tr>\n");
        sb.Append("</table>\n");

        sb.Append("<h2>Predicted against measured</h2>\n").Append(PredictedVsMeasured(s, ColorOf));
        if (s.Splits.Count > 0)
        {
            sb.Append("<table><tr><th class=\"l\">front</th><th class=\"l\">back</th><th>cut</th><th class=\"l\">after layer</th><th>bytes sent</th><th>profile prediction</th>")
              .Append("<th>front stage</th><th>back stage</th><th>prediction</th><th>measured</th><th class=\"l\">note</th></tr>\n");
            foreach (var x in s.Splits)
                sb.Append("<tr><td class=\"l\">").Append(E(x.Front)).Append("</td><td class=\"l\">").Append(E(x.Back)).Append("</td><td>").Append(x.Cut).Append("</td><td class=\"l\">")
                  .Append(E(x.CutAfter)).Append("</td><td>").Append(x.CutBytes.ToString("N0", CultureInfo.InvariantCulture)).Append("</td><td>").Append(Ms(x.ProfilePredictedMs)).Append("</td><td>")
                  .Append(Ms(x.FrontStageMs)).Append("</td><td>").Append(Ms(x.BackStageMs)).Append("</td><td>").Append(Ms(x.PredictedMs)).Append("</td><td>").Append(Ms(x.MeasuredMs))
                  .Append("</td><td class=\"l\">").Append(x.Error is { } error ? "<span class=\"bad\">" + E(error) + "</span>" : s.KeptSplit == x ? "kept" : "").Append("</td></tr>\n");
            sb.Append("</table>\n");
        }
        sb.Append("</body></html>\n");
        return sb.ToString();
    }

    private static string Kept(ClusterSelection s) => s.Placement switch
    {
        ClusterPlacement.Split when s.KeptSplit is { } x => $"split: layers 0-{x.Cut - 1} on {x.Front}, the rest on {x.Back}",
        ClusterPlacement.DataParallel => "data parallel over " + string.Join(", ", s.Weights.Where(w => w.Value > 0).Select(w => $"{w.Key} ({w.Value:P0})")),
        _ => "whole model on " + s.Weights.FirstOrDefault(w => w.Value > 0).Key,
    };

    private static string LayerStrip(IReadOnlyList<LayerSpan> spans, int layerCount, Func<string, string> colorOf)
    {
        const int width = 1000;
        var sb = new StringBuilder($"<svg width=\"{width}\" height=\"34\" xmlns=\"http://www.w3.org/2000/svg\">");
        foreach (var span in spans)
        {
            var x = width * span.From / (double)Math.Max(1, layerCount);
            var w = width * (span.To - span.From) / (double)Math.Max(1, layerCount);
            var band = 24.0 / Math.Max(1, span.Nodes.Count);
            for (var i = 0; i < span.Nodes.Count; i++)
                sb.Append(CultureInfo.InvariantCulture, $"<rect x=\"{x:F1}\" y=\"{i * band:F1}\" width=\"{w:F1}\" height=\"{band:F1}\" fill=\"{colorOf(span.Nodes[i])}\"><title>{E(span.Nodes[i])}: layers {span.From}-{span.To - 1}</title></rect>");
        }
        sb.Append("<text x=\"0\" y=\"33\" font-size=\"9\">layer 0</text>").Append(CultureInfo.InvariantCulture, $"<text x=\"{width - 60}\" y=\"33\" font-size=\"9\">layer {layerCount - 1}</text></svg>\n");
        return sb.ToString();
    }

    private static string PredictedVsMeasured(ClusterSelection s, Func<string, string> colorOf)
    {
        var rows = s.Nodes.Where(n => n.EndToEndMedianMs is not null).Select(n => ($"whole on {n.Node}", n.PredictedMs, n.EndToEndMedianMs, colorOf(n.Node)))
            .Concat(s.Splits.Where(x => x.MeasuredMs is not null).Select(x => ($"{x.Front} > {x.Back} at {x.Cut}", x.PredictedMs, x.MeasuredMs, colorOf(x.Front))))
            .ToList();
        if (rows.Count == 0) return "<p class=\"note\">Nothing measured.</p>\n";
        var max = rows.Max(r => Math.Max(r.Item2 ?? 0, r.Item3 ?? 0));
        const int labelWidth = 200, barWidth = 700, rowHeight = 30;
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"<svg width=\"{labelWidth + barWidth + 120}\" height=\"{rows.Count * rowHeight + 10}\" xmlns=\"http://www.w3.org/2000/svg\" font-size=\"11\">");
        for (var i = 0; i < rows.Count; i++)
        {
            var (label, predicted, measured, color) = rows[i];
            var y = i * rowHeight + 4;
            sb.Append(CultureInfo.InvariantCulture, $"<text x=\"0\" y=\"{y + 14}\">{E(label)}</text>");
            if (measured is { } m) sb.Append(CultureInfo.InvariantCulture, $"<rect x=\"{labelWidth}\" y=\"{y}\" width=\"{barWidth * m / max:F1}\" height=\"11\" fill=\"{color}\"/><text x=\"{labelWidth + barWidth * m / max + 4:F1}\" y=\"{y + 10}\">measured {m:F1} ms</text>");
            if (predicted is { } p) sb.Append(CultureInfo.InvariantCulture, $"<rect x=\"{labelWidth}\" y=\"{y + 13}\" width=\"{barWidth * p / max:F1}\" height=\"11\" fill=\"none\" stroke=\"{color}\"/><text x=\"{labelWidth + barWidth * p / max + 4:F1}\" y=\"{y + 23}\">predicted {p:F1} ms</text>");
        }
        return sb.Append("</svg>\n<p class=\"note\">Filled: measured end to end from the client; outlined: predicted from the links and each node's or stage's own median.</p>\n").ToString();
    }

    private static string Ms(double? ms) => ms is { } v ? v.ToString("F1", CultureInfo.InvariantCulture) + " ms" : "-";

    private static string E(string text) => WebUtility.HtmlEncode(text);
}
