using System.Diagnostics;
using System.Globalization;
using AccelSdk.Autotune;
using AccelSdk.Backends;
using AccelSdk.Execution;
using AccelSdk.Ir;
using AccelSdk.TestSupport;

namespace AccelSdk.Benchmarks;

/// <summary>
/// Bench runner (<c>-- reselect [MODEL ...]</c>, models relative to .models, ResNet18 by default): tunes each model
/// into a fresh cache, then times a cached re-selection (<see cref="Accel.Select(Model, SelectOptions?)"/>
/// with <c>Autotune</c>) both in fresh processes (cold: backend discovery and model import reported apart) and
/// repeatedly in one process, with how much of it was compiling and whether the compiled partitions came from the
/// artefact cache.
/// </summary>
public static class ReselectBench
{
    private const int ColdProcesses = 5;
    private const int WarmSelects = 7;
    private const int RunRounds = 21;

    public static int Run(string[] args)
    {
        var models = args.Length > 1 ? args.Skip(1).ToArray() : new[] { "resnet18/ResNet18.onnx" };
        var self = Environment.ProcessPath!;
        var entry = typeof(ReselectBench).Assembly.Location;
        Console.WriteLine($"{"model",-28} {"tune s",7} {"cold: discovery",16} {"import",7} {"select",7} {"(compile)",9} {"warm: select",13} {"(compile)",9} {"from artefacts",15}");
        foreach (var relative in models)
        {
            var cache = Path.Combine(Path.GetTempPath(), "accelsdk-reselect-" + Guid.NewGuid().ToString("N"));
            try
            {
                var tune = Stopwatch.StartNew();
                var tuned = Select(RepoPaths.Model(relative), cache);
                var tuneSeconds = tune.Elapsed.TotalSeconds;
                tuned.Dispose();
                var cold = new List<double[]>();
                for (var i = 0; i < ColdProcesses; i++)
                {
                    var start = new ProcessStartInfo(self) { RedirectStandardOutput = true };
                    if (!self.EndsWith(Path.GetFileNameWithoutExtension(entry), StringComparison.Ordinal)) start.ArgumentList.Add(entry);
                    foreach (var a in new[] { "reselect-child", RepoPaths.Model(relative), cache }) start.ArgumentList.Add(a);
                    using var child = Process.Start(start)!;
                    var line = child.StandardOutput.ReadToEnd().Trim().Split('\n')[^1];
                    child.WaitForExit();
                    cold.Add(line.Split(' ').Select(x => double.Parse(x, CultureInfo.InvariantCulture)).ToArray());
                }
                var model = Model.Load(RepoPaths.Model(relative));
                var warm = new List<(double Total, double Compile, bool Artefacts)>();
                for (var i = 0; i < WarmSelects; i++)
                {
                    var watch = Stopwatch.StartNew();
                    using var session = Accel.Select(model, new SelectOptions { Autotune = true });
                    warm.Add((watch.Elapsed.TotalMilliseconds, session.CompileTime.TotalMilliseconds, session.CompiledPartitions.All(c => c.LoadedFromArtifactCache)));
                }
                double Median(IEnumerable<double> xs) { var a = xs.Order().ToArray(); return a[a.Length / 2]; }
                // The loaded compiled plan must run as fast as a freshly compiled one: interleaved runs, medians.
                // Both alive at once: ORT's spinning pool threads would slow whichever runs second, so neither spins.
                var noSpin = new CompileOptions { Settings = new Dictionary<string, string> { ["session.intra_op.allow_spinning"] = "0" } };
                using var loaded = Accel.Select(model, new SelectOptions { Autotune = true, Compile = noSpin });
                using var fresh = new AccelSession(new ExecutionPlan(model, loaded.Plan.Partitions.Select(p => p with { }).ToArray()), noSpin);
                if (!loaded.CompiledPartitions.All(c => c.LoadedFromArtifactCache)) throw new InvalidOperationException("the compiled plan was not loaded");
                var inputs = SampleInputs.Random(model);
                var runLoaded = new List<double>();
                var runFresh = new List<double>();
                loaded.Run(inputs);
                fresh.Run(inputs);
                for (var i = 0; i < RunRounds; i++)
                {
                    var w = Stopwatch.StartNew();
                    loaded.Run(inputs);
                    runLoaded.Add(w.Elapsed.TotalMilliseconds);
                    w.Restart();
                    fresh.Run(inputs);
                    runFresh.Add(w.Elapsed.TotalMilliseconds);
                }
                Console.WriteLine($"{Path.GetFileName(relative),-28} {tuneSeconds,7:F1} {Median(cold.Select(c => c[0])),13:F1} ms {Median(cold.Select(c => c[1])),7:F1} {Median(cold.Select(c => c[2])),7:F1} {Median(cold.Select(c => c[3])),9:F1} " +
                    $"{Median(warm.Select(w => w.Total)),10:F1} ms {Median(warm.Select(w => w.Compile)),9:F1} {(warm.All(w => w.Artefacts) && cold.All(c => c[4] == 1) ? "yes" : "no"),15}" +
                    $"   run: loaded {Median(runLoaded):F2} ms, freshly compiled {Median(runFresh):F2} ms");
            }
            finally
            {
                Environment.SetEnvironmentVariable("ACCELSDK_CACHE_DIR", null);
                try { Directory.Delete(cache, recursive: true); } catch (IOException) { }
            }
        }
        return 0;
    }

    /// <summary>One cold cached selection in this fresh process: prints discovery, import, select, compile ms and 1 when loaded from artefacts.</summary>
    public static int Child(string[] args)
    {
        var watch = Stopwatch.StartNew();
        _ = Accel.Devices.Count;
        var discovery = watch.Elapsed.TotalMilliseconds;
        watch.Restart();
        var model = Model.Load(args[1]);
        var import = watch.Elapsed.TotalMilliseconds;
        Environment.SetEnvironmentVariable("ACCELSDK_CACHE_DIR", args[2]);
        watch.Restart();
        using var session = Accel.Select(model, new SelectOptions { Autotune = true });
        var select = watch.Elapsed.TotalMilliseconds;
        if (session.Selection?.FromTuningCache != true) throw new InvalidOperationException("the cached selection re-tuned");
        var inv = CultureInfo.InvariantCulture;
        Console.WriteLine(string.Join(' ', new[] { discovery, import, select, session.CompileTime.TotalMilliseconds, session.CompiledPartitions.All(c => c.LoadedFromArtifactCache) ? 1 : 0 }.Select(x => x.ToString("F2", inv))));
        return 0;
    }

    private static AccelSession Select(string path, string cache)
    {
        Environment.SetEnvironmentVariable("ACCELSDK_CACHE_DIR", cache);
        return Accel.Select(Model.Load(path), new SelectOptions { Autotune = true });
    }
}
