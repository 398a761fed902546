using System.Diagnostics;
using AccelSdk.Backends;
using AccelSdk.Execution;
using AccelSdk.Ir;
using AccelSdk.OnnxRuntime;
using AccelSdk.TfLite;
using AccelSdk.TfLite.Import;
using AccelSdk.TfLite.Native;

// Per-model latency of the TFLite runtime with the XNNPACK delegate, the same .tflite imported into the IR and run on
// ONNX Runtime, and the TFLite runtime with its builtin kernels (no delegate), measured in one process with the same
// inputs and thread count, the three interleaved run by run (XNNPACK, ORT, builtin, XNNPACK, ...) so that load on the
// machine falls on all alike; ORT's pool threads are told not to spin after a run (SharesCoresWithOtherPartitions), or
// they would hold the cores TFLite's workers need in the next run; BENCH_SPIN=1 keeps ORT's default spinning to show
// that effect. Streaming models (resource variables) run frame after frame: TFLite keeps the state in its interpreter,
// ORT through StatefulSession. A TFLite library without XNNPACK (Debian's own build) leaves that column out.
// dotnet bench/AccelSdk.TfLite.Bench/bin/Release/net10.0/AccelSdk.TfLite.Bench.dll [runs] [threads] [model-substring]
// (the ordinary host loads the library scripts/build-tflite.sh built; the patched .tflite-runtime/dotnet loads forky's)
var runs = args.Length > 0 ? int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 30;
var threads = args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 2;
var only = args.Length > 2 ? args[2] : "";
if (!TfLiteLibrary.IsAvailable)
{
    Console.Error.WriteLine("TFLite runtime not loaded: " + TfLiteLibrary.Failure);
    return 1;
}
var models = new[]
{
    "face_detection_short_range.tflite", "face_detection_full_range.tflite", "hand_landmark_lite.tflite", "hand_landmark_full.tflite",
    "pose_landmark_lite.tflite", "pose_landmark_full.tflite", "embedding_model.tflite", "melspectrogram.tflite",
    "hey_mycroft_v0.1.tflite", "timer_v0.1.tflite", "mobilenet_like_model.bin", "fc_qat.bin",
    "face_detection_full_range_sparse.tflite", "hey_jarvis_v0.1.tflite", "selfie_segmentation.tflite", "micro_hey_jarvis.tflite",
    "micro_okay_nabu.tflite",
};
using var ort = new OrtBackend();
using var tflite = new TfLiteBackend();
var xnnpack = TfLiteLibrary.HasXnnPack;
Console.WriteLine($"TFLite {tflite.Version} ({TfLiteLibrary.LoadedFrom}, XNNPACK {(xnnpack ? "built in" : "absent")}) vs ONNX Runtime {ort.Version}; {threads} threads each; median of {runs} interleaved runs after 5 warm-up runs; ms");
Console.WriteLine($"load average before: {File.ReadAllText("/proc/loadavg").Trim()}");
Console.WriteLine($"{"model",-42} {"tflite+xnnpack",15} {"ort(imported)",14} {"tflite",9} {"ort/xnn",8} {"tflite/xnn",11}");
foreach (var file in models.Where(m => m.Contains(only, StringComparison.Ordinal)))
{
    var path = AccelSdk.TestSupport.RepoPaths.Model(Path.Combine("tflite", file));
    using var liteModel = LiteModel.FromFile(path);
    using var interpreter = new LiteInterpreter(liteModel, new LiteInterpreterOptions { Threads = threads, MediaPipeCustomOps = true });
    using var delegated = xnnpack ? TryXnnPack(liteModel, threads, file) : null;
    var random = new Random(1);
    AccelTensor[] inputs = file == "melspectrogram.tflite"
        ? new[] { AccelTensor.Create(Enumerable.Range(0, 16000).Select(_ => (float)(random.NextDouble() * 2000 - 1000)).ToArray(), 1, 16000) }
        : interpreter.Inputs.Select(info => Random(info, random)).ToArray();
    var imported = TfLiteImporter.Load(path);
    var session = new AccelSession(GraphPartitioner.WholeModel(imported, ort, ort.CpuDevice), new CompileOptions { IntraOpThreads = threads, SharesCoresWithOtherPartitions = Environment.GetEnvironmentVariable("BENCH_SPIN") != "1" });
    using var stateful = TfLiteImporter.StateVariables(imported).Count > 0 ? new StatefulSession(session) : null;
    using var stateless = stateful is null ? session : null;
    Action onOrt = stateful is not null ? () => stateful.Run(inputs) : () => session.Run(inputs);
    var contenders = new List<Action>();
    if (delegated is not null) contenders.Add(() => delegated.Run(inputs));
    contenders.Add(onOrt);
    contenders.Add(() => interpreter.Run(inputs));
    var medians = Interleaved(runs, contenders);
    var (xnn, orts, lite) = delegated is not null ? (medians[0], medians[1], medians[2]) : (double.NaN, medians[0], medians[1]);
    Console.WriteLine($"{file,-42} {xnn,15:F3} {orts,14:F3} {lite,9:F3} {orts / xnn,8:F2} {lite / xnn,11:F2}");
}
Console.WriteLine($"load average after: {File.ReadAllText("/proc/loadavg").Trim()}");
return 0;

// A model XNNPACK cannot take (the delegate's failure is a BackendException) runs without the XNNPACK column. A model
// with a dynamic input length (melspectrogram) gets the delegate at its first run's shape.
static LiteInterpreter? TryXnnPack(LiteModel model, int threads, string file)
{
    try
    {
        return new LiteInterpreter(model, new LiteInterpreterOptions { Threads = threads, MediaPipeCustomOps = true, UseXnnPack = true });
    }
    catch (AccelSdk.BackendException e)
    {
        Console.WriteLine($"{file}: no XNNPACK run: {e.Message}");
        return null;
    }
}

static AccelTensor Random(LiteTensorInfo info, Random random)
{
    var shape = info.Shape.Select(d => (long)d).ToArray();
    var n = (int)AccelTensor.CountElements(shape);
    return info.ElementType switch
    {
        ElementType.Float32 => AccelTensor.Create(Enumerable.Range(0, n).Select(_ => (float)random.NextDouble()).ToArray(), shape),
        ElementType.UInt8 => AccelTensor.Create(Enumerable.Range(0, n).Select(_ => (byte)random.Next(256)).ToArray(), shape),
        ElementType.Int8 => AccelTensor.Create(Enumerable.Range(0, n).Select(_ => (sbyte)random.Next(-128, 128)).ToArray(), shape),
        _ => throw new NotSupportedException(info.ToString()),
    };
}

static double[] Interleaved(int runs, IReadOnlyList<Action> contenders)
{
    for (var i = 0; i < 5; i++)
    {
        foreach (var run in contenders) run();
    }
    var times = contenders.Select(_ => new double[runs]).ToArray();
    var watch = new Stopwatch();
    for (var i = 0; i < runs; i++)
    {
        for (var c = 0; c < contenders.Count; c++)
        {
            watch.Restart();
            contenders[c]();
            times[c][i] = watch.Elapsed.TotalMilliseconds;
        }
    }
    return times.Select(t =>
    {
        Array.Sort(t);
        return t[runs / 2];
    }).ToArray();
}
