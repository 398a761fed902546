using AccelSdk.Autotune;
using AccelSdk.Autotune.Precision;
using AccelSdk.Autotune.Reporting;
using AccelSdk.Ir;
using AccelSdk.Optimize.MixedPrecision;
using AccelSdk.Optimize.Reports;
using AccelSdk.TestSupport;
using Xunit.Abstractions;

namespace AccelSdk.Optimize.Tests;

/// <summary>
/// Mixed precision as an autotuner candidate, on real models with real photos: the int8/float32 model the search finds
/// is tuned next to float32, the kept plan stays within the budget on the calibration photos, and a second tuning takes
/// the plan (and the lower-precision model, by its hash) from the cache without searching.
/// </summary>
public sealed class MixedPrecisionAutotuneTests(ITestOutputHelper log) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("accelsdk-mixed-autotune-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>The real search, counting how often the autotuner asks it (a cached plan must not).</summary>
    private sealed class CountingSearch(IPrecisionSearch inner) : IPrecisionSearch
    {
        public int Searches { get; private set; }

        public PrecisionCandidate? Search(Model model, IReadOnlyList<IReadOnlyDictionary<string, AccelTensor>> calibration, AccuracyBudget budget,
            AccelRuntime runtime, DeviceTarget device, CancellationToken cancellationToken, out string why)
        {
            Searches++;
            return inner.Search(model, calibration, budget, runtime, device, cancellationToken, out why);
        }

        public byte[] Save(Model model) => inner.Save(model);

        public Model Load(byte[] bytes, string label) => inner.Load(bytes, label);
    }

    private AutotuneOptions Options(Model model, IReadOnlyList<IReadOnlyDictionary<string, AccelTensor>> calibration, double maxCosineDrop, IPrecisionSearch search,
        params string[] devices) => new()
    {
        CacheDirectory = Path.Combine(_dir, "cache"),
        Candidates = devices,
        NodeTiming = new TimingRules { MinRuns = 3, MaxRuns = 10, BudgetPerCandidate = TimeSpan.FromMilliseconds(30) },
        PlanRuns = 7,
        SampleInputs = calibration[0],
        AccuracyBudget = new AccuracyBudget { MaxCosineDrop = maxCosineDrop },
        PrecisionSearch = search,
        CalibrationInputs = calibration,
    };

    [Fact]
    public void BlazeFace_under_a_cosine_budget_keeps_the_faster_plan_within_it_and_reuses_it_from_the_cache()
    {
        // 30 s-2.5 min on the loaded 2-core machine (load 20-44): the search (a few quantizations of a 110-node model),
        // two tunings on ort-cpu, a cached selection, and a search again once the cached model file is damaged.
        var model = Model.Load(RepoPaths.Model("blazeface/face_detection_front_128x128_barracuda.onnx"));
        var calibration = TestData.Images(model, "calibration").Take(4).ToList();
        var search = new CountingSearch(new MixedPrecisionSearch { MeasuredRuns = 5 });
        var options = Options(model, calibration, 0.05, search, "ort-cpu");

        var first = Autotuner.Tune(AccelRuntime.Default, model, options);
        using (first.Session)
        {
            var precision = Assert.IsType<PrecisionResult>(first.Precision);
            log.WriteLine(ConsoleReport.Summary(first));
            Assert.Equal(1, search.Searches);
            Assert.NotNull(precision.Float32Ms);
            Assert.NotEmpty(precision.Partitions);
            Assert.Equal(first.Plan!.Partitions.Count, precision.Partitions.Count);
            if (precision.LowerPrecisionKept)
            {
                Assert.True(precision.Cosine >= 0.95, precision.Reason);
                Assert.True(precision.LowerPrecisionMs < precision.Float32Ms, precision.Reason);
                Assert.Contains(precision.Partitions, p => p.Int8Layers > 0);
                Assert.Same(precision.Candidate, first.Model);
            }
            AssertWithinBudget(model, first.Session!, calibration, 0.95);

            var (json, html) = AutotuneReport.Write(first, Path.Combine(_dir, "report"));
            var report = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(json))!["precision"]!;
            Assert.Equal(precision.LowerPrecisionKept ? "lower_precision" : "float32", report["kept"]!.GetValue<string>());
            Assert.Equal("cosine>=0.95", report["budget"]!.GetValue<string>());
            Assert.Equal(precision.Partitions.Count, report["partitions"]!.AsArray().Count);
            Assert.Contains("Precision under the accuracy budget (cosine&gt;=0.95)", File.ReadAllText(html), StringComparison.Ordinal);
        }

        var second = Autotuner.Tune(AccelRuntime.Default, model, options);
        using (second.Session)
        {
            Assert.True(second.FromCache);
            Assert.Equal(1, search.Searches);
            Assert.Equal(first.Precision!.LowerPrecisionKept, second.Precision!.LowerPrecisionKept);
            Assert.Equal(ModelDigest.Of(first.Model), ModelDigest.Of(second.Model));
            Assert.Equal(first.Precision.Cosine, second.Precision.Cosine);
            AssertWithinBudget(model, second.Session!, calibration, 0.95);
        }

        if (first.Precision.LowerPrecisionKept)
        {
            // A cached lower-precision model whose bytes changed is not used: the model is searched and tuned afresh.
            var file = Directory.GetFiles(Path.Combine(_dir, "cache"), "precision-*.onnx", SearchOption.AllDirectories).Single();
            var bytes = File.ReadAllBytes(file);
            bytes[^1] ^= 0x5A;
            File.WriteAllBytes(file, bytes);
            var third = Autotuner.Tune(AccelRuntime.Default, model, options);
            using (third.Session)
            {
                Assert.False(third.FromCache);
                Assert.Equal(2, search.Searches);
                Assert.Contains(third.Warnings, w => w.Contains("was modified since it was tuned", StringComparison.Ordinal));
            }
        }
    }

    [Fact]
    public void ResNet18_under_a_cosine_budget_of_0_995_stays_within_it_on_the_calibration_photos_and_reloads_from_the_cache()
    {
        // 45 s-2.5 min on the loaded 2-core machine (load 20-44): the search, tuning the float32 and the int8 ResNet18
        // on ort-cpu, and a cached selection.
        var model = TestData.ResNet18;
        var calibration = TestData.Images(model, "calibration").Take(4).ToList();
        var search = new CountingSearch(new MixedPrecisionSearch { MeasuredRuns = 3 });
        var options = Options(model, calibration, 0.005, search, "ort-cpu");

        var first = Autotuner.Tune(AccelRuntime.Default, model, options);
        using (first.Session)
        {
            log.WriteLine(ConsoleReport.Summary(first));
            // int8 ResNet18 is several times faster on ONNX Runtime's CPU kernels (3.3x measured here under load 20),
            // and all-int8 stays within 0.995 on these photos (0.998): the lower-precision plan is kept.
            var precision = first.Precision!;
            Assert.True(precision.LowerPrecisionKept, precision.Reason);
            Assert.True(precision.Cosine >= 0.995, precision.Reason);
            Assert.Contains(precision.Partitions, p => p.Int8Layers > 0);
            Assert.Equal(model.Graph.Nodes.Count(n => n.OpType == "Conv"), precision.Layers.Count);
            AssertWithinBudget(model, first.Session!, calibration, 0.995);
        }
        var second = Autotuner.Tune(AccelRuntime.Default, model, options);
        using (second.Session)
        {
            Assert.True(second.FromCache);
            Assert.Equal(1, search.Searches);
            Assert.True(second.Precision!.LowerPrecisionKept);
            Assert.Equal(ModelDigest.Of(first.Model), ModelDigest.Of(second.Model));
            AssertWithinBudget(model, second.Session!, calibration, 0.995);
        }
        var file = Directory.GetFiles(Path.Combine(_dir, "cache"), "precision-*.onnx", SearchOption.AllDirectories).Single();
        Assert.Equal(first.Precision!.CandidateSha256, Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(file))));
    }

    [Fact]
    public void A_budget_without_a_search_or_out_of_range_is_refused_before_tuning()
    {
        var model = Model.Load(Path.Combine(RepoPaths.OnnxCase("node", "test_relu"), "model.onnx"));
        var noSearch = Assert.Throws<AccelSdkException>(() => Autotuner.Tune(AccelRuntime.Default, model, new AutotuneOptions { NoCache = true, AccuracyBudget = new AccuracyBudget { MaxCosineDrop = 0.01 } }));
        Assert.Contains("PrecisionSearch is null", noSearch.Message, StringComparison.Ordinal);
        var search = new MixedPrecisionSearch();
        var empty = Assert.Throws<AccelSdkException>(() => Autotuner.Tune(AccelRuntime.Default, model, new AutotuneOptions { NoCache = true, AccuracyBudget = new AccuracyBudget(), PrecisionSearch = search }));
        Assert.Contains("give MaxCosineDrop (--max-cosine-drop) or MinTop1 (--min-top1)", empty.Message, StringComparison.Ordinal);
        var range = Assert.Throws<AccelSdkException>(() => Autotuner.Tune(AccelRuntime.Default, model, new AutotuneOptions { NoCache = true, AccuracyBudget = new AccuracyBudget { MinTop1 = 1.5 }, PrecisionSearch = search }));
        Assert.Contains("MinTop1 (--min-top1) 1.5 is outside [0, 1]", range.Message, StringComparison.Ordinal);
    }

    /// <summary>The session's outputs against the float32 model on ONNX Runtime: mean cosine per output at least <paramref name="minCosine"/>.</summary>
    private void AssertWithinBudget(Model model, Execution.AccelSession session, IReadOnlyList<IReadOnlyDictionary<string, AccelTensor>> samples, double minCosine)
    {
        var (backend, device) = AccelRuntime.Default.Resolve("ort-cpu");
        using var reference = ModelEvaluator.Open(model, backend, device);
        var sums = new double[reference.OutputNames.Count];
        foreach (var sample in samples)
        {
            var expected = reference.Run(sample);
            var actual = session.Run(sample);
            for (var o = 0; o < sums.Length; o++) sums[o] += ModelEvaluator.Cosine(expected[o], actual[o]);
        }
        for (var o = 0; o < sums.Length; o++)
        {
            log.WriteLine($"{reference.OutputNames[o]}: mean cosine {sums[o] / samples.Count:F5} on {samples.Count} calibration photo(s)");
            Assert.True(sums[o] / samples.Count >= minCosine, $"{reference.OutputNames[o]}: mean cosine {sums[o] / samples.Count:F5} < {minCosine}");
        }
    }
}
