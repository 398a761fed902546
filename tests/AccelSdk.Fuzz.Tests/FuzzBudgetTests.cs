using System.Globalization;

namespace AccelSdk.Fuzz.Tests;

/// <summary>
/// The CI fuzz budget: each importer fuzzed for a bounded time (75 s by default; ACCELSDK_FUZZ_SECONDS and
/// ACCELSDK_FUZZ_SEED change it). Any native crash, hang or untyped exception fails the test, naming each signature and
/// the minimised file written for it under artifacts/fuzz/ci-TARGET.
/// </summary>
public sealed class FuzzBudgetTests
{
    private static string Seconds => Environment.GetEnvironmentVariable("ACCELSDK_FUZZ_SECONDS") ?? "75";

    private static string Seed => Environment.GetEnvironmentVariable("ACCELSDK_FUZZ_SEED") ?? "1";

    [Theory]
    [InlineData("onnx")]
    [InlineData("tflite")]
    public void Importer_survives_the_fuzz_budget_without_a_finding(string target)
    {
        var crashes = FuzzHarness.CrashFolder("ci-" + target);
        var budget = double.Parse(Seconds, CultureInfo.InvariantCulture);
        var result = FuzzHarness.Run(TimeSpan.FromSeconds(budget + 420),
            "--target", target, "--seconds", Seconds, "--seed", Seed, "--crashes", crashes);

        Assert.True(result.ExitCode is 0 or 1, $"the harness failed to run (exit {result.ExitCode}):\n{result.Output}");
        // The .tflite runs need TFLite: the harness's worker loads it under the patched host setup makes; never skip silently.
        if (target == "tflite") Assert.Matches(@"worker devices: .*tflite-cpu", result.Output);
        Assert.True(result.Mutants >= 50, $"the harness checked only {result.Mutants} mutants in {Seconds} s:\n{result.Output}");
        Assert.True(result.ExitCode == 0 && result.Findings.Count == 0,
            $"fuzzing {target} found {result.Findings.Count} signature(s) (model + report beside each file):\n{string.Join("\n", result.Findings)}\n{result.SummaryLine}");
    }
}
