using System.Diagnostics;
using System.Globalization;
using AccelSdk;
using AccelSdk.Autotune;
using AccelSdk.Autotune.Precision;
using AccelSdk.Ir;
using AccelSdk.Optimize.Data;
using AccelSdk.Optimize.MixedPrecision;
using AccelSdk.Optimize.Quantization;
using AccelSdk.Optimize.Reports;
using AccelSdk.TestSupport;

/// <summary>
/// Issue 16's done-when for mixed precision: ResNet18 under cosine >= 0.995 against all-int8 and all-float32, side by
/// side in one interleaved run on ort-cpu (each timed run after an untimed one of the same model; each round starts with the next model), with each one's
/// accuracy on the held-out photos; then the autotuner with the same budget (its kept plan against float32, end to end).
/// usage: dotnet run -c Release --project bench/AccelSdk.Optimize.Benchmarks -- mixed-vs-uniform [--runs N] [--max-cosine-drop X]
/// </summary>
internal static class MixedVersusUniform
{
    public static void Run(int runs, double drop = 0.005)
    {
        var c = CultureInfo.InvariantCulture;
        var model = Model.Load(RepoPaths.ResNet18);
        var images = Path.Combine(RepoPaths.Root, ".models", "images");
        var calibration = InputSets.FromDirectory(model, Path.Combine(images, "calibration")).Cast<IReadOnlyDictionary<string, AccelTensor>>().ToList();
        var evaluation = InputSets.FromDirectory(model, Path.Combine(images, "evaluation")).Cast<IReadOnlyDictionary<string, AccelTensor>>().ToList();
        var maxDrop = drop;
        var budget = 1 - maxDrop;
        var mixed = MixedPrecisionQuantizer.Quantize(model, calibration, evaluation, new MixedPrecisionOptions { MaxCosineDrop = maxDrop });
        var allInt8 = StaticQuantizer.Quantize(model, calibration, new StaticQuantizationOptions());
        var target = AccelRuntime.Default.Resolve("ort-cpu");
        var candidates = new (string Name, Model Model)[] { ("float32", model), ("all-int8", allInt8.Model), ($"mixed ({mixed.Settings["chosen"]})", mixed.Model) };
        var sessions = candidates.Select(x => target.Load(x.Model)).ToArray();
        try
        {
            var cosines = candidates.Select(x => ModelEvaluator.MeasureAccuracy(target.Backend, target.Device, model, x.Model, evaluation).Min(a => a.MeanCosine)).ToArray();
            var times = candidates.Select(_ => new List<double>()).ToArray();
            var input = evaluation[0];
            foreach (var s in sessions) s.Run(input);
            var loadBefore = File.ReadAllText("/proc/loadavg").Trim();
            for (var r = 0; r < runs; r++)
            {
                // Each round starts with another model, so no model always follows the slow float32 one.
                foreach (var i in Enumerable.Range(0, sessions.Length).Select(k => (k + r) % sessions.Length))
                {
                    sessions[i].Run(input);
                    var start = Stopwatch.GetTimestamp();
                    sessions[i].Run(input);
                    times[i].Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
                }
            }
            var loadAfter = File.ReadAllText("/proc/loadavg").Trim();
            var medians = times.Select(t => t.Order().ElementAt(t.Count / 2)).ToArray();
            Console.WriteLine($"== mixed-vs-uniform: ResNet18 on ort-cpu, budget cosine >= {budget} on 8 held-out photos, {runs} interleaved runs each; /proc/loadavg {loadBefore} -> {loadAfter}");
            var meeting = Enumerable.Range(0, 2).Where(i => cosines[i] >= budget).ToList();
            var bestUniform = meeting.Count == 0 ? -1 : meeting.MinBy(i => medians[i]);
            for (var i = 0; i < candidates.Length; i++)
            {
                Console.WriteLine($"{candidates[i].Name,-40} median {medians[i].ToString("F2", c),8} ms  cosine {cosines[i].ToString("F5", c)}  {(cosines[i] >= budget ? "meets" : "misses")} the budget" +
                    (bestUniform >= 0 ? $"  {(medians[bestUniform] / medians[i]).ToString("F2", c)}x vs best uniform ({candidates[bestUniform].Name})" : ""));
            }
            Console.WriteLine($"per-layer: {mixed.Settings["layers_int8"]} int8; search candidates: {mixed.Settings["candidates"]}");
        }
        finally
        {
            foreach (var s in sessions) s.Dispose();
        }

        var cache = Directory.CreateTempSubdirectory("accelsdk-bench-mixed-").FullName;
        try
        {
            var tuned = Autotuner.Tune(AccelRuntime.Default, model, new AutotuneOptions
            {
                CacheDirectory = cache, Candidates = new[] { "ort-cpu" }, SampleInputs = evaluation[0], PlanRuns = runs,
                AccuracyBudget = new AccuracyBudget { MaxCosineDrop = maxDrop }, PrecisionSearch = new MixedPrecisionSearch(), CalibrationInputs = calibration,
            });
            using (tuned.Session)
            {
                var p = tuned.Precision!;
                Console.WriteLine($"autotune --max-cosine-drop {maxDrop.ToString(c)}: {(p.LowerPrecisionKept ? "lower precision kept" : "float32 kept")}, " +
                    $"float32 {p.Float32Ms?.ToString("F2", c)} ms, lower precision {p.LowerPrecisionMs?.ToString("F2", c)} ms, cosine {p.Cosine?.ToString("F5", c)} on the calibration photos; " +
                    $"partitions {string.Join(", ", p.Partitions.Select(x => $"#{x.Partition} {x.Device} {x.Precision}"))}; tuned in {tuned.TuningSeconds.ToString("F0", c)} s; /proc/loadavg {File.ReadAllText("/proc/loadavg").Trim()}");
            }
        }
        finally
        {
            Directory.Delete(cache, recursive: true);
        }
    }
}
