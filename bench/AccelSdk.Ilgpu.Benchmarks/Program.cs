using System.Diagnostics;
using System.Globalization;
using AccelSdk.Ilgpu;
using AccelSdk.Ilgpu.Benchmarks;
using BenchmarkDotNet.Running;

// Two modes:
//   --gflops [--sizes 256,512,1024] [--convs] [--ort-cuda] [--ort-spinning] [--devices ID,...] [--variants V,...] [--runs N]
//       a quick side-by-side table (median of N timed runs after warm-up) for scripts and the GPU check; ORT runs with
//       intra-op spinning off unless --ort-spinning (spinning ORT threads steal the cores from the next runner);
//       --variants packed,blocked,tiled runs each ILGPU device with each MatMul variant it accepts (default: its own);
//       OpenCL devices need ACCELSDK_ILGPU_OPENCL=1 (or =pocl-compat for Debian's PoCL) in the environment;
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
var ortSpinning = args.Contains("--ort-spinning");
var threads = Environment.ProcessorCount;

using var backend = new IlgpuBackend();
var wanted = Option("--devices")?.Split(',');
var variants = Option("--variants")?.Split(',') ?? new string?[] { null };
var devices = backend.Devices.Where(d => d.IsAvailable && (wanted is null || wanted.Contains(d.Id))).ToArray();
foreach (var d in backend.Devices.Where(d => !d.IsAvailable)) Console.WriteLine($"# {d.Id} unavailable: {d.UnavailableReason}");

var workloads = sizes.Select(Workload.MatMul).ToList();
if (args.Contains("--convs")) workloads.AddRange(Workload.ResNet18Convs());

Console.WriteLine($"# {threads} CPU threads; ORT intra-op threads {threads}, spinning {(ortSpinning ? "on" : "off")}; median of {runs} interleaved runs after 2 warm-up runs each");
Console.WriteLine("workload,device,setup_ms,median_ms,gflops,percent_of_ort");
foreach (var w in workloads)
{
    var ortGflops = new Dictionary<string, double>();
    var rows = new List<(string Device, double Setup, double Median, double Gflops)>();
    var factories = new List<Func<IRunner>> { () => new OrtRunner(w, false, threads, ortSpinning) };
    if (ortCuda) factories.Add(() => new OrtRunner(w, true, threads, ortSpinning));
    factories.AddRange(devices.SelectMany(d => variants.Select(v => (Func<IRunner>)(() => new IlgpuRunner(backend, d, w, v)))));
    var runners = new List<IRunner>();
    foreach (var create in factories)
    {
        try
        {
            runners.Add(create());
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Console.WriteLine($"# {w.Name}: a runner failed to start: {e.GetType().Name}: {e.Message.ReplaceLineEndings(" ")}");
        }
    }
    try
    {
        // Round-robin: on a shared, noisy machine every runner sees the same load, so the ratios stay meaningful.
        var medians = MeasureInterleaved(runners, runs);
        for (var r = 0; r < runners.Count; r++)
        {
            rows.Add((runners[r].Label, runners[r].SetupTime.TotalMilliseconds, medians[r], w.Flops / medians[r] / 1e6));
        }
    }
    finally
    {
        foreach (var r in runners) r.Dispose();
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

static double[] MeasureInterleaved(IReadOnlyList<IRunner> runners, int runs)
{
    foreach (var r in runners)
    {
        r.RunOnce();
        r.RunOnce();
    }
    var times = runners.Select(_ => new double[runs]).ToArray();
    for (var i = 0; i < runs; i++)
    {
        for (var r = 0; r < runners.Count; r++)
        {
            var start = Stopwatch.GetTimestamp();
            runners[r].RunOnce();
            times[r][i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }
    }
    return times.Select(t =>
    {
        Array.Sort(t);
        return t[runs / 2];
    }).ToArray();
}
