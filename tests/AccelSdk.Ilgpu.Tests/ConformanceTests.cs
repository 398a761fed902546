using AccelSdk.Execution;
using AccelSdk.Onnx;
using AccelSdk.Onnx.Conformance;
using Xunit;

namespace AccelSdk.Ilgpu.Tests;

/// <summary>
/// ONNX backend node tests (Debian libonnx-testdata) on the ILGPU CPU accelerator: every case whose nodes the backend
/// claims must pass with the suite's tolerance (rtol 1e-3, atol 1e-5); cases it does not claim are not run here.
/// </summary>
public class ConformanceTests
{
    private static readonly string NodeRoot = Path.Combine(Shared.OnnxTestData, "node");

    private static readonly IReadOnlyDictionary<string, ExpectedFailure> ExpectedFailures =
        ConformanceRunner.ReadExpectedFailures(Path.Combine(Shared.RepoRoot, "tests", "conformance", "ilgpu-expected-failures.txt"));

    /// <summary>Node test cases whose every node ILGPU claims on the test device.</summary>
    public static IEnumerable<object[]> ClaimedCases()
    {
        foreach (var dir in Directory.GetDirectories(NodeRoot).OrderBy(d => d, StringComparer.Ordinal))
        {
            if (IsClaimed(dir)) yield return new object[] { Path.GetFileName(dir) };
        }
    }

    /// <summary>Claimed cases of the other suites (simple, pytorch-converted, pytorch-operator), as "suite/test".</summary>
    public static IEnumerable<object[]> ClaimedModelCases()
    {
        foreach (var suite in TestSupport.RepoPaths.OnnxSuites.Where(s => s != "node"))
        {
            foreach (var dir in Directory.GetDirectories(Path.Combine(Shared.OnnxTestData, suite)).OrderBy(d => d, StringComparer.Ordinal))
            {
                if (IsClaimed(dir)) yield return new object[] { $"{suite}/{Path.GetFileName(dir)}" };
            }
        }
    }

    [Theory]
    [MemberData(nameof(ClaimedModelCases))]
    public void ClaimedSuiteCasePasses(string suiteAndTest)
    {
        var suite = suiteAndTest[..suiteAndTest.IndexOf('/')];
        var runner = new ConformanceRunner(Shared.Backend, Shared.TestDevice);
        var result = runner.RunCase(suite, Path.Combine(Shared.OnnxTestData, suiteAndTest));
        Assert.True(result.Status == CaseStatus.Pass, $"{suiteAndTest}: {result.Status}: {result.Reason}");
    }

    private static bool IsClaimed(string caseDir)
    {
        try
        {
            var model = OnnxImporter.Load(Path.Combine(caseDir, "model.onnx"));
            if (model.Graph.Inputs.Concat(model.Graph.Outputs).Any(v => v.Type is not null and not Ir.TensorType)) return false;
            return GraphPartitioner.Unsupported(model, Shared.Backend, Shared.TestDevice).Count == 0;
        }
        catch (AccelSdkException)
        {
            return false;
        }
    }

    [Theory]
    [MemberData(nameof(ClaimedCases))]
    public void ClaimedNodeTestPasses(string testCase)
    {
        var runner = new ConformanceRunner(Shared.Backend, Shared.TestDevice);
        var result = runner.RunCase("node", Path.Combine(NodeRoot, testCase));
        if (ExpectedFailures.TryGetValue(result.Key, out var expected))
        {
            Assert.True(result.Status == CaseStatus.Fail, $"{testCase} is listed as expected to fail ({expected.Reason}) but is {result.Status}: remove the line");
            return;
        }
        Assert.True(result.Status == CaseStatus.Pass, $"{testCase}: {result.Status}: {result.Reason}");
    }

