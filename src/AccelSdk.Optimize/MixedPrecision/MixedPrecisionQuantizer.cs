using System.Diagnostics;
using System.Globalization;
using AccelSdk.Backends;
using AccelSdk.Execution;
using AccelSdk.Ir;
using AccelSdk.OnnxRuntime;
using AccelSdk.Optimize.Pruning;
using AccelSdk.Optimize.Quantization;
using AccelSdk.Optimize.Reports;

namespace AccelSdk.Optimize.MixedPrecision;

/// <summary>Options of mixed int8/float32 quantization: the accuracy budget and how candidates are measured.</summary>
public sealed record MixedPrecisionOptions
{
    /// <summary>Largest allowed drop of the mean output cosine against the float32 model (e.g. 0.005 for cosine >= 0.995).</summary>
    public double? MaxCosineDrop { get; init; }

    /// <summary>Lowest allowed top-1 agreement with the float32 model on class-score outputs, in [0, 1].</summary>
    public double? MinTop1 { get; init; }

    /// <summary>How the int8 layers are quantized (static QDQ; its exclusions are kept in float32 in every candidate).</summary>
    public StaticQuantizationOptions Static { get; init; } = new();

    /// <summary>Device whose latency is minimised and that computes accuracy.</summary>
    public string Device { get; init; } = "ort-cpu";

    /// <summary>The runtime whose devices run the models; null takes <see cref="AccelRuntime.Default"/>.</summary>
    public AccelRuntime? Runtime { get; init; }

    /// <summary>Timed runs per candidate (interleaved, medians).</summary>
    public int MeasuredRuns { get; init; } = 15;

    internal void Validate()
    {
        if (MaxCosineDrop is null && MinTop1 is null) throw new InvalidOptimizationOptionException("max-cosine-drop/min-top1", "mixed precision needs an accuracy budget: give --max-cosine-drop or --min-top1");
        if (MaxCosineDrop is { } d && (double.IsNaN(d) || d < 0 || d > 2)) throw new InvalidOptimizationOptionException("max-cosine-drop", $"{d} is outside [0, 2]");
        if (MinTop1 is { } t && (double.IsNaN(t) || t < 0 || t > 1)) throw new InvalidOptimizationOptionException("min-top1", $"{t} is outside [0, 1]");
        if (MeasuredRuns < 1) throw new InvalidOptimizationOptionException("runs", $"{MeasuredRuns} is below 1");
    }
}

/// <summary>
/// Mixed precision by measurement (accuracy-aware quantization, as OpenVINO's tooling does it): quantize every
/// Conv/Gemm/MatMul to int8 (static QDQ), measure each layer's sensitivity (the output-cosine loss it adds: cosine of
/// its input minus cosine of its output against the float32 model, on the evaluation samples), then revert the most
/// sensitive layers to float32 (1, 2, 4, ... then bisection) until the accuracy budget holds. The float32 model, the
/// all-int8 model and the reverted candidates that meet the budget are timed in one interleaved run and the fastest is
/// kept, so the result is never slower than the best of all-int8 and all-float32 that meets the budget.
/// </summary>
public static class MixedPrecisionQuantizer
{
    /// <param name="Name">How the report names it.</param>
    /// <param name="Model">The candidate model.</param>
    /// <param name="Reverted">How many of the most sensitive layers are not int8.</param>
    /// <param name="Cosine">Mean output cosine against float32 (the worst output).</param>
    /// <param name="Top1">Top-1 agreement on class-score outputs.</param>
    /// <param name="Float16">How many of the reverted layers (the least sensitive of them) run float16 rather than float32.</param>
    private sealed record Candidate(string Name, Model Model, int Reverted, double Cosine, double? Top1, int Float16 = 0)
    {
        public double? MedianMs { get; set; }
    }

