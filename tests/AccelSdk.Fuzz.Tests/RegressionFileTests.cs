using AccelSdk.TestSupport;

namespace AccelSdk.Fuzz.Tests;

/// <summary>
/// Every finding the fuzzer made is kept, minimised, under Regressions/onnx and Regressions/tflite (named after its
/// signature) and replayed here through the same worker: import, shape inference, every capability query, compile and
/// one run. Each must end in success or a typed refusal: no native crash, no hang, no untyped exception.
/// </summary>
public sealed class RegressionFileTests
{
    [Theory]
    [InlineData("onnx")]
    [InlineData("tflite")]
    public void Every_kept_finding_now_gives_a_typed_answer(string target)
    {
        var folder = Path.Combine(RepoPaths.Root, "tests", "AccelSdk.Fuzz.Tests", "Regressions", target);
        Assert.True(Directory.EnumerateFiles(folder).Any(), $"{folder} holds no regression file");

        var result = FuzzHarness.Run(TimeSpan.FromMinutes(8), "--target", target, "--replay", folder);

        var failures = result.Output.Split('\n').Where(l => l.StartsWith("Untyped", StringComparison.Ordinal)
            || l.StartsWith("Crash", StringComparison.Ordinal) || l.StartsWith("Hang", StringComparison.Ordinal)).ToArray();
        Assert.True(result.ExitCode == 0, $"{failures.Length} regression file(s) still fail (exit {result.ExitCode}):\n{string.Join("\n", failures)}\n{(failures.Length == 0 ? result.Output : "")}");
    }
}
