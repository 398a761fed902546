using System.CommandLine;
using AccelSdk.Backends;
using AccelSdk.Onnx.Conformance;

namespace AccelSdk.Cli;

/// <summary><c>accelsdk conformance DATA_ROOT --backend NAME</c>: runs the ONNX backend test suite through AccelSdk.</summary>
internal static class ConformanceCommand
{
    public static Command Create()
    {
        var root = CliOptions.PathArgument("DATA_ROOT", PathKind.ExistingDirectory, "the ONNX backend test data (for example /usr/share/libonnx-testdata/data)");
        var backend = CliOptions.TextOption("--backend", "NAME|DEVICE", "the backend or device to test (see 'accelsdk devices')", required: true);
        var csv = CliOptions.PathOption("--csv", "FILE", PathKind.OutputFile, "write one line per case (suite,test,status,reason) here");
        var expected = CliOptions.PathOption("--expected", "FILE", PathKind.ExistingFile,
            "the expected-failure list: a case failing outside it, or passing inside it, is reported (and the first exits 1)");
        var suites = CliOptions.TextsOption("--suite", "S", "run only this suite (node, simple, pytorch-converted, ...)");
        var filter = CliOptions.TextOption("--filter", "TEXT", "run only the cases whose name contains TEXT");
        var command = new Command("conformance", "run the ONNX backend test suite through AccelSdk") { root, backend, csv, expected, suites, filter };
        command.SetAction(parse => Run(parse.GetRequiredValue(root), parse.GetRequiredValue(backend)!, parse.GetValue(csv), parse.GetValue(expected),
            parse.GetValue(suites) ?? [], parse.GetValue(filter)));
        return command;
    }

    private static int Run(string root, string backendName, string? csv, string? expectedPath, string[] suites, string? filter)
    {
        var (backend, device) = CliRuntime.Instance.Resolve(backendName);
        var expected = expectedPath is null ? null : ConformanceRunner.ReadExpectedFailures(expectedPath);
        var runner = new ConformanceRunner(backend, device);
        var done = 0;
        var report = runner.Run(root, expected, suites.Length > 0 ? suites : null, filter, _ =>
        {
            if (++done % 100 == 0) Console.Error.WriteLine($"accelsdk: {done} cases...");
        });
        if (csv is not null) report.WriteCsv(csv);
        var counts = report.Counts;
        Console.WriteLine($"conformance on {device.Id}: {report.Results.Count} cases: {counts[CaseStatus.Pass]} pass, {counts[CaseStatus.Fail]} fail, " +
                          $"{counts[CaseStatus.Error]} error, {counts[CaseStatus.Skip]} skip, {counts[CaseStatus.NotClaimed]} not claimed");
        if (expected is null) return ExitCodes.Success;
        foreach (var r in report.UnexpectedFailures) Console.WriteLine($"  UNEXPECTED {r.Status.ToString().ToLowerInvariant()}: {r.Key}: {r.Reason}");
        foreach (var r in report.UnexpectedPasses) Console.WriteLine($"  unexpected pass (remove from {expectedPath}): {r.Key}");
        if (report.UnexpectedFailures.Count == 0) return ExitCodes.Success;
        Console.Error.WriteLine($"accelsdk: error: {report.UnexpectedFailures.Count} case(s) failed that the expected-failure list does not name");
        return ExitCodes.Failure;
    }
}