    /// <summary>Chooses per layer int8 or float32 for <paramref name="model"/>.</summary>
    public static OptimizationResult Quantize(Model model, IReadOnlyList<IReadOnlyDictionary<string, AccelTensor>> calibration,
        IReadOnlyList<IReadOnlyDictionary<string, AccelTensor>> evaluation, MixedPrecisionOptions options)
    {
        options.Validate();
        if (evaluation.Count == 0) throw new CalibrationDataException(model.Label, "mixed precision needs evaluation samples to measure accuracy on");
        foreach (var sample in calibration) Data.InputSets.Validate(model, sample, "calibration data");
        foreach (var sample in evaluation) Data.InputSets.Validate(model, sample, "evaluation data");
        var named = ModelPreparation.Clone(model);
        NameNodes(named);
        var runtime = options.Runtime ?? AccelRuntime.Default;
        var (backend, device) = runtime.Resolve(options.Device);
        Candidate Evaluate(string name, Model m, int reverted)
        {
            var accuracy = ModelEvaluator.MeasureAccuracy(backend, device, named, m, evaluation);
            var top1 = accuracy.Where(a => a.Top1Agreement is not null).Select(a => a.Top1Agreement!.Value).DefaultIfEmpty(double.NaN).Min();
            return new Candidate(name, m, reverted, accuracy.Min(a => a.MeanCosine), double.IsNaN(top1) ? null : top1);
        }
        if (options.MinTop1 is not null && Evaluate("float32", named, 0).Top1 is null)
        {
            throw new InvalidOptimizationOptionException("min-top1", $"{model.Label} has no class-score output ([1, classes] from Gemm/MatMul/Add/Softmax); use --max-cosine-drop");
        }
        bool Meets(Candidate c) => (options.MaxCosineDrop is not { } d || c.Cosine >= 1 - d) && (options.MinTop1 is not { } t || c.Top1 >= t);

        var allInt8 = StaticQuantizer.Quantize(named, calibration, options.Static);
        var layers = allInt8.Model.Graph.Nodes.Where(n => n.OpType is "Conv" or "Gemm" or "MatMul" && allInt8.ChangedNodes.Contains(n.Name)).ToList();
        var sensitivity = Sensitivities(named, allInt8.Model, layers, evaluation, runtime, options.Device);
        var order = layers.OrderByDescending(n => sensitivity[n.Name]).Select(n => n.Name).ToList();

        var tried = new Dictionary<int, Candidate> { [0] = Evaluate("all-int8", allInt8.Model, 0) };
        Candidate Reverting(int k)
        {
            if (tried.TryGetValue(k, out var known)) return known;
            var excluded = options.Static.ExcludedNodes.Concat(order.Take(k)).ToArray();
            // Reverted candidates quantize only the weighted layers: a float32 layer then reads and writes plain float
            // values instead of sitting between quantized Adds and pools, so reverting more layers never costs accuracy.
            var weighted = options.Static.OpTypes.Where(t => t is "Conv" or "Gemm" or "MatMul").ToArray();
            var q = StaticQuantizer.Quantize(named, calibration, options.Static with { ExcludedNodes = excluded, OpTypes = weighted });
            return tried[k] = Evaluate($"int8, {k} most sensitive layer(s) float32", q.Model, k);
        }
        var (failing, passing) = (0, -1);
        if (!Meets(tried[0]))
        {
            for (var k = 1; k <= order.Count; k = Math.Min(order.Count, k * 2))
            {
                if (Meets(Reverting(k))) { passing = k; break; }
                failing = k;
                if (k == order.Count) break;
            }
            while (passing > failing + 1)
            {
                var mid = (failing + passing) / 2;
                if (Meets(Reverting(mid))) passing = mid; else failing = mid;
            }
        }
        else
        {
            passing = 0;
        }

        var floatCandidate = new Candidate("float32", named, order.Count, 1, null);
        var (offersFp16, fp16Reason) = Fp16Offer(device);
        // On a device that computes in float16, the reverted layers may run float16 instead of float32: the least
        // sensitive of them first (all, half, a quarter, ... of them), each a candidate of its own.
        var weightedOps = options.Static.OpTypes.Where(t => t is "Conv" or "Gemm" or "MatMul").ToArray();
        var withFp16 = Fp16Counts(Math.Max(passing, 0), offersFp16).Select(j =>
        {
            var q = BuildPerLayer(named, calibration, options.Static with { OpTypes = weightedOps }, Assign(order, passing, j));
            return Evaluate($"int8, {passing} most sensitive layer(s) not int8, {j} of them float16", q, passing) with { Float16 = j };
        }).ToList();
        var fp16Result = offersFp16 ? Conversion.Fp16Converter.Convert(named) : null;
        var fp16 = fp16Result is null ? null : Evaluate("fp16", fp16Result.Model, order.Count);
        var contenders = tried.Values.Concat(withFp16).Where(Meets).Append(floatCandidate).Concat(fp16 is not null && Meets(fp16) ? new[] { fp16 } : []).ToList();
        var all = tried.Values.Concat(withFp16).Append(floatCandidate).Concat(fp16 is null ? [] : new[] { fp16 }).DistinctBy(c => c.Name).ToList();
        MeasureInterleaved(all, backend, device, evaluation[0], options.MeasuredRuns);
        var best = contenders.Where(c => c.MedianMs is not null).OrderBy(c => c.MedianMs).First();
        var fp16Line = (offersFp16 ? "offered" : "not offered") + $": {device.Id} {fp16Reason}";
        return Result(model, named, allInt8, best, all, order, sensitivity, options, passing, fp16Line, fp16Result?.ChangedNodes);
    }

