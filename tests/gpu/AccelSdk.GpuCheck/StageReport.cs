using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace AccelSdk.GpuCheck;

/// <summary>How a stage ended.</summary>
internal enum StageStatus
{
    Passed,
    Failed,
    Skipped,
}

/// <summary>What one stage found: figures as JSON, a Markdown section for summary.md, and the checks that failed.</summary>
internal sealed class StageReport(string name)
{
    public string Name { get; } = name;

    public JsonObject Json { get; } = new();

    public StringBuilder Markdown { get; } = new();

    public List<string> Problems { get; } = new();

    public string? SkipReason { get; private set; }

    public TimeSpan Elapsed { get; set; }

    public StageStatus Status => SkipReason is not null ? StageStatus.Skipped : Problems.Count > 0 ? StageStatus.Failed : StageStatus.Passed;

    public void Skip(string reason) => SkipReason = reason;

    /// <summary>Records a failed check: it goes into the summary and makes the run exit 1.</summary>
    public void Fail(string problem) => Problems.Add(problem);

    public void Line(string text) => Markdown.AppendLine(text);

    /// <summary>Appends a Markdown table.</summary>
    public void Table(IReadOnlyList<string> headers, IEnumerable<IReadOnlyList<string>> rows)
    {
        Markdown.AppendLine("| " + string.Join(" | ", headers) + " |");
        Markdown.AppendLine("|" + string.Concat(headers.Select(_ => " --- |")));
        foreach (var row in rows) Markdown.AppendLine("| " + string.Join(" | ", row.Select(Cell)) + " |");
        Markdown.AppendLine();
    }

    private static string Cell(string text) => text.Replace("|", "\\|", StringComparison.Ordinal).ReplaceLineEndings(" ");
}

/// <summary>Number formatting shared by the stages (invariant culture, fixed decimals).</summary>
internal static class Format
{
    public static string F(double value, int decimals = 2) => value.ToString("F" + decimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);

    public static string F(double? value, int decimals = 2) => value is { } v ? F(v, decimals) : "-";

    public static string G(double value) => value.ToString("G3", CultureInfo.InvariantCulture);

    public static string Percent(double part, double whole) => whole > 0 ? F(100 * part / whole, 1) + "%" : "-";
}
