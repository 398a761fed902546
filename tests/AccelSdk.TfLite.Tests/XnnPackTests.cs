using AccelSdk.Autotune;
using AccelSdk.Backends;
using AccelSdk.Ir;
using AccelSdk.TfLite.Native;

namespace AccelSdk.TfLite.Tests;

/// <summary>
/// The XNNPACK delegate of the TFLite library scripts/build-tflite.sh builds: same outputs as TFLite's builtin kernels,
/// the delegate really takes the operators, its thread pool follows the thread count, and the autotuner measures the
/// <c>tflite-cpu</c> variants with and without it. On Debian's own TFLite (the fallback, built without XNNPACK) each test
/// checks instead that XNNPACK is reported absent and refused with the reason.
/// </summary>
public sealed class XnnPackTests
{
    public XnnPackTests() => TestEnvironment.RequireRuntime();

    [Theory]
    [InlineData("face_detection_short_range.tflite")]
    [InlineData("hand_landmark_lite.tflite")]
    [InlineData("selfie_segmentation.tflite")]
    public void Xnnpack_runs_the_model_with_the_builtin_kernels_outputs(string file)
    {
        if (!TestEnvironment.XnnPackOrAbsenceChecked()) return;
        using var model = LiteModel.FromFile(TestEnvironment.Model(file));
        using var builtin = new LiteInterpreter(model, new LiteInterpreterOptions { Threads = 2, MediaPipeCustomOps = true, ProfileOps = true });
        using var xnnpack = new LiteInterpreter(model, new LiteInterpreterOptions { Threads = 2, MediaPipeCustomOps = true, ProfileOps = true, UseXnnPack = true });
        var inputs = TestData.RandomInputs(builtin.Inputs, seed: 7);
        var expected = builtin.Run(inputs);
        var actual = xnnpack.Run(inputs);
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++) TestData.AssertClose(expected[i], actual[i], 1e-4, 1e-6, $"{file} output {i}");
        // The delegate replaced TFLite's kernels: the profiler sees XNNPACK's operators (named by XNNPACK, such as
        // "Convolution (NHWC, F32) IGEMM") where TFLite's builtin run has TFLite's (CONV_2D, ...).
        var builtinOps = builtin.OpTimings;
        var delegated = xnnpack.OpTimings;
        Assert.DoesNotContain(builtinOps, t => IsXnnPackOperator(t.Op));
        var onXnnPack = delegated.Count(t => IsXnnPackOperator(t.Op));
        Assert.True(onXnnPack > 0 && onXnnPack * 2 >= delegated.Count, $"{file}: {onXnnPack} of {delegated.Count} operators ran on XNNPACK: {string.Join(", ", delegated.Select(t => t.Op).Distinct())}");
    }

    // XNNPACK names its operators "<kind> (<layout>[, <type>]) [...]"; TFLite's builtin ones are CONV_2D, ADD, ...
    private static bool IsXnnPackOperator(string op) => op.Contains(" (N", StringComparison.Ordinal);

    [Fact]
    public void Xnnpack_runs_int8_quantized_operators_within_one_step()
    {
        if (!TestEnvironment.XnnPackOrAbsenceChecked()) return;
        using var model = LiteModel.FromFile(TestEnvironment.Model("add_quantized_int8.bin"));
        using var interpreter = new LiteInterpreter(model, new LiteInterpreterOptions { UseXnnPack = true, ProfileOps = true });
        var input = interpreter.Inputs.Single();
        var output = interpreter.Outputs.Single();
        var values = Enumerable.Range(0, 192).Select(i => (sbyte)(i % 40 - 20)).ToArray();
        var y = interpreter.Run(AccelTensor.Create(values, 1, 8, 8, 3)).Single().ToArray<sbyte>();
        for (var i = 0; i < values.Length; i++)
        {
            var real = 3 * input.Scale * (values[i] - input.ZeroPoint);
            var expected = Math.Clamp(Math.Round(real / output.Scale) + output.ZeroPoint, -128, 127);
            Assert.InRange(y[i], expected - 1, expected + 1);
        }
        Assert.NotEmpty(interpreter.OpTimings);
        Assert.All(interpreter.OpTimings, t => Assert.True(IsXnnPackOperator(t.Op), $"{t.Op} did not run on XNNPACK"));
    }

    /// <summary>
    /// melspectrogram's input length is dynamic and its CONV_2D does not prepare at the declared shape ("BytesRequired
    /// number of elements overflowed"), so the delegate is applied after the first resize; a second length makes TFLite
    /// undo and redo the delegation, and going back to the first length does it again.
    /// </summary>
    [Fact]
    public void Xnnpack_runs_a_model_with_a_dynamic_input_length_at_each_length_it_is_given()
    {
        if (!TestEnvironment.XnnPackOrAbsenceChecked()) return;
        using var model = LiteModel.FromFile(TestEnvironment.Model("melspectrogram.tflite"));
        using var builtin = new LiteInterpreter(model, new LiteInterpreterOptions { Threads = 1, ProfileOps = true });
        using var xnnpack = new LiteInterpreter(model, new LiteInterpreterOptions { Threads = 1, ProfileOps = true, UseXnnPack = true });
        var random = new Random(5);
        var outputSizes = new List<long>();
        foreach (var samples in new[] { 1280 * 4, 16000, 1280 * 4 })
        {
            var audio = AccelTensor.Create(Enumerable.Range(0, samples).Select(_ => (float)(random.NextDouble() * 2000 - 1000)).ToArray(), 1, samples);
            xnnpack.ResetOpTimings();
            var expected = builtin.Run(audio).Single();
            var actual = xnnpack.Run(audio).Single();
            TestData.AssertClose(expected, actual, 1e-4, 1e-6, $"melspectrogram, {samples} samples");
            outputSizes.Add(actual.ShapeArray.Aggregate(1L, (a, b) => a * b));
            var ops = xnnpack.OpTimings;
            Assert.True(ops.Any(t => IsXnnPackOperator(t.Op)), $"{samples} samples: no operator ran on XNNPACK: {string.Join(", ", ops.Select(t => t.Op).Distinct())}");
            Assert.DoesNotContain(builtin.OpTimings, t => IsXnnPackOperator(t.Op));
        }
        Assert.NotEqual(outputSizes[0], outputSizes[1]);
        Assert.Equal(outputSizes[0], outputSizes[2]);
    }

    [Fact]
    public void Autotuner_measures_the_xnnpack_variant_of_a_model_with_a_dynamic_input_length()
    {
        if (!TestEnvironment.XnnPackOrAbsenceChecked()) return;
        var path = TestEnvironment.Model("melspectrogram.tflite");
        var model = Model.Load(path);
        var input = model.Graph.RequiredInputs.Single();
        var random = new Random(9);
        var audio = AccelTensor.Create(Enumerable.Range(0, 16000).Select(_ => (float)(random.NextDouble() * 2000 - 1000)).ToArray(), 1, 16000);
        var result = Autotuner.Tune(model, new AutotuneOptions
        {
            Candidates = new[] { "tflite-cpu" },
            SampleInputs = new Dictionary<string, AccelTensor> { [input.Name] = audio },
            NoCache = true,
            PlanRuns = 3,
            NodeTiming = new TimingRules { MinRuns = 3, MaxRuns = 5, BudgetPerCandidate = TimeSpan.FromMilliseconds(10) },
        });
        using var session = result.Session!;
        var xnnpackPlan = result.SingleBackend.Single(p => p.Label == "tflite-cpu [xnnpack]");
        Assert.Null(xnnpackPlan.Error);
        Assert.True(xnnpackPlan.MeasuredMs > 0);
        Assert.Null(result.SingleBackend.Single(p => p.Label == "tflite-cpu").Error);
    }

    /// <summary>
    /// A RESHAPE whose target shape is a graph input has an output whose size is known only when it runs (a
    /// dynamic-sized tensor at any input shape): XNNPACK, which takes static shapes only, cannot be applied, and the
    /// interpreter refuses with the reason instead of running on the builtin kernels.
    /// </summary>
    [Fact]
    public void A_graph_with_a_data_dependent_shape_refuses_xnnpack_with_the_reason()
    {
        if (!TestEnvironment.XnnPackOrAbsenceChecked()) return;
        var b = new TfLiteModelBuilder();
        var x = b.Activation("x", new[] { 2, 3 });
        var shape = b.Activation("target_shape", new[] { 1 }, TfLiteModelBuilder.TensorKind.Int32);
        var y = b.Activation("y", new[] { 6 });
        b.Op(TfLiteBuiltinOperator.kTfLiteBuiltinReshape, new[] { x, shape }, new[] { y });
        b.Inputs(x, shape);
        b.Outputs(y);
        using var model = LiteModel.FromBytes(b.Build(), "reshape-to-input-shape.tflite");
        var e = Assert.Throws<BackendException>(() => new LiteInterpreter(model, new LiteInterpreterOptions { UseXnnPack = true }));
        Assert.Contains("reshape-to-input-shape.tflite", e.Message);
        Assert.Contains("kTfLiteApplicationError", e.Message);
        Assert.Contains("dynamic-sized tensors", e.Message);
        using var builtin = new LiteInterpreter(model);
        var reshaped = builtin.Run(AccelTensor.Create(new float[] { 1, 2, 3, 4, 5, 6 }, 2, 3), AccelTensor.Create(new[] { 6 }, 1)).Single();
        Assert.Equal(new long[] { 6 }, reshaped.ShapeArray);
    }

    [Fact]
    public void Xnnpack_thread_pool_follows_the_thread_count()
    {
        if (!TestEnvironment.XnnPackOrAbsenceChecked()) return;
        using var model = LiteModel.FromFile(TestEnvironment.Model("add.bin"));
        using var one = new LiteInterpreter(model, new LiteInterpreterOptions { Threads = 1, UseXnnPack = true });
        using var three = new LiteInterpreter(model, new LiteInterpreterOptions { Threads = 3, UseXnnPack = true });
        using var plain = new LiteInterpreter(model, new LiteInterpreterOptions { Threads = 3 });
        Assert.False(one.XnnPackThreadPoolExists);
        Assert.True(three.XnnPackThreadPoolExists);
        Assert.Null(plain.XnnPackFlags);
        // Signed and unsigned 8-bit quantized operators are on (TFLITE_XNNPACK_DELEGATE_FLAG_QS8 | _QU8).
        Assert.Equal(0x3, three.XnnPackFlags! & 0x3);
    }

    [Fact]
    public void Backend_offers_builtin_and_xnnpack_variants_and_the_autotuner_measures_both()
    {
        var (backend, device) = AccelRuntime.Default.Resolve("tflite-cpu");
        var variants = backend.CompileVariants(device);
        if (!TestEnvironment.XnnPackOrAbsenceChecked())
        {
            Assert.Empty(variants);
            return;
        }
        Assert.Equal(new[] { "builtin", "xnnpack" }, variants.Select(v => v.Name));
        Assert.Equal("available", device.Properties["xnnpack"]);
        var model = Model.Load(TestEnvironment.Model("face_detection_short_range.tflite"));
        var result = Autotuner.Tune(model, new AutotuneOptions
        {
            Candidates = new[] { "tflite-cpu" },
            NoCache = true,
            PlanRuns = 3,
            NodeTiming = new TimingRules { MinRuns = 3, MaxRuns = 5, BudgetPerCandidate = TimeSpan.FromMilliseconds(10) },
        });
        using var session = result.Session!;
        var builtinPlan = result.SingleBackend.Single(p => p.Label == "tflite-cpu");
        var xnnpackPlan = result.SingleBackend.Single(p => p.Label == "tflite-cpu [xnnpack]");
        Assert.Null(builtinPlan.Error);
        Assert.Null(xnnpackPlan.Error);
        Assert.True(builtinPlan.MeasuredMs > 0);
        Assert.True(xnnpackPlan.MeasuredMs > 0);
        Assert.Equal("builtin", builtinPlan.Variant?.Name);
        Assert.Equal("xnnpack", xnnpackPlan.Variant?.Name);
    }

    [Fact]
    public void A_compile_setting_that_is_not_true_or_false_is_refused_with_its_name()
    {
        var (backend, device) = AccelRuntime.Default.Resolve("tflite-cpu");
        var model = Model.Load(TestEnvironment.Model("add.bin"));
        var options = new CompileOptions { Settings = new Dictionary<string, string> { [TfLiteBackend.XnnPackSetting] = "yes" } };
        var e = Assert.Throws<BackendException>(() => backend.Compile(device, model, options));
        Assert.Contains("tflite.xnnpack='yes'", e.Message);
    }

    [Fact]
    public void Xnnpack_request_on_a_library_without_it_is_refused_clearly()
    {
        using var model = LiteModel.FromFile(TestEnvironment.Model("add.bin"));
        if (TestEnvironment.XnnPackOrAbsenceChecked())
        {
            using var interpreter = new LiteInterpreter(model, new LiteInterpreterOptions { UseXnnPack = true });
            Assert.NotNull(interpreter.XnnPackFlags);
            return;
        }
        var e = Assert.Throws<BackendException>(() => new LiteInterpreter(model, new LiteInterpreterOptions { UseXnnPack = true }));
        Assert.Contains("has no XNNPACK delegate", e.Message);
    }
}