    /// <summary>The listed reference-data cases: ILGPU's output equals ONNX Runtime's on the same input (so the data is at fault).</summary>
    [Theory]
    [InlineData("test_resize_downsample_scales_linear_align_corners")]
    [InlineData("test_resize_downsample_scales_cubic_align_corners")]
    public void ListedReferenceDataCaseAgreesWithOnnxRuntime(string testCase)
    {
        Assert.StartsWith("test-data:", ExpectedFailures[$"node/{testCase}"].Reason);
        var dir = Path.Combine(NodeRoot, testCase);
        var model = OnnxImporter.Load(Path.Combine(dir, "model.onnx"));
        var inputs = model.Graph.RequiredInputs.Select((v, i) => OnnxTensors.ReadFile(Path.Combine(dir, "test_data_set_0", $"input_{i}.pb")).WithName(v.Name))
            .ToDictionary(t => t.Name!, t => t, StringComparer.Ordinal);
        using var ort = new OnnxRuntime.OrtBackend();
        using var reference = new AccelSession(GraphPartitioner.WholeModel(model, ort, ort.Devices.Single(d => d.Id == "ort-cpu")));
        using var session = new AccelSession(GraphPartitioner.WholeModel(model, Shared.Backend, Shared.TestDevice));
        var expected = reference.Run(inputs)[0].AsSpan<float>().ToArray();
        var actual = session.Run(inputs)[0].AsSpan<float>().ToArray();
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++) Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-5 + 1e-5 * Math.Abs(expected[i]), $"element {i}: ILGPU {actual[i]}, ORT {expected[i]}");
    }

    [Fact]
    public void WholeSuiteHasNoFailureOutsideTheListAndEveryUnclaimedCaseIsReportedAsSuch()
    {
        var report = new ConformanceRunner(Shared.Backend, Shared.TestDevice).Run(Shared.OnnxTestData, ExpectedFailures);
        Assert.Equal(1072, report.Results.Count);
        Assert.True(report.UnexpectedFailures.Count == 0,
            "unexpected failures:\n" + string.Join("\n", report.UnexpectedFailures.Select(r => $"{r.Key} {r.Status}: {r.Reason}")));
        Assert.True(report.UnexpectedPasses.Count == 0, "now passing, remove from the list: " + string.Join(", ", report.UnexpectedPasses.Select(r => r.Key)));
        Assert.True(report.Passed >= 498, $"{report.Passed} passed");
        Assert.All(report.Results.Where(r => r.Status == CaseStatus.NotClaimed), r => Assert.Contains("no available backend runs", r.Reason));
    }

    [Fact]
    public void ClaimsTheCoreOperatorSet()
    {
        var claimedCases = ClaimedCases().Select(c => (string)c[0]).ToHashSet();
        // One representative node test per operator of the core list must be claimed (and so run above).
        string[] mustClaim =
        {
            "test_matmul_2d", "test_gemm_default_matrix_bias", "test_basic_conv_with_padding", "test_conv_with_strides_padding",
            "test_batchnorm_example", "test_relu", "test_maxpool_2d_default", "test_globalaveragepool", "test_add_bcast",
            "test_flatten_axis0", "test_reshape_reordered_all_dims", "test_softmax_axis_1", "test_transpose_default",
            "test_concat_2d_axis_0", "test_reduce_mean_default_axes_keepdims_example", "test_slice", "test_gather_0",
            "test_squeeze", "test_unsqueeze_axis_0", "test_shape", "test_where_example", "test_equal", "test_sigmoid", "test_tanh",
            // float16, integer arithmetic, 1-D/3-D windows, cubic resize
            "test_max_float16", "test_min_int64", "test_pow_types_int64_int64", "test_pow_types_float32_int32", "test_convtranspose_1d",
            "test_convtranspose_3d", "test_maxpool_1d_default", "test_averagepool_3d_default", "test_resize_upsample_scales_cubic",
            "test_resize_downsample_scales_cubic_A_n0p5_exclude_outside",
        };
        var missing = mustClaim.Where(c => !claimedCases.Contains(c)).ToArray();
        Assert.True(missing.Length == 0, "not claimed: " + string.Join(", ", missing));
    }
}
