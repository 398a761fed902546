using System.Diagnostics;
using System.Globalization;
using AccelSdk.Autotune.Placement;
using AccelSdk.Execution;
using AccelSdk.Ir;
using AccelSdk.TestSupport;

namespace AccelSdk.Benchmarks;

/// <summary>
/// Bench runner (<c>-- split-copies [ROUNDS] [--baseline BENCH_DLL]</c>, issue 11): BlazeFace forced onto
/// ort-cpu | ilgpu-cpu | ort-cpu (the longest run of ILGPU-claimed nodes in the middle third on ILGPU's CPU
/// accelerator), memory copies per run and latency. Each build runs in its own worker process (this one, and with
/// <c>--baseline</c> the same runner compiled against another checkout, e.g. main, with <c>ACCELSDK_BASELINE</c>
/// defined); the parent alternates blocks of runs between them, so both sides see the same machine load, and prints
/// medians side by side. The file compiles unchanged against main's API with that constant.
/// </summary>
public static class SplitCopiesBench
{
    private const int Block = 5;

    public static int Run(string[] args)
    {
        var rounds = args.Length > 1 && int.TryParse(args[1], CultureInfo.InvariantCulture, out var r) ? r : 20;
        var baseline = args.SkipWhile(a => a != "--baseline").Skip(1).FirstOrDefault();
        var self = typeof(SplitCopiesBench).Assembly.Location;
        var workers = new List<Worker> { new("after (this build)", self) };
        if (baseline is not null) workers.Insert(0, new Worker("before (baseline)", Path.GetFullPath(baseline)));
        try
        {
            foreach (var w in workers) w.Start();
            Console.WriteLine($"load before: {Uptime()}");
            for (var round = 0; round < rounds; round++)
            {
                foreach (var w in workers) w.RunBlock(Block);
            }
            Console.WriteLine($"load after:  {Uptime()}");
            Console.WriteLine($"BlazeFace ort-cpu | ilgpu-cpu | ort-cpu, {rounds} interleaved rounds of {Block} runs per side");
            foreach (var w in workers)
            {
                var sorted = w.Times.Order().ToArray();
                Console.WriteLine($"{w.Label,-20} median {sorted[sorted.Length / 2],8:F2} ms  p10 {sorted[sorted.Length / 10],8:F2}  p90 {sorted[sorted.Length * 9 / 10],8:F2}  copies/run {w.Info.Split(" | ")[0]}");
            }
            if (workers.Count == 2)
            {
                var before = Median(workers[0].Times);
                var after = Median(workers[1].Times);
                Console.WriteLine($"after/before median latency: {after / before:F3}");
            }
            return 0;
        }
        finally
        {
            foreach (var w in workers) w.Dispose();
        }
    }

