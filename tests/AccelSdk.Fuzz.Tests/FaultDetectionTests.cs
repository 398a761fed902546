using AccelSdk.TestSupport;

namespace AccelSdk.Fuzz.Tests;

/// <summary>
/// The supervisor's verdicts on a worker that misbehaves on purpose (<c>--inject-fault</c>: files named inject-crash,
/// inject-hang, inject-untyped): a killed worker is a native crash, a silent one a hang, an escaping untyped exception
/// a finding; a clean model is none. Without these, a harness that never reports anything would look green.
/// </summary>
public sealed class FaultDetectionTests
{
    private static string CopyNodeTest(string folder, string name)
    {
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, name);
        File.Copy(Path.Combine(RepoPaths.OnnxCase("node", "test_add"), "model.onnx"), path, overwrite: true);
        return path;
    }

    [Theory]
    [InlineData("inject-crash.onnx", "native crash (signal 11) in import")]
    [InlineData("inject-hang.onnx", "hang in import")]
    [InlineData("inject-untyped.onnx", "System.InvalidOperationException at AccelSdk.Fuzz.Worker.InjectFault")]
    public void A_misbehaving_mutant_is_reported_with_its_signature(string file, string signature)
    {
        var model = CopyNodeTest(FuzzHarness.CrashFolder("inject-" + Path.GetFileNameWithoutExtension(file)), file);

        var result = FuzzHarness.Run(TimeSpan.FromMinutes(4), "--target", "onnx", "--replay", model, "--timeout", "8", "--inject-fault", "test");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains(signature, result.Output);
    }

    [Fact]
    public void A_valid_model_replays_clean_through_import_capabilities_compile_and_run()
    {
        var model = CopyNodeTest(FuzzHarness.CrashFolder("clean"), "clean.onnx");

        var result = FuzzHarness.Run(TimeSpan.FromMinutes(4), "--target", "onnx", "--replay", model);

        Assert.Equal(0, result.ExitCode);
        Assert.StartsWith("Ok:", result.Output.TrimStart());
        Assert.Contains("ort-cpu", result.Output);
    }

    [Fact]
    public void The_fuzz_loop_restarts_a_crashed_worker_and_counts_one_signature_once()
    {
        var folder = FuzzHarness.CrashFolder("loop");
        CopyNodeTest(Path.Combine(folder, "corpus"), "inject-crash-seed.onnx");
        var crashes = Path.Combine(folder, "crashes");

        var result = FuzzHarness.Run(TimeSpan.FromMinutes(6), "--target", "onnx", "--no-default-corpus", "--corpus", Path.Combine(folder, "corpus"),
            "--crashes", crashes, "--seconds", "120", "--max-mutants", "3", "--inject-fault", "test");

        Assert.Equal(1, result.ExitCode);
        Assert.Equal(3, result.Mutants);
        var finding = Assert.Single(result.Findings);
        Assert.Contains("3x  native crash (signal 11) in import", finding);
        Assert.Matches(@"\b([3-9]|\d{2,}) worker start\(s\)", result.Output);
        Assert.Single(Directory.GetFiles(crashes, "*.onnx"));
        var report = File.ReadAllText(Assert.Single(Directory.GetFiles(crashes, "onnx-*.txt")));
        Assert.Contains("signature: native crash (signal 11) in import", report);
        Assert.Contains("inject-crash-seed.onnx", report);
    }

    [Fact]
    public void A_run_without_seeds_fails_loudly_instead_of_passing_empty()
    {
        var empty = FuzzHarness.CrashFolder("empty");

        var result = FuzzHarness.Run(TimeSpan.FromMinutes(2), "--target", "tflite", "--no-default-corpus", "--corpus", empty, "--crashes", empty);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("no seed model found", result.Output);
    }
}
