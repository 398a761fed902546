using AccelSdk.Backends;
using AccelSdk.Onnx.Conformance;
using AccelSdk.TestSupport;

namespace AccelSdk.OnnxRuntime.Tests;

public class ConformanceTests
{
    [Fact]
    public void Ort_backend_passes_the_onnx_backend_suite_except_the_listed_cases()
    {
        var (backend, device) = AccelRuntime.Default.Resolve("ort");
        var expected = ConformanceRunner.ReadExpectedFailures(Path.Combine(RepoPaths.Root, "tests", "conformance", "ort-expected-failures.txt"));
        var report = new ConformanceRunner(backend, device).Run(RepoPaths.OnnxTestData, expected);

        Assert.Equal(1072, report.Results.Count);
        Assert.True(report.UnexpectedFailures.Count == 0,
            "unexpected failures:\n" + string.Join("\n", report.UnexpectedFailures.Select(r => $"{r.Key} {r.Status}: {r.Reason}")));
        Assert.True(report.UnexpectedPasses.Count == 0, "now passing, remove from the list: " + string.Join(", ", report.UnexpectedPasses.Select(r => r.Key)));
        Assert.True(report.Passed >= 1004, $"{report.Passed} passed");
    }

    [Fact]
    public void Comparison_follows_assert_allclose()
    {
        var expected = Ir.AccelTensor.Create(new[] { 1f, float.NaN, 0f, 1000f }, 4);
        Assert.Null(TensorComparison.Compare(Ir.AccelTensor.Create(new[] { 1.0009f, float.NaN, 9e-6f, 1000.9f }, 4), expected));
        Assert.Contains("1/4 elements differ", TensorComparison.Compare(Ir.AccelTensor.Create(new[] { 1.002f, float.NaN, 0f, 1000f }, 4), expected));
        Assert.Contains("shape", TensorComparison.Compare(Ir.AccelTensor.Create(new[] { 1f, 2f, 3f, 4f }, 2, 2), expected));
        Assert.Contains("dtype", TensorComparison.Compare(Ir.AccelTensor.Create(new[] { 1.0, 2, 3, 4 }, 4), expected));
        Assert.Contains("exact", TensorComparison.Compare(Ir.AccelTensor.Create(new long[] { 1, 2 }, 2), Ir.AccelTensor.Create(new long[] { 1, 3 }, 2)));
    }
}
