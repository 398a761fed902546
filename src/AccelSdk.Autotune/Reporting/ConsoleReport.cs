using System.Globalization;
using System.Text;

namespace AccelSdk.Autotune.Reporting;

/// <summary>The console summary of a tuning and a progress bar to show while it runs.</summary>
public static class ConsoleReport
{
    /// <summary>A summary table: the kept plan, every plan predicted vs measured, and where the time goes per op.</summary>
    public static string Summary(AutotuneResult r)
    {
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.AppendLine(inv, $"{r.Model.Label}: {r.Model.Graph.Nodes.Count} nodes, {r.Devices.Count} device(s), tuned in {r.TuningSeconds:F1} s{(r.FromCache ? " (from cache)" : "")}");
        if (r.Unsupported.Count > 0)
        {
            sb.AppendLine(inv, $"  {r.Unsupported.Count} node(s) run by no device:");
            foreach (var u in r.Unsupported) sb.AppendLine(inv, $"    {u.Node} [{u.Op}]: {u.Reason}");
            return sb.ToString();
        }
        sb.AppendLine(inv, $"  {"PLAN",-28} {"PREDICTED ms",13} {"MEASURED ms",12} {"VS KEPT",8}  NOTE");
        var kept = r.Chosen?.MeasuredMs;
        var rows = new List<PlanResult>();
        if (r.Autotuned is not null) rows.Add(r.Autotuned);
        rows.AddRange(r.SingleBackend);
        foreach (var p in rows)
        {
            var label = p.Backend is null ? $"autotuned ({(p.Devices.Count > 0 ? string.Join("+", p.Devices) : "no plan")})" : p.Label;
            var isKept = r.Chosen is not null && (p == r.Chosen || (p.Label == r.Chosen.Label && p.Backend == r.Chosen.Backend));
            var predicted = p.PredictedMs is { } pr ? (p.PredictedIsLowerBound ? ">=" : "") + pr.ToString("F3", inv) : "-";
            var measured = p.MeasuredMs is { } m ? m.ToString("F3", inv) : "-";
            var ratio = p.MeasuredMs is { } m2 && kept is { } k && k > 0 ? (m2 / k).ToString("F2", inv) + "x" : "-";
            var note = p.Error ?? (p.Abandoned ? (p.MeasuredMs is null ? "abandoned: predicted hopeless, not run" : "abandoned: hopeless after one timed run") : isKept ? "kept" : "");
            sb.AppendLine(inv, $"{(isKept ? "* " : "  ")}{Trim(label, 28),-28} {predicted,13} {measured,12} {ratio,8}  {note}");
        }
        if (r.FromCache && r.Chosen is not null)
        {
            sb.AppendLine(inv, $"* {"cached plan",-28} {"-",13} {r.Chosen.MeasuredMs?.ToString("F3", inv) ?? "-",12} {"",8}  measured when tuned");
        }
        if (r.Precision is { } precision)
        {
            var partitions = string.Join(", ", precision.Partitions.Select(x => $"#{x.Partition} {x.Device} {x.Precision}"));
            sb.AppendLine(inv, $"  precision ({precision.Budget}): {(precision.LowerPrecisionKept ? "lower precision kept" : "float32 kept")}, cosine {precision.Cosine?.ToString("F5", inv) ?? "-"}; partitions {partitions}");
            sb.AppendLine(inv, $"    {precision.Reason}");
        }
        if (r.MaxRelativeDifference is { } diff) sb.AppendLine(inv, $"  outputs vs {r.ReferenceDevice}: max relative difference {diff:G3}");
        var byDevice = r.Nodes.GroupBy(n => n.Assigned ?? "?").Select(g => $"{g.Key}: {g.Count()} nodes").ToArray();
        sb.AppendLine(inv, $"  placement: {string.Join(", ", byDevice)}; {r.Plan?.Partitions.Count ?? 0} partition(s), {r.Plan?.Transfers.Count ?? 0} transfer(s)");
        var abandoned = r.Nodes.Sum(n => n.Candidates.Count(c => c.Status == CandidateStatus.Abandoned));
        var skipped = r.Nodes.Sum(n => n.Candidates.Count(c => c.Status == CandidateStatus.Skipped));
        if (abandoned + skipped > 0) sb.AppendLine(inv, $"  {abandoned} candidate(s) abandoned after one run, {skipped} skipped as hopeless");
        foreach (var kv in r.ExcludedDevices) sb.AppendLine(inv, $"  excluded {kv.Key}: {kv.Value}");
        return sb.ToString();
    }

    /// <summary>One line of progress: <c>[#####.....] nodes 12/74 conv1 [Conv]</c>.</summary>
    public static string ProgressLine(SelectionProgress p, int width = 30)
    {
        var fraction = p.Total > 0 ? Math.Clamp((double)p.Done / p.Total, 0, 1) : 0;
        var filled = (int)Math.Round(fraction * width);
        return $"[{new string('#', filled)}{new string('.', width - filled)}] {p.Stage} {p.Done}/{p.Total} {Trim(p.Detail, 50)}";
    }

    private static string Trim(string text, int max) => text.Length <= max ? text : text[..(max - 1)] + "~";
}
