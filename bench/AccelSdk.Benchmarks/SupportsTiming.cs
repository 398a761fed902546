using System.Diagnostics;
using System.Globalization;
using AccelSdk.Backends;
using AccelSdk.Ir;
using AccelSdk.OnnxRuntime;
using AccelSdk.TestSupport;

namespace AccelSdk.Benchmarks;

/// <summary>
/// How long the ONNX Runtime backend's exact <c>Supports</c> takes over every node of a model on ort-cpu: the first pass
/// (one-node sessions built per signature) and a second pass (answered from the cache), each in a fresh backend, a few
/// rounds. Run: <c>dotnet run -c Release --project bench/AccelSdk.Benchmarks -- supports-timing [MODEL.onnx] [rounds]</c>.
/// </summary>
internal static class SupportsTiming
{
    public static int Run(string[] args)
    {
        var path = args.Length > 1 ? args[1] : RepoPaths.ResNet18;
        var rounds = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 5;
        var model = Model.Load(path);
        var context = new NodeContext(model, ShapeInference.Infer(model));
        Console.WriteLine($"{model.Label}: {model.Graph.Nodes.Count} nodes, ort-cpu");
        Console.WriteLine("round  first_ms  cached_ms  refused");
        for (var round = 0; round < rounds; round++)
        {
            using var backend = new OrtBackend();
            var watch = Stopwatch.StartNew();
            var refused = model.Graph.Nodes.Count(n => !backend.Supports(backend.CpuDevice, n, context).IsSupported);
            var first = watch.Elapsed.TotalMilliseconds;
            watch.Restart();
            foreach (var node in model.Graph.Nodes) backend.Supports(backend.CpuDevice, node, context);
            var cached = watch.Elapsed.TotalMilliseconds;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{round,5} {first,9:F1} {cached,10:F2} {refused,8}"));
        }
        return 0;
    }
}
