using System.Text.Json.Nodes;
using AccelSdk.Onnx.Conformance;

namespace AccelSdk.GpuCheck.Stages;

/// <summary>
/// The ONNX node tests packed for the check (every case claimed on ilgpu-cpu, see prepare.sh) run through the
/// conformance runner on the device under test; the expected-failure list's rules decide what is a failure.
/// </summary>
internal static class ConformanceStage
{
    public static void Run(CheckContext context, StageReport report)
    {
        if (context.Options.OnnxData is not { } root)
        {
            report.Skip("no --onnx-data folder given");
            return;
        }
        var (backend, device) = context.Device;
        var expected = context.Options.ExpectedFailures is { } list ? ConformanceRunner.ReadExpectedFailures(list) : new Dictionary<string, ExpectedFailure>();
        var done = 0;
        var conformance = new ConformanceRunner(backend, device).Run(root, expected, new[] { "node" }, progress: _ =>
        {
            if (++done % 100 == 0) context.Log($"conformance: {done} cases");
        });
        conformance.WriteCsv(context.PathInOutput("conformance.csv"));
        var counts = conformance.Counts;
        foreach (var r in conformance.UnexpectedFailures) report.Fail($"{r.Key} {r.Status.ToString().ToLowerInvariant()}: {r.Reason}");
        foreach (var r in conformance.UnexpectedPasses) report.Fail($"{r.Key} passes but is listed as an expected failure: remove it from the list");
        var notClaimed = conformance.Results.Where(r => r.Status == CaseStatus.NotClaimed).ToArray();
        report.Json["cases"] = conformance.Results.Count;
        report.Json["counts"] = new JsonObject(counts.Select(c => KeyValuePair.Create(c.Key.ToString().ToLowerInvariant(), (JsonNode?)c.Value)));
        report.Json["seconds_in_cases"] = conformance.Results.Sum(r => r.Milliseconds) / 1000;
        report.Json["not_claimed_here"] = new JsonArray(notClaimed.Select(r => (JsonNode?)JsonValue.Create(r.Key)).ToArray());
        report.Line($"`{device.Id}`: {conformance.Results.Count} node tests (those claimed on ilgpu-cpu, packed by prepare.sh); rtol 1e-3, atol 1e-5; " +
                    $"expected-failure list {(context.Options.ExpectedFailures is { } p ? "`" + Path.GetFileName(p) + "`" : "none")}. Per case: conformance.csv.");
        report.Line("");
        report.Table(new[] { "pass", "fail", "error", "skip", "not claimed", "unexpected failures", "unexpected passes" }, new[]
        {
            new[]
            {
                counts[CaseStatus.Pass].ToString(), counts[CaseStatus.Fail].ToString(), counts[CaseStatus.Error].ToString(), counts[CaseStatus.Skip].ToString(),
                counts[CaseStatus.NotClaimed].ToString(), conformance.UnexpectedFailures.Count.ToString(), conformance.UnexpectedPasses.Count.ToString(),
            },
        });
        if (notClaimed.Length > 0) report.Line($"Claimed on ilgpu-cpu but not on {device.Id}: {string.Join(", ", notClaimed.Select(r => r.Test))}.");
        foreach (var r in conformance.UnexpectedFailures.Take(40)) report.Line($"- UNEXPECTED {r.Status.ToString().ToLowerInvariant()}: `{r.Key}`: {r.Reason}");
    }
}
