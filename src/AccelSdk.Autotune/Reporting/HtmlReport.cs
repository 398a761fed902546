using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace AccelSdk.Autotune.Reporting;

/// <summary>
/// Renders the autotune report as one self-contained HTML page: inline CSS, inline SVG charts and a few lines of
/// inline script (row filter), no network access. Charts: speed-up over each single backend, predicted vs measured,
/// placement along the graph, per-node time per device (heatmap) and time per op type per device; tables of
/// throughput per stream mode, fused groups and the memory estimate per device when the result has them.
/// </summary>
internal static class HtmlReport
{
    private static readonly string[] Palette = { "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf" };

    public static string Render(AutotuneResult r, JsonObject json)
    {
        var deviceIds = r.Devices.Select(d => d.Device.Id).ToArray();
        string ColorOf(string? id) => id is null ? "#999" : Palette[Math.Max(0, Array.IndexOf(deviceIds, id)) % Palette.Length];
        var sb = new StringBuilder();
        sb.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>AccelSdk autotune: ").Append(E(r.Model.Label)).Append("</title>\n<style>\n")
          .Append("body{font:14px system-ui,sans-serif;margin:24px;color:#222;max-width:1200px}h1{font-size:22px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ddd}")
          .Append("table{border-collapse:collapse;font-size:12px}td,th{border:1px solid #ddd;padding:2px 6px;text-align:right}th{background:#f4f4f4}td.l,th.l{text-align:left}")
          .Append(".legend span{display:inline-block;margin-right:14px}.sw{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:middle}")
          .Append(".ok{color:#2a7}.bad{color:#c33}.note{color:#666;font-size:12px}.chosen{font-weight:bold}\n</style></head><body>\n");
        sb.Append("<h1>Autotune report: ").Append(E(r.Model.Label)).Append("</h1>\n<p>");
        if (r.Chosen is { } chosen)
        {
            sb.Append("Kept plan: <b>").Append(E(chosen.Backend is null ? "autotuned (" + string.Join(" + ", chosen.Devices) + ")" : "single backend " + chosen.Label)).Append("</b>, measured ")
              .Append(Ms(chosen.MeasuredMs)).Append(" median per run");
            if (r.MaxRelativeDifference is { } diff) sb.Append($"; outputs vs {E(r.ReferenceDevice)}: max relative difference {diff:G3}");
            sb.Append(r.FromCache ? ". From the tuning cache." : ".");
        }
        else
        {
            sb.Append("<b class=\"bad\">No plan</b>: ").Append(r.Unsupported.Count).Append(" node(s) are run by no device.");
        }
        sb.Append("<br><span class=\"note\">").Append(E($"{r.Date:yyyy-MM-dd HH:mm} UTC, policy {r.Policy}, tuned in {r.TuningSeconds:F1} s, machine {r.Fingerprint.Hash} ({r.Fingerprint.Facts.GetValueOrDefault("cpu.model")}, {r.Fingerprint.Facts.GetValueOrDefault("cpu.logical_cores")} cores)")).Append("</span></p>\n");
        sb.Append("<p class=\"legend\">");
        foreach (var id in deviceIds) sb.Append("<span><i class=\"sw\" style=\"background:").Append(ColorOf(id)).Append("\"></i>").Append(E(id)).Append("</span>");
        sb.Append("</p>\n");

        if (r.Unsupported.Count > 0)
        {
            sb.Append("<h2>Unsupported nodes</h2><table><tr><th class=\"l\">node</th><th class=\"l\">op</th><th class=\"l\">reasons</th></tr>");
            foreach (var u in r.Unsupported) sb.Append("<tr><td class=\"l\">").Append(E(u.Node)).Append("</td><td class=\"l\">").Append(E(u.Op)).Append("</td><td class=\"l\">").Append(E(u.Reason)).Append("</td></tr>");
            sb.Append("</table>\n");
        }

        if (r.Precision is { } precision) AppendPrecision(sb, precision);

        var plans = new List<PlanResult>();
        if (r.Autotuned is not null) plans.Add(r.Autotuned);
        plans.AddRange(r.SingleBackend);
        if (r.Chosen?.MeasuredMs is { } keptMs && keptMs > 0 && r.SingleBackend.Count > 0)
        {
            sb.Append("<h2>Speed-up of the kept plan over each single backend</h2>\n");
            var rows = r.SingleBackend.Select(s => (s.Label, Ratio: s.MeasuredMs is { } m ? m / keptMs : (double?)null, Why: s.Error ?? (s.Abandoned ? "abandoned: predicted hopeless" : null))).ToArray();
            var maxRatio = Math.Max(1.2, rows.Max(x => x.Ratio ?? 0));
            sb.Append(BarChart(rows.Select(x => (x.Label, x.Ratio, ColorOf(x.Label), x.Ratio is { } v ? $"{v:F2}x" : x.Why ?? "not run")).ToArray(), maxRatio, 1.0));
        }
        if (plans.Count > 0)
        {
            sb.Append("<h2>Predicted vs measured latency (ms)</h2>\n");
            sb.Append(PredictedVsMeasured(plans, ColorOf));
        }
        if (r.Nodes.Count > 0 && r.Nodes.Any(n => n.Assigned is not null))
        {
            sb.Append("<h2>Placement along the graph</h2>\n<p class=\"note\">One bar per node in execution order; width by its time on the chosen device; hover for details. Upper row: the kept plan; lower row: the placement solver's plan.</p>\n");
            sb.Append(PlacementStrip(r, ColorOf));
        }
        if (r.Nodes.Count > 0)
        {
            sb.Append("<h2>Time per op type and device (sum of node medians, ms)</h2>\n");
            sb.Append(OpTypeTable(r, deviceIds));
            sb.Append("<h2>Per-node time on each device (ms)</h2>\n<p class=\"note\">Cell colour: green = fastest for the node, red = many times slower; italics = abandoned (one run), \"skipped\" = not run since the device was hopeless. Filter: <input id=\"filter\" placeholder=\"node or op\"></p>\n");
            sb.Append(Heatmap(r, deviceIds, ColorOf));
        }
        if (plans.Any(p => p.ThroughputPerSecond is not null))
        {
            sb.Append("<h2>Throughput (items per second, higher is better)</h2><p class=\"note\">Each plan over a stream of inputs, run one after another and in its parallel mode (concurrent runs, or a pipeline with one thread per partition); the faster mode is kept.</p>\n");
            var modes = plans.SelectMany(p => p.ThroughputByMode?.Keys ?? Enumerable.Empty<Execution.StreamExecution>()).Distinct().OrderBy(m => m).ToArray();
            sb.Append("<table><tr><th class=\"l\">plan</th>");
            foreach (var mode in modes) sb.Append("<th>").Append(E(mode.ToString().ToLowerInvariant())).Append("</th>");
            sb.Append("<th class=\"l\">kept mode</th></tr>");
            foreach (var p in plans.Where(p => p.ThroughputPerSecond is not null))
            {
                sb.Append("<tr><td class=\"l\">").Append(E(p.Label)).Append("</td>");
                foreach (var mode in modes)
                {
                    var value = p.ThroughputByMode is { } byMode && byMode.TryGetValue(mode, out var v) ? v.ToString("F1", CultureInfo.InvariantCulture) : "-";
                    sb.Append(p.StreamExecution == mode ? "<td class=\"chosen\">" : "<td>").Append(value).Append("</td>");
                }
                sb.Append("<td class=\"l\">").Append(E(p.StreamExecution?.ToString().ToLowerInvariant() ?? "-")).Append("</td></tr>");
            }
            sb.Append("</table>\n");
        }
        if (r.FusedGroups.Count > 0)
        {
            sb.Append("<h2>Fused groups (ms)</h2><p class=\"note\">Chains a backend fuses, timed as one unit next to the sum of their nodes timed alone; the placement uses the unit time when the whole chain lands on that device.</p>\n");
            sb.Append("<table><tr><th class=\"l\">ops</th><th class=\"l\">first node</th><th class=\"l\">device</th><th>as a unit</th><th>nodes alone</th><th>saved</th></tr>");
            foreach (var g in r.FusedGroups)
            {
                foreach (var c in g.Candidates)
                {
                    var saved = c.GroupMs is { } unit && c.NodesSumMs is { } alone && alone > 0 ? $"{1 - unit / alone:P0}" : "-";
                    sb.Append("<tr><td class=\"l\">").Append(E(g.Ops)).Append("</td><td class=\"l\">").Append(E(g.NodeNames.FirstOrDefault())).Append("</td><td class=\"l\">")
                      .Append(E(c.DeviceId)).Append("</td><td>").Append(Ms3(c.GroupMs)).Append("</td><td>").Append(Ms3(c.NodesSumMs)).Append("</td><td>").Append(saved).Append("</td></tr>");
                }
            }
            sb.Append("</table>\n");
        }
        if (r.MemoryFootprint.Count > 0)
        {
            sb.Append("<h2>Memory per device (estimate: weights read + peak live activations)</h2><table><tr><th class=\"l\">device</th><th>weights MiB</th><th>peak activations MiB</th><th>total MiB</th><th>cap MiB</th></tr>");
            foreach (var f in r.MemoryFootprint)
            {
                var cap = r.MemoryLimits is { } limits && limits.TryGetValue(f.DeviceId, out var bytes) ? Mib(bytes) : "none";
                sb.Append("<tr><td class=\"l\">").Append(E(f.DeviceId)).Append("</td><td>").Append(Mib(f.WeightBytes)).Append("</td><td>").Append(Mib(f.PeakActivationBytes))
                  .Append("</td><td>").Append(Mib(f.TotalBytes)).Append("</td><td>").Append(cap).Append("</td></tr>");
            }
            sb.Append("</table>\n");
        }
        if (r.Transfers.Count > 0)
        {
            sb.Append("<h2>Transfer costs</h2><table><tr><th class=\"l\">device</th><th>upload fixed ms</th><th>upload ms/MiB</th><th>download fixed ms</th><th>download ms/MiB</th></tr>");
            foreach (var t in r.Transfers) sb.Append($"<tr><td class=\"l\">{E(t.DeviceId)}</td><td>{t.UploadFixedMs:F4}</td><td>{t.UploadMsPerMiB:F4}</td><td>{t.DownloadFixedMs:F4}</td><td>{t.DownloadMsPerMiB:F4}</td></tr>");
            sb.Append("</table>\n");
        }
        if (r.Plan is { } plan && plan.Partitions.Count > 1)
        {
            sb.Append("<h2>Partitions of the kept plan</h2><table><tr><th>#</th><th class=\"l\">device</th><th>nodes</th><th class=\"l\">inputs</th><th class=\"l\">outputs</th></tr>");
            foreach (var p in plan.Partitions) sb.Append($"<tr><td>{p.Index}</td><td class=\"l\">{E(p.Device.Id)}</td><td>{p.NodeIndices.Count}</td><td class=\"l\">{E(string.Join(", ", p.InputNames))}</td><td class=\"l\">{E(string.Join(", ", p.OutputNames))}</td></tr>");
            sb.Append("</table>\n");
            sb.Append("<h2>Cut edges of the kept plan</h2><p class=\"note\">Each value entering a partition from outside it, and each model output, with how it crosses: none (same memory space), direct (a backend's copy path) or via host (download and/or upload); copies per run.</p>");
            sb.Append("<table><tr><th class=\"l\">value</th><th class=\"l\">from</th><th class=\"l\">to</th><th class=\"l\">route</th><th>copies</th><th>bytes</th></tr>");
            foreach (var t in plan.CutEdges)
            {
                var to = t.BeforePartition < plan.Partitions.Count ? $"{t.To.Id} (partition {t.BeforePartition})" : "caller";
                var bytes = r.TransferBytes.TryGetValue(t.ValueName, out var b) ? b.ToString(CultureInfo.InvariantCulture) : "";
                var route = t.Path is { } path ? $"{t.RouteName}: {path.Description}" : t.RouteName;
                sb.Append($"<tr><td class=\"l\">{E(t.ValueName)}</td><td class=\"l\">{E(t.From.Id)} [{E(t.From.MemorySpace.Name)}]</td><td class=\"l\">{E(to)} [{E(t.To.MemorySpace.Name)}]</td><td class=\"l\">{E(route)}</td><td>{t.Copies}</td><td>{bytes}</td></tr>");
            }
            sb.Append("</table>\n");
        }
        if (r.Warnings.Count > 0 || r.ExcludedDevices.Count > 0)
        {
            sb.Append("<h2>Warnings</h2><ul>");
            foreach (var kv in r.ExcludedDevices) sb.Append("<li>").Append(E($"{kv.Key} excluded: {kv.Value}")).Append("</li>");
            foreach (var w in r.Warnings.Distinct()) sb.Append("<li>").Append(E(w)).Append("</li>");
            sb.Append("</ul>\n");
        }
        sb.Append("<script id=\"report-data\" type=\"application/json\">").Append(json.ToJsonString().Replace("</", "<\\/", StringComparison.Ordinal)).Append("</script>\n");
        sb.Append("""
            <script>
            (function () {
              var data = JSON.parse(document.getElementById('report-data').textContent);
              var input = document.getElementById('filter');
              if (input) {
                input.addEventListener('input', function () {
                  var q = input.value.toLowerCase();
                  document.querySelectorAll('#heatmap tr[data-key]').forEach(function (row) {
                    row.style.display = row.getAttribute('data-key').indexOf(q) >= 0 ? '' : 'none';
                  });
                });
              }
              document.body.setAttribute('data-ready', data.format);
            })();
            </script>
            </body></html>

            """);
        return sb.ToString();
    }