    /// <summary>
    /// Each layer's precision when the <paramref name="reverted"/> most sensitive layers (<paramref name="order"/> is most
    /// sensitive first) are not int8 and the <paramref name="float16"/> least sensitive of those run float16: the most
    /// sensitive stay float32, then float16, then int8.
    /// </summary>
    internal static Dictionary<string, string> Assign(IReadOnlyList<string> order, int reverted, int float16)
    {
        reverted = Math.Clamp(reverted, 0, order.Count);
        float16 = Math.Clamp(float16, 0, reverted);
        return order.Select((name, rank) => (name, choice: rank < reverted - float16 ? "float32" : rank < reverted ? "float16" : "int8"))
            .ToDictionary(x => x.name, x => x.choice, StringComparer.Ordinal);
    }

    /// <summary>How many of <paramref name="reverted"/> layers are tried in float16: all, half, a quarter, ... down to one; none without fp16 arithmetic.</summary>
    internal static IReadOnlyList<int> Fp16Counts(int reverted, bool offersFp16)
    {
        var counts = new List<int>();
        for (var j = reverted; offersFp16 && j > 0; j /= 2) counts.Add(j);
        return counts;
    }

    /// <summary>
    /// The model with each layer in its assigned precision: float16 layers are converted first (Casts around them,
    /// float16 weights), then the int8 layers are quantized (static QDQ; calibration sees only float32 values, so the
    /// float16 layers and the float32 ones are left as they are).
    /// </summary>
    internal static Model BuildPerLayer(Model named, IReadOnlyList<IReadOnlyDictionary<string, AccelTensor>> calibration, StaticQuantizationOptions options,
        IReadOnlyDictionary<string, string> assignment)
    {
        var half = assignment.Where(kv => kv.Value == "float16").Select(kv => kv.Key).ToHashSet(StringComparer.Ordinal);
        var model = half.Count == 0 ? named
            : Conversion.Fp16Converter.Convert(named, new Conversion.Fp16Options { BlockedNodes = named.Graph.Nodes.Select(n => n.Name).Where(n => !half.Contains(n)).ToArray(), KeepBlockedWeightsFloat32 = true }).Model;
        var notInt8 = assignment.Where(kv => kv.Value != "int8").Select(kv => kv.Key);
        return assignment.Values.Any(v => v == "int8")
            ? StaticQuantizer.Quantize(model, calibration, options with { ExcludedNodes = options.ExcludedNodes.Concat(notInt8).ToArray() }).Model
            : model;
    }

    /// <summary>
    /// float16 is a candidate only where the device computes in it (<see cref="OrtBackend.Fp16ArithmeticProperty"/>):
    /// elsewhere ONNX Runtime converts around every float16 op and the model only gets slower.
    /// </summary>
    internal static (bool Offered, string Reason) Fp16Offer(Device device) =>
        device.Properties.TryGetValue(OrtBackend.Fp16ArithmeticProperty, out var fact)
            ? (fact.StartsWith("yes", StringComparison.Ordinal), $"reports fp16 arithmetic {fact}")
            : (false, "does not report fp16 arithmetic");

