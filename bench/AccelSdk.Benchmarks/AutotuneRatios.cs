using System.Diagnostics;
using System.Globalization;
using AccelSdk.Autotune;
using AccelSdk.Autotune.Reporting;
using AccelSdk.Execution;
using AccelSdk.Ir;
using AccelSdk.TestSupport;
using BenchmarkDotNet.Attributes;

namespace AccelSdk.Benchmarks;

/// <summary>
/// Bench runner (<c>-- autotune-ratios [REPORT_ROOT]</c>): autotunes each model of issue 4 with a fresh cache and prints
/// the kept plan against every single backend as ratios (medians of interleaved runs), the tuning time and the cached
/// re-selection time, and writes each report under REPORT_ROOT.
/// </summary>
public static class AutotuneRatios
{
    /// <summary>Models and the sample inputs with their real shapes (symbolic dimensions resolved as the apps use them).</summary>
    public static IReadOnlyList<(string Name, string Path, Func<Model, Dictionary<string, AccelTensor>> Inputs)> Models { get; } = new (string, string, Func<Model, Dictionary<string, AccelTensor>>)[]
    {
        ("resnet18", "resnet18/ResNet18.onnx", m => SampleInputs.Random(m)),
        ("blazeface", "blazeface/face_detection_front_128x128_barracuda.onnx", m => SampleInputs.Random(m)),
        ("silero_vad", "silero/silero_vad_op18_ifless.onnx", m => Silero(m)),
        ("oww_melspectrogram", "openwakeword/melspectrogram.onnx", m => Audio(m, 1760)),
        ("oww_embedding", "openwakeword/embedding_model.onnx", m => SampleInputs.Random(m)),
        ("oww_hey_jarvis", "openwakeword/hey_jarvis_v0.1.onnx", m => SampleInputs.Random(m)),
    };

    public static int Run(string[] args)
    {
        var reportRoot = args.Length > 1 ? args[1] : Path.Combine(RepoPaths.Root, "artifacts", "autotune");
        var inv = CultureInfo.InvariantCulture;
        Console.WriteLine($"{"model",-20} {"kept plan",-28} {"plan ms",9} {"single backend",-14} {"single ms",10} {"ratio",7} {"tune s",7} {"cached select ms",17} {"max rel diff",12}");
        foreach (var (name, relative, makeInputs) in Models)
        {
            var model = Model.Load(RepoPaths.Model(relative));
            var cache = Path.Combine(Path.GetTempPath(), "accelsdk-bench-cache-" + Guid.NewGuid().ToString("N"));
            var options = new AutotuneOptions { CacheDirectory = cache, SampleInputs = makeInputs(model) };
            var result = Autotuner.Tune(model, options);
            result.Session?.Dispose();
            AutotuneReport.Write(result, Path.Combine(reportRoot, name));
            // Cached re-selection, 5 times: medians of the whole call and of its backend compile part.
            var totals = new List<double>();
            var compiles = new List<double>();
            for (var i = 0; i < 5; i++)
            {
                var watch = Stopwatch.StartNew();
                var cached = Autotuner.Tune(model, options);
                totals.Add(watch.Elapsed.TotalMilliseconds);
                compiles.Add(cached.Session?.CompileTime.TotalMilliseconds ?? 0);
                cached.Session?.Dispose();
            }
            var cachedMs = totals.Order().ElementAt(2);
            var compileMs = compiles.Order().ElementAt(2);
            var kept = result.Chosen;
            var label = kept is null ? "none" : kept.Backend is null ? "autotuned " + string.Join("+", kept.Devices) : kept.Label;
            foreach (var single in result.SingleBackend)
            {
                var ratio = single.MeasuredMs is { } s && kept?.MeasuredMs is { } k && !single.Abandoned ? (s / k).ToString("F2", inv) + "x" : single.Error is not null ? "n/a" : "hopeless";
                Console.WriteLine($"{name,-20} {label,-28} {kept?.MeasuredMs ?? 0,9:F3} {single.Label,-14} {(single.Abandoned ? "-" : single.MeasuredMs?.ToString("F3", inv) ?? "-"),10} {ratio,7} {result.TuningSeconds,7:F1} {cachedMs,8:F1} ({compileMs:F0} compile) {result.MaxRelativeDifference?.ToString("G3", inv) ?? "same",12}");
            }
        }
        return 0;
    }

    /// <summary>[batch, samples] audio with batch 1.</summary>
    private static Dictionary<string, AccelTensor> Audio(Model model, int samples)
    {
        var input = model.Graph.RequiredInputs.Single();
        var random = new Random(2);
        var data = Enumerable.Range(0, samples).Select(_ => (float)(random.NextDouble() * 2000 - 1000)).ToArray();
        return new Dictionary<string, AccelTensor>(StringComparer.Ordinal) { [input.Name] = AccelTensor.Create(data, 1, samples).WithName(input.Name) };
    }

    private static Dictionary<string, AccelTensor> Silero(Model model)
    {
        var inputs = new Dictionary<string, AccelTensor>(StringComparer.Ordinal);
        foreach (var input in model.Graph.RequiredInputs)
        {
            var type = input.TensorType!;
            if (type.ElementType == ElementType.Int64)
            {
                inputs[input.Name] = AccelTensor.Create(new long[] { 16000 }, type.Shape!.Dims.Select(_ => 1L).ToArray()).WithName(input.Name);
                continue;
            }
            // [batch, samples] audio: one 512-sample window at 16 kHz; the recurrent state starts at zero.
            var shape = type.Shape!.Dims.Select(d => d.Value ?? 1).ToArray();
            if (shape.Length == 2 && type.Shape.Dims[1].Value is null) shape[1] = 512;
            var t = AccelTensor.Zeros(type.ElementType, shape, input.Name);
            if (shape.Length == 2)
            {
                var span = t.AsSpan<float>();
                var random = new Random(1);
                for (var i = 0; i < span.Length; i++) span[i] = (float)(random.NextDouble() * 0.2 - 0.1);
            }
            inputs[input.Name] = t;
        }
        return inputs;
    }
}

/// <summary>Cached re-selection through <see cref="Accel.Select(Model, SelectOptions?)"/> with autotuning on ResNet18 and BlazeFace.</summary>
public class CachedSelectBenchmarks
{
    private Model _model = null!;

    /// <summary>Model.</summary>
    [Params("resnet18/ResNet18.onnx", "blazeface/face_detection_front_128x128_barracuda.onnx")]
    public string ModelPath { get; set; } = "";

    [GlobalSetup]
    public void Setup()
    {
        Environment.SetEnvironmentVariable("ACCELSDK_CACHE_DIR", Path.Combine(Path.GetTempPath(), "accelsdk-bench-select-cache"));
        _model = Model.Load(RepoPaths.Model(ModelPath));
        Accel.Select(_model, new SelectOptions { Autotune = true }).Dispose();
    }

    [Benchmark]
    public void SelectFromCache() => Accel.Select(_model, new SelectOptions { Autotune = true }).Dispose();
}
