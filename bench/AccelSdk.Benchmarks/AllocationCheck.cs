using System.Globalization;
using AccelSdk.Backends;
using AccelSdk.Execution;
using AccelSdk.Ir;
using AccelSdk.TestSupport;

namespace AccelSdk.Benchmarks;

/// <summary>
/// Managed bytes allocated per call in steady state, past tiered compilation: each pair of
/// <see cref="OverheadBenchmarks"/> is warmed up for 2 s, then run; bytes are counted on the calling thread
/// (<see cref="GC.GetAllocatedBytesForCurrentThread"/>) and in the whole process (<see cref="GC.GetTotalAllocatedBytes"/>,
/// which also sees the runtime's background threads: tiered JIT, timers).
/// Run: <c>dotnet run -c Release --project bench/AccelSdk.Benchmarks -- alloc-check</c>.
/// </summary>
internal static class AllocationCheck
{
    public static int Run()
    {
        Console.WriteLine("model      method                      calls  thread_B/call  process_B/call");
        foreach (var model in new[] { "tiny-relu", "resnet18" })
        {
            var bench = new OverheadBenchmarks { ModelName = model };
            bench.Setup();
            var calls = model == "resnet18" ? 30 : 20000;
            foreach (var (name, run) in new (string, Func<float>)[]
            {
                (nameof(bench.PlainOnnxRuntime), bench.PlainOnnxRuntime),
                (nameof(bench.AccelSdkSession), bench.AccelSdkSession),
                (nameof(bench.PlainOnnxRuntimeIoBinding), bench.PlainOnnxRuntimeIoBinding),
                (nameof(bench.AccelSdkIntoBuffers), bench.AccelSdkIntoBuffers),
            })
            {
                var warm = System.Diagnostics.Stopwatch.StartNew();
                while (warm.Elapsed < TimeSpan.FromSeconds(2)) run();
                var thread = GC.GetAllocatedBytesForCurrentThread();
                var process = GC.GetTotalAllocatedBytes(precise: true);
                for (var i = 0; i < calls; i++) run();
                var threadPerCall = (GC.GetAllocatedBytesForCurrentThread() - thread) / (double)calls;
                var processPerCall = (GC.GetTotalAllocatedBytes(precise: true) - process) / (double)calls;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{model,-10} {name,-27} {calls,6} {threadPerCall,14:F1} {processPerCall,15:F1}"));
            }
            bench.Cleanup();
        }
        ReusedPartitionOutputs();
        return 0;
    }

    /// <summary>
    /// Issue 11: ResNet18 compiled as one ONNX Runtime partition whose output goes to another partition (the session
    /// passes it as reusable and disposes it when the run ends): the output is bound to a tensor allocated once.
    /// </summary>
    private static void ReusedPartitionOutputs()
    {
        var model = Model.Load(RepoPaths.ResNet18);
        var (backend, device) = AccelRuntime.Default.Resolve("ort-cpu");
        using var partition = backend.Compile(device, model, new CompileOptions { Settings = new Dictionary<string, string> { ["session.intra_op.allow_spinning"] = "0" } });
        var input = SampleInputs.Random(model).Values.Single();
        DeviceTensor[] inputs = [new HostTensor(input)];
        var options = new PartitionRunOptions(null, default) { ReusableOutputs = [true] };
        nint firstAddress = 0;
        var sameBuffer = true;
        float Run()
        {
            var results = partition.Run(inputs, options);
            var output = ((HostTensor)results[0]).Value;
            if (firstAddress == 0) firstAddress = output.DataPointer;
            sameBuffer &= output.DataPointer == firstAddress;
            var first = output.AsSpan<float>()[0];
            results[0].Dispose();
            return first;
        }
        var warm = System.Diagnostics.Stopwatch.StartNew();
        while (warm.Elapsed < TimeSpan.FromSeconds(2)) Run();
        const int calls = 30;
        var thread = GC.GetAllocatedBytesForCurrentThread();
        var process = GC.GetTotalAllocatedBytes(precise: true);
        for (var i = 0; i < calls; i++) Run();
        var threadPerCall = (GC.GetAllocatedBytesForCurrentThread() - thread) / (double)calls;
        var processPerCall = (GC.GetTotalAllocatedBytes(precise: true) - process) / (double)calls;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{"resnet18",-10} {"OrtPartitionReusedOutput",-27} {calls,6} {threadPerCall,14:F1} {processPerCall,15:F1}  (same output buffer every run: {(sameBuffer ? "yes" : "NO")})"));
    }
}