    private static OptimizationResult Result(Model model, Model named, OptimizationResult allInt8, Candidate best, List<Candidate> all,
        List<string> order, Dictionary<string, double> sensitivity, MixedPrecisionOptions options, int minimalReverted, string fp16Offer,
        IReadOnlyList<string>? fp16Changed)
    {
        var c = CultureInfo.InvariantCulture;
        var byK = all.Where(x => x.Name != "float32").OrderBy(x => x.Reverted).ToList();
        var floatMs = all.Single(x => x.Name == "float32").MedianMs;
        var int8Ms = all.Single(x => x.Name == "all-int8").MedianMs;
        var reverted = new HashSet<string>(order.Take(best.Reverted), StringComparer.Ordinal);
        var assigned = Assign(order, best.Reverted, best.Float16);
        var layers = order.Select((name, rank) =>
        {
            var node = named.Graph.Nodes.First(n => n.Name == name);
            // Measured per layer where the search stepped over exactly this layer; otherwise the all-int8 saving shared out.
            var step = byK.FirstOrDefault(x => x.Reverted == rank + 1);
            var previous = byK.FirstOrDefault(x => x.Reverted == rank);
            double? saved = step?.MedianMs is { } a && previous?.MedianMs is { } b ? a - b : null;
            var detail = $"sensitivity rank {rank + 1} of {order.Count}" + (saved is null ? "" : "; latency saved measured by reverting it alone");
            var choice = best.Name == "fp16" ? "float16" : best.Name == "float32" ? "float32" : assigned[name];
            return new LayerChoice(name, node.OpType, choice, sensitivity[name], choice == "int8" ? saved : null, detail);
        }).ToList();
        var settings = new Dictionary<string, string>(allInt8.Settings)
        {
            ["budget"] = string.Join(", ", new[]
            {
                options.MaxCosineDrop is { } d ? $"mean output cosine >= {(1 - d).ToString("0.#####", c)}" : null,
                options.MinTop1 is { } t ? $"top-1 agreement >= {t.ToString("P1", c)}" : null,
            }.OfType<string>()),
            ["chosen"] = best.Name,
            ["layers_int8"] = $"{layers.Count(l => l.Choice == "int8")} of {layers.Count}",
            ["layers_float16"] = $"{layers.Count(l => l.Choice == "float16")} of {layers.Count}",
            ["fp16"] = fp16Offer,
            ["candidates"] = string.Join("; ", all.OrderBy(x => x.Reverted).Select(x =>
                $"{x.Name}: cosine {x.Cosine.ToString("F5", c)}{(x.Top1 is { } t1 ? $", top-1 {t1.ToString("P0", c)}" : "")}, {(x.MedianMs is { } ms ? ms.ToString("F2", c) + " ms" : "not timed")}")),
        };
        var notes = new List<string>
        {
            $"float32 {floatMs?.ToString("F2", c)} ms, all-int8 {int8Ms?.ToString("F2", c)} ms, chosen {best.Name} {best.MedianMs?.ToString("F2", c)} ms on {options.Device} ({ModelEvaluator.MachineLoad()})",
            minimalReverted < 0 ? "no number of reverted layers met the budget short of all of them: float32 kept" : $"fewest layers reverted to meet the budget: {minimalReverted}",
        };
        var chosenModel = best.Model;
        chosenModel.MetadataProps.RemoveAll(p => p.Key == "accelsdk.optimization");
        chosenModel.MetadataProps.Add(new("accelsdk.optimization", "mixed-int8"));
        var changed = best.Name switch
        {
            "float32" => new List<string>(),
            "fp16" => fp16Changed!.ToList(),
            _ => allInt8.ChangedNodes.Where(n => !reverted.Contains(n)).Concat(assigned.Where(kv => kv.Value == "float16").Select(kv => kv.Key)).ToList(),
        };
        var skipped = best.Name == "fp16" ? new List<(string, string)>()
            : allInt8.SkippedNodes.Concat(reverted.Select(r => (r, assigned[r] == "float16" ? "float16: among the most sensitive layers" : "kept float32: among the most sensitive layers"))).ToList();
        return new OptimizationResult("mixed-int8", chosenModel, changed, skipped, settings) { Layers = layers, Notes = notes };
    }

