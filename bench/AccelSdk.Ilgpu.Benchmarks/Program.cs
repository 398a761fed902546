using System.Diagnostics;
using System.Globalization;
using AccelSdk.Ilgpu;
using AccelSdk.Ilgpu.Benchmarks;
using BenchmarkDotNet.Running;

// Two modes:
//   --gflops [--sizes 256,512,1024] [--convs] [--ort-cuda] [--devices ID,...] [--runs N]
//       a quick side-by-side table (median of N timed runs after warm-up) for scripts and the GPU check;
//   anything else goes to BenchmarkDotNet (e.g. --filter '*MatMul*').
if (!args.Contains("--gflops"))
{
    BenchmarkSwitcher.FromAssembly(typeof(MatMulBenchmarks).Assembly).Run(args);
    return 0;
}

string? Option(string name) => Array.IndexOf(args, name) is var i and >= 0 && i + 1 < args.Length ? args[i + 1] : null;
var sizes = (Option("--sizes") ?? "256,512,1024").Split(',').Select(int.Parse).ToArray();
var runs = int.Parse(Option("--runs") ?? "7", CultureInfo.InvariantCulture);
var ortCuda = args.Contains("--ort-cuda");
var threads = Environment.ProcessorCount;

using var backend = new IlgpuBackend();
var wanted = Option("--devices")?.Split(',');
var devices = backend.Devices.Where(d => d.IsAvailable && (wanted is null || wanted.Contains(d.Id))).ToArray();
foreach (var d in backend.Devices.Where(d => !d.IsAvailable)) Console.WriteLine($"# {d.Id} unavailable: {d.UnavailableReason}");

var workloads = sizes.Select(Workload.MatMul).ToList();
if (args.Contains("--convs")) workloads.AddRange(Workload.ResNet18Convs());

Console.WriteLine($"# {threads} CPU threads; ORT intra-op threads {threads}; median of {runs} runs after 2 warm-up runs");
Console.WriteLine("workload,device,setup_ms,median_ms,gflops,percent_of_ort");
foreach (var w in workloads)
{
    var ortGflops = new Dictionary<string, double>();
    var rows = new List<(string Device, double Setup, double Median, double Gflops)>();
    var runners = new List<Func<IRunner>> { () => new OrtRunner(w, false, threads) };
    if (ortCuda) runners.Add(() => new OrtRunner(w, true, threads));
    runners.AddRange(devices.Select(d => (Func<IRunner>)(() => new IlgpuRunner(backend, d, w))));
    foreach (var create in runners)
    {
        try
        {
            using var runner = create();
            var median = Measure(runner, runs);
            var gflops = w.Flops / median / 1e6;
            rows.Add((runner.Label, runner.SetupTime.TotalMilliseconds, median, gflops));
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Console.WriteLine($"# {w.Name}: a runner failed: {e.GetType().Name}: {e.Message.ReplaceLineEndings(" ")}");
        }
    }
    var ortCpu = rows.FirstOrDefault(r => r.Device == "ort-cpu").Gflops;
    var ortGpu = rows.FirstOrDefault(r => r.Device == "ort-cuda:0").Gflops;
    foreach (var r in rows)
    {
        var reference = r.Device.StartsWith("ilgpu-cuda", StringComparison.Ordinal) && ortGpu > 0 ? ortGpu : ortCpu;
        var percent = r.Device.StartsWith("ort", StringComparison.Ordinal) || reference == 0 ? "" : (100 * r.Gflops / reference).ToString("F1", CultureInfo.InvariantCulture);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{w.Name},{r.Device},{r.Setup:F0},{r.Median:F3},{r.Gflops:F2},{percent}"));
    }
}
return 0;

static double Measure(IRunner runner, int runs)
{
    runner.RunOnce();
    runner.RunOnce();
    var times = new double[runs];
    for (var i = 0; i < runs; i++)
    {
        var start = Stopwatch.GetTimestamp();
        runner.RunOnce();
        times[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
    }
    Array.Sort(times);
    return times[runs / 2];
}