    private static string BarChart(IReadOnlyList<(string Label, double? Value, string Color, string Text)> rows, double max, double? marker)
    {
        const int labelWidth = 160, width = 520, rowHeight = 24;
        var sb = new StringBuilder();
        var height = rows.Count * rowHeight + 10;
        sb.Append($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{labelWidth + width + 160}\" height=\"{height}\" role=\"img\">");
        for (var i = 0; i < rows.Count; i++)
        {
            var (label, value, color, text) = rows[i];
            var y = i * rowHeight + 4;
            var w = value is { } v ? Math.Max(1, v / max * width) : 0;
            sb.Append($"<text x=\"0\" y=\"{y + 15}\" font-size=\"12\">{E(label)}</text>");
            sb.Append(F($"<rect x=\"{labelWidth}\" y=\"{y}\" width=\"{w:F1}\" height=\"18\" fill=\"{color}\"><title>{E(text)}</title></rect>"));
            sb.Append(F($"<text x=\"{labelWidth + w + 6:F1}\" y=\"{y + 14}\" font-size=\"12\">{E(text)}</text>"));
        }
        if (marker is { } m)
        {
            var x = labelWidth + m / max * width;
            sb.Append(F($"<line x1=\"{x:F1}\" y1=\"0\" x2=\"{x:F1}\" y2=\"{height}\" stroke=\"#444\" stroke-dasharray=\"3,3\"><title>1.0x: equal to the kept plan</title></line>"));
        }
        sb.Append("</svg>\n");
        return sb.ToString();
    }

