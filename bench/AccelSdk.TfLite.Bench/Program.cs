using System.Diagnostics;
using AccelSdk.Backends;
using AccelSdk.Execution;
using AccelSdk.Ir;
using AccelSdk.OnnxRuntime;
using AccelSdk.TfLite;
using AccelSdk.TfLite.Import;
using AccelSdk.TfLite.Native;

// Per-model latency of the TFLite runtime against the same .tflite imported into the IR and run on ONNX Runtime,
// measured in one process, one model after the other, with the same inputs and thread count.
// Run under the patched host: .tflite-runtime/dotnet bench/AccelSdk.TfLite.Bench/bin/Release/net10.0/AccelSdk.TfLite.Bench.dll [runs] [threads]
var runs = args.Length > 0 ? int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 30;
var threads = args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 2;
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
};
using var ort = new OrtBackend();
using var tflite = new TfLiteBackend();
Console.WriteLine($"TFLite {tflite.Version} vs ONNX Runtime {ort.Version}; {threads} threads each; median of {runs} runs after 5 warm-up runs; ms");
Console.WriteLine($"{"model",-36} {"tflite",9} {"ort(imported)",14} {"ratio",7}");
foreach (var file in models)
{
    var path = AccelSdk.TestSupport.RepoPaths.Model(Path.Combine("tflite", file));
    using var liteModel = LiteModel.FromFile(path);
    using var interpreter = new LiteInterpreter(liteModel, new LiteInterpreterOptions { Threads = threads });
    var random = new Random(1);
    Tensor[] inputs = file == "melspectrogram.tflite"
        ? new[] { Tensor.Create(Enumerable.Range(0, 16000).Select(_ => (float)(random.NextDouble() * 2000 - 1000)).ToArray(), 1, 16000) }
        : interpreter.Inputs.Select(info => Random(info, random)).ToArray();
    var lite = Median(runs, () => interpreter.Run(inputs));
    using var session = new AccelSession(GraphPartitioner.WholeModel(TfLiteImporter.Load(path), ort, ort.CpuDevice), new CompileOptions { IntraOpThreads = threads });
    var onOrt = Median(runs, () => session.Run(inputs));
    Console.WriteLine($"{file,-36} {lite,9:F3} {onOrt,14:F3} {onOrt / lite,7:F2}");
}
return 0;

static Tensor Random(LiteTensorInfo info, Random random)
{
    var shape = info.Shape.Select(d => (long)d).ToArray();
    var n = (int)Tensor.CountElements(shape);
    return info.ElementType switch
    {
        ElementType.Float32 => Tensor.Create(Enumerable.Range(0, n).Select(_ => (float)random.NextDouble()).ToArray(), shape),
        ElementType.UInt8 => Tensor.Create(Enumerable.Range(0, n).Select(_ => (byte)random.Next(256)).ToArray(), shape),
        ElementType.Int8 => Tensor.Create(Enumerable.Range(0, n).Select(_ => (sbyte)random.Next(-128, 128)).ToArray(), shape),
        _ => throw new NotSupportedException(info.ToString()),
    };
}

static double Median(int runs, Action run)
{
    for (var i = 0; i < 5; i++) run();
    var times = new double[runs];
    for (var i = 0; i < runs; i++)
    {
        var watch = Stopwatch.StartNew();
        run();
        times[i] = watch.Elapsed.TotalMilliseconds;
    }
    Array.Sort(times);
    return times[runs / 2];
}