    private static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);

    private static string Uptime()
    {
        try
        {
            return File.ReadAllText("/proc/loadavg").Trim();
        }
        catch (IOException)
        {
            return "unknown";
        }
    }

    /// <summary>The worker side: builds the split, warms up, then answers <c>run N</c> lines with N latencies in ms.</summary>
    public static int RunWorker()
    {
        var model = Model.Load(RepoPaths.Model("blazeface/face_detection_front_128x128_barracuda.onnx"));
        var ort = AccelRuntime.Default.Resolve("ort-cpu");
        var ilgpu = AccelRuntime.Default.Resolve("ilgpu-cpu");
        var types = ShapeInference.Infer(model);
        var (first, last) = MiddleRun(model, ilgpu.Backend, ilgpu.Device, types);
        var placements = model.Graph.Nodes.Select((_, i) => i >= first && i <= last ? new Placement(ilgpu.Backend, ilgpu.Device) : new Placement(ort.Backend, ort.Device)).ToArray();
        var plan = PlanBuilder.Build(model, placements, types);
        using var session = new AccelSession(plan);
        var inputs = SampleInputs.Random(model, seed: 1);
        for (var i = 0; i < 5; i++) session.Run(inputs);
        var checksum = session.Run(inputs).Sum(t => t.ElementType == ElementType.Float32 ? t.AsSpan<float>().ToArray().Sum(v => (double)Math.Abs(v)) : 0);
#if ACCELSDK_BASELINE
        // The baseline's session counts nothing: its copies follow from its plan (every transfer downloads unless it
        // leaves host memory and uploads unless it enters it; outputs of host-memory devices are not moved).
        var copies = plan.Transfers.Sum(t => (t.From.MemorySpace != "host" ? 1 : 0) + (t.To.MemorySpace != "host" ? 1 : 0)).ToString(CultureInfo.InvariantCulture);
        var routes = "staged (no routes in this build)";
#else
        session.ResetTransferStatistics();
        for (var i = 0; i < 10; i++) session.Run(inputs);
        var stats = session.TransferStatistics;
        var copies = $"{stats.CopiesPerRun:F1} counted ({stats.TransfersPerRun:F1} transfers, {stats.DirectTransfers / (double)stats.Runs:F1} direct, {stats.HostRoundTrips} host round trips, {stats.BytesPerRun / 1024:F0} KiB)";
        var routes = string.Join("; ", plan.Transfers.Select(t => $"{t.ValueName}: {t.RouteName}, {t.Copies} copies"));
#endif
        Console.WriteLine($"ready {copies} | nodes {first}..{last} of {model.Graph.Nodes.Count} on ilgpu-cpu, {plan.Partitions.Count} partitions, output checksum {checksum:R} | {routes}");
        string? line;
        while ((line = Console.ReadLine()) is not null && line.StartsWith("run ", StringComparison.Ordinal))
        {
            var n = int.Parse(line.AsSpan(4), CultureInfo.InvariantCulture);
            var times = new double[n];
            for (var i = 0; i < n; i++)
            {
                var start = Stopwatch.GetTimestamp();
                session.Run(inputs);
                times[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            }
            Console.WriteLine(string.Join(" ", times.Select(t => t.ToString("R", CultureInfo.InvariantCulture))));
        }
        return 0;
    }

    /// <summary>The longest run of consecutive nodes ILGPU claims that starts in the middle third of the graph.</summary>
    private static (int First, int Last) MiddleRun(Model model, Backends.IBackend backend, Backends.Device device, IReadOnlyDictionary<string, Ir.ValueType> types)
    {
        var context = new Backends.NodeContext(model, types);
        var nodes = model.Graph.Nodes;
        var claimed = nodes.Select(n => backend.Supports(device, n, context).IsSupported).ToArray();
        var best = (First: -1, Last: -2);
        for (var start = nodes.Count / 3; start < 2 * nodes.Count / 3; start++)
        {
            if (!claimed[start] || (start > 0 && claimed[start - 1] && start != nodes.Count / 3)) continue;
            var end = start;
            while (end + 1 < 2 * nodes.Count / 3 && claimed[end + 1]) end++;
            if (end - start > best.Last - best.First) best = (start, end);
        }
        return best.First < 0 ? throw new InvalidOperationException("ILGPU claims no node in BlazeFace's middle third") : best;
    }

    private sealed class Worker(string label, string dll) : IDisposable
    {
        private Process? _process;

        public string Label => label;

        public string Info { get; private set; } = "";

        public List<double> Times { get; } = new();

        public void Start()
        {
            var info = new ProcessStartInfo("dotnet") { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };
            info.ArgumentList.Add("exec");
            info.ArgumentList.Add(dll);
            info.ArgumentList.Add("split-copies-worker");
            _process = Process.Start(info)!;
            string? line;
            while ((line = _process.StandardOutput.ReadLine()) is not null && !line.StartsWith("ready ", StringComparison.Ordinal))
            {
            }
            Info = line?["ready ".Length..] ?? throw new InvalidOperationException($"{label}: the worker {dll} exited before it was ready");
            Console.WriteLine($"{label}: {Info}");
        }

        public void RunBlock(int n)
        {
            _process!.StandardInput.WriteLine($"run {n}");
            _process.StandardInput.Flush();
            var line = _process.StandardOutput.ReadLine() ?? throw new InvalidOperationException($"{label}: the worker stopped");
            Times.AddRange(line.Split(' ').Select(s => double.Parse(s, CultureInfo.InvariantCulture)));
        }

        public void Dispose()
        {
            if (_process is null) return;
            try
            {
                _process.StandardInput.WriteLine("quit");
                _process.StandardInput.Flush();
                _process.WaitForExit(10_000);
            }
            catch (IOException)
            {
            }
            _process.Dispose();
        }
    }
}