    private static string PredictedVsMeasured(IReadOnlyList<PlanResult> plans, Func<string?, string> colorOf)
    {
        var rows = new List<(string, double?, string, string)>();
        var max = plans.SelectMany(p => new[] { p.PredictedMs, p.MeasuredMs }).Where(v => v is not null).Select(v => v!.Value).DefaultIfEmpty(1).Max();
        foreach (var p in plans)
        {
            var color = p.Backend is null ? "#444" : colorOf(p.Label);
            rows.Add((p.Label + " predicted", p.PredictedMs, color + "88", p.PredictedMs is { } pr ? $"{pr:F3} ms" + (p.PredictedIsLowerBound ? " (at least)" : "") : "unknown"));
            rows.Add((p.Label + " measured", p.MeasuredMs, color, p.Error ?? (p.MeasuredMs is { } m ? $"{m:F3} ms" + (p.Abandoned ? " (one run: hopeless)" : "") : p.Abandoned ? "not run: predicted hopeless" : "not run")));
        }
        return BarChart(rows, Math.Max(max, 1e-6), null);
    }

    private static string PlacementStrip(AutotuneResult r, Func<string?, string> colorOf)
    {
        const int width = 1100, height = 22;
        var times = r.Nodes.Select(n => Math.Max(0.002, n.Candidates.FirstOrDefault(c => c.DeviceId == n.Assigned)?.MedianMs ?? n.BestMs ?? 0.002)).ToArray();
        var total = times.Sum();
        var sb = new StringBuilder($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height * 2 + 8}\" role=\"img\">");
        for (var row = 0; row < 2; row++)
        {
            double x = 0;
            for (var i = 0; i < r.Nodes.Count; i++)
            {
                var n = r.Nodes[i];
                var device = row == 0 ? n.Assigned : n.Autotuned ?? n.Assigned;
                var w = times[i] / total * width;
                var tip = $"#{n.Index} {n.Name} [{n.Op}] on {device}: " + string.Join("; ", n.Candidates.Select(c => $"{c.DeviceId} {(c.MedianMs is { } ms ? ms.ToString("F3", CultureInfo.InvariantCulture) + " ms" : "-")} {c.Status.ToString().ToLowerInvariant()}"));
                sb.Append(F($"<rect x=\"{x:F2}\" y=\"{row * (height + 4)}\" width=\"{Math.Max(0.5, w):F2}\" height=\"{height}\" fill=\"{colorOf(device)}\" stroke=\"#fff\" stroke-width=\"0.3\"><title>{E(tip)}</title></rect>"));
                x += w;
            }
        }
        sb.Append("</svg>\n");
        return sb.ToString();
    }

    private static string OpTypeTable(AutotuneResult r, string[] deviceIds)
    {
        var sb = new StringBuilder("<table><tr><th class=\"l\">op</th><th>nodes</th>");
        foreach (var id in deviceIds) sb.Append("<th>").Append(E(id)).Append("</th>");
        sb.Append("<th class=\"l\">kept on</th></tr>");
        foreach (var group in r.Nodes.GroupBy(n => n.Op).OrderByDescending(g => g.Sum(n => n.BestMs ?? 0)))
        {
            sb.Append("<tr><td class=\"l\">").Append(E(group.Key)).Append("</td><td>").Append(group.Count()).Append("</td>");
            for (var k = 0; k < deviceIds.Length; k++)
            {
                var cells = group.Select(n => n.Candidates[k]).ToArray();
                var complete = cells.All(c => c.Status == CandidateStatus.Measured && c.MedianMs is not null);
                var sum = cells.Sum(c => c.MedianMs ?? 0);
                sb.Append("<td>").Append(complete ? sum.ToString("F3", CultureInfo.InvariantCulture) : cells.Any(c => c.MedianMs is not null) ? "&ge; " + sum.ToString("F3", CultureInfo.InvariantCulture) : "-").Append("</td>");
            }
            sb.Append("<td class=\"l\">").Append(E(string.Join(", ", group.Select(n => n.Assigned).Distinct()))).Append("</td></tr>");
        }
        sb.Append("</table>\n");
        return sb.ToString();
    }

    private static string Heatmap(AutotuneResult r, string[] deviceIds, Func<string?, string> colorOf)
    {
        var sb = new StringBuilder("<table id=\"heatmap\"><tr><th>#</th><th class=\"l\">node</th><th class=\"l\">op</th>");
        foreach (var id in deviceIds) sb.Append("<th>").Append(E(id)).Append("</th>");
        sb.Append("<th class=\"l\">kept on</th></tr>");
        foreach (var n in r.Nodes)
        {
            sb.Append("<tr data-key=\"").Append(E((n.Name + " " + n.Op).ToLowerInvariant())).Append("\"><td>").Append(n.Index).Append("</td><td class=\"l\">").Append(E(n.Name)).Append("</td><td class=\"l\">").Append(E(n.Op)).Append("</td>");
            var best = n.BestMs;
            foreach (var c in n.Candidates)
            {
                var text = c.Status switch
                {
                    CandidateStatus.Measured => Ms3(c.MedianMs),
                    CandidateStatus.Abandoned => "<i>" + Ms3(c.MedianMs) + "</i>",
                    CandidateStatus.Skipped => "skipped",
                    CandidateStatus.Failed => "failed",
                    _ => "-",
                };
                var background = c.MedianMs is { } ms && best is { } b && b > 0 ? Heat(ms / b) : "#fff";
                var title = c.Note ?? (c.Status == CandidateStatus.Measured ? $"{c.Runs} runs, spread {c.RelativeSpread:P1}, compile {c.CompileMs:F1} ms{(c.FromCache ? ", cached" : "")}" : c.Status.ToString());
                sb.Append("<td style=\"background:").Append(background).Append("\" title=\"").Append(E(title)).Append("\">").Append(text).Append("</td>");
            }
            sb.Append("<td class=\"l\"><i class=\"sw\" style=\"background:").Append(colorOf(n.Assigned)).Append("\"></i>").Append(E(n.Assigned ?? "-"));
            if (n.Autotuned is not null && n.Autotuned != n.Assigned) sb.Append(" <span class=\"note\">(solver: ").Append(E(n.Autotuned)).Append(")</span>");
            sb.Append("</td></tr>\n");
        }
        sb.Append("</table>\n");
        return sb.ToString();
    }

    /// <summary>Green at 1x, yellow near 2x, red from 8x, on a log scale.</summary>
    private static string Heat(double ratio)
    {
        var t = Math.Clamp(Math.Log2(Math.Max(1, ratio)) / 3.0, 0, 1);
        var red = (int)(120 + 135 * t);
        var green = (int)(220 - 120 * t);
        return $"rgb({red},{green},120)";
    }

    private static string Ms(double? ms) => ms is { } v ? v.ToString("F3", CultureInfo.InvariantCulture) + " ms" : "-";

    private static string Ms3(double? ms) => ms is { } v ? v.ToString("F3", CultureInfo.InvariantCulture) : "-";

    private static string Mib(long bytes) => (bytes / 1048576.0).ToString("F2", CultureInfo.InvariantCulture);

    private static string E(string? text) => WebUtility.HtmlEncode(text ?? "");

    private static string F(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);

    /// <summary>Which precision the kept plan computes in, per partition, against the budget and the cosine reached.</summary>
    private static void AppendPrecision(StringBuilder sb, Precision.PrecisionResult p)
    {
        var inv = CultureInfo.InvariantCulture;
        sb.Append("<h2>Precision under the accuracy budget (").Append(E(p.Budget.ToString())).Append(")</h2>\n<p>")
          .Append(p.LowerPrecisionKept ? "Lower precision kept" : "float32 kept").Append(": cosine ")
          .Append(p.Cosine?.ToString("F5", inv) ?? "-").Append(p.Top1 is { } t ? ", top-1 " + t.ToString("P1", inv) : "")
          .Append("; float32 ").Append(p.Float32Ms?.ToString("F2", inv) ?? "-").Append(" ms, lower precision ").Append(p.LowerPrecisionMs?.ToString("F2", inv) ?? "-")
          .Append(" ms.<br><span class=\"note\">").Append(E(p.Reason)).Append("</span></p>\n");
        sb.Append("<table><tr><th>partition</th><th class=\"l\">device</th><th class=\"l\">precision</th><th>int8 layers</th><th>float16 layers</th><th>float32 layers</th></tr>");
        foreach (var x in p.Partitions)
        {
            sb.Append(inv, $"<tr><td>{x.Partition}</td><td class=\"l\">{E(x.Device)}</td><td class=\"l\">{E(x.Precision)}</td><td>{x.Int8Layers}</td><td>{x.Float16Layers}</td><td>{x.Float32Layers}</td></tr>");
        }
        sb.Append("</table>\n");
    }
}