    /// <summary>
    /// The output-cosine loss each quantized layer adds: the cosine (against float32) of what it reads minus that of
    /// what it hands on, averaged over the evaluation samples. In the int8 model both are dequantized values (what the
    /// layer reads, and its output after QuantizeLinear/DequantizeLinear, which also clamps like an absorbed Relu).
    /// </summary>
    private static Dictionary<string, double> Sensitivities(Model floatModel, Model int8Model, List<Node> layers,
        IReadOnlyList<IReadOnlyDictionary<string, AccelTensor>> evaluation, AccelRuntime runtime, string device)
    {
        var editor = new GraphEditor(int8Model.Graph);
        var producers = editor.Producers();
        var consumers = editor.Consumers();
        string FloatValue(string value)
        {
            // x_dequantized <- DequantizeLinear(x_quantized) <- QuantizeLinear(x): the float value is x.
            if (producers.TryGetValue(value, out var dq) && dq.OpType == "DequantizeLinear" && producers.TryGetValue(dq.Inputs[0], out var q) && q.OpType == "QuantizeLinear") return q.Inputs[0];
            return value;
        }
        string Dequantized(string value)
        {
            var q = consumers.GetValueOrDefault(value)?.FirstOrDefault(c => c.Node.OpType == "QuantizeLinear").Node;
            var dq = q is null ? null : consumers.GetValueOrDefault(q.Outputs[0])?.FirstOrDefault(c => c.Node.OpType == "DequantizeLinear").Node;
            return dq?.Outputs[0] ?? value;
        }
        var floatValues = new HashSet<string>(floatModel.Graph.Nodes.SelectMany(n => n.Outputs).Concat(floatModel.Graph.Inputs.Select(i => i.Name)), StringComparer.Ordinal);
        // (float name, int8 name) of each layer's input and output.
        var pairs = layers.Select(n => (n.Name, In: (FloatValue(n.Inputs[0]), n.Inputs[0]), Out: (n.Outputs[0], Dequantized(n.Outputs[0])))).ToList();
        var compared = pairs.SelectMany(p => new[] { p.In, p.Out }).Where(p => floatValues.Contains(p.Item1)).Distinct().ToList();
        var sums = new double[compared.Count];
        using (var f = ActivationProbe.Run(floatModel, compared.Select(c => c.Item1).ToList(), evaluation, runtime, device).GetEnumerator())
        using (var q = ActivationProbe.Run(int8Model, compared.Select(c => c.Item2).ToList(), evaluation, runtime, device).GetEnumerator())
        {
            for (var i = 0; f.MoveNext() && q.MoveNext(); i++) sums[i % compared.Count] += ModelEvaluator.Cosine(f.Current.Value, q.Current.Value);
        }
        double Cos((string, string) pair) => compared.IndexOf(pair) is var i and >= 0 ? sums[i] / evaluation.Count : 1;
        return pairs.ToDictionary(p => p.Name, p => Math.Max(0, Cos(p.In) - Cos(p.Out)), StringComparer.Ordinal);
    }

    /// <summary>Times every candidate in one interleaved loop (each sees the same machine load), each timed run after an untimed one; medians.</summary>
    private static void MeasureInterleaved(List<Candidate> candidates, IBackend backend, Device device, IReadOnlyDictionary<string, AccelTensor> input, int runs)
    {
        var sessions = new List<AccelSession>();
        try
        {
            foreach (var c in candidates) sessions.Add(ModelEvaluator.Open(c.Model, backend, device));
            foreach (var s in sessions) s.Run(input);
            var times = candidates.Select(_ => new double[runs]).ToArray();
            for (var r = 0; r < runs; r++)
            {
                for (var i = 0; i < sessions.Count; i++)
                {
                    // Untimed first: the previous candidate's ONNX Runtime pool threads still spin and take the cores
                    // (timed back to back, float32 BlazeFace measured 46 ms next to its all-int8's 2 ms).
                    sessions[i].Run(input);
                    var watch = Stopwatch.StartNew();
                    sessions[i].Run(input);
                    times[i][r] = watch.Elapsed.TotalMilliseconds;
                }
            }
            for (var i = 0; i < candidates.Count; i++)
            {
                var sorted = times[i].Order().ToArray();
                candidates[i].MedianMs = sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
            }
        }
        finally
        {
            foreach (var s in sessions) s.Dispose();
        }
    }

    /// <summary>Gives every unnamed node a unique name, so layers can be kept in float32 by name.</summary>
    internal static void NameNodes(Model model)
    {
        var editor = new GraphEditor(model.Graph);
        foreach (var node in model.Graph.Nodes.Where(n => n.Name.Length == 0)) node.Name = editor.FreshName(node.OpType + "_" + node.Outputs[0]);
    }
}
