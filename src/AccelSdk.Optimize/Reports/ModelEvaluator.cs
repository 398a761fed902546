using System.Diagnostics;
using AccelSdk.Backends;
using AccelSdk.Execution;
using AccelSdk.Ir;
using AccelSdk.Onnx;

namespace AccelSdk.Optimize.Reports;

/// <summary>How reports measure: runs, warm-up and which devices.</summary>
public sealed record EvaluationOptions
{
    /// <summary>The runtime whose devices run the models; null takes <see cref="AccelRuntime.Default"/>.</summary>
    public AccelRuntime? Runtime { get; init; }

    /// <summary>Measured runs per model and device.</summary>
    public int MeasuredRuns { get; init; } = 20;

    /// <summary>Unmeasured runs first.</summary>
    public int WarmupRuns { get; init; } = 3;

    /// <summary>Device ids to measure on; null means every available device.</summary>
    public IReadOnlyList<string>? Devices { get; init; }

    /// <summary>Device that computes the accuracy rows.</summary>
    public string AccuracyDevice { get; init; } = "ort-cpu";
}

/// <summary>Compares an optimized model with its original: size, latency on each device (same run), accuracy.</summary>
public static class ModelEvaluator
{
    /// <summary>Builds the report for the optimized model of <paramref name="result"/> against <paramref name="baseline"/>.</summary>
    public static OptimizationReport Compare(Model baseline, OptimizationResult result,
        IReadOnlyList<IReadOnlyDictionary<string, AccelTensor>> evaluationInputs, EvaluationOptions? options = null,
        string? evaluationSource = null)
    {
        var optimized = result.Model;
        options ??= new EvaluationOptions();
        if (evaluationInputs.Count == 0) throw new CalibrationDataException(evaluationSource ?? "evaluation inputs", "no samples to evaluate on");
        var latency = new List<LatencyResult>();
        var devices = (options.Runtime ?? AccelRuntime.Default).Devices.Where(d => d.IsAvailable && (options.Devices is null || options.Devices.Contains(d.Id))).ToList();
        foreach (var device in devices) latency.Add(MeasureLatency(device, baseline, optimized, evaluationInputs[0], options));
        var (accuracyBackend, accuracyDevice) = (options.Runtime ?? AccelRuntime.Default).Resolve(options.AccuracyDevice);
        var accuracy = MeasureAccuracy(accuracyBackend, accuracyDevice, baseline, optimized, evaluationInputs);
        return new OptimizationReport
        {
            Optimization = result.Optimization,
            Model = baseline.Label,
            Settings = result.Settings,
            ChangedNodes = result.ChangedNodes,
            SkippedNodes = result.SkippedNodes.Select(s => $"{s.Node}: {s.Reason}").ToList(),
            BaselineBytes = OnnxExporter.ToBytes(baseline).LongLength,
            OptimizedBytes = OnnxExporter.ToBytes(optimized).LongLength,
            EvaluationSamples = evaluationInputs.Count,
            EvaluationSource = evaluationSource,
            Latency = latency,
            Accuracy = accuracy,
            Layers = result.Layers,
            Notes = result.Notes,
            MachineLoad = MachineLoad(),
        };
    }

    /// <summary>The 1-minute load average (Linux) and the logical core count, so a reader can judge the latencies.</summary>
    internal static string MachineLoad()
    {
        var cores = Environment.ProcessorCount.ToString(System.Globalization.CultureInfo.InvariantCulture);
        try
        {
            var load = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "unknown";
            return $"load average {load} on {cores} logical cores";
        }
        catch (IOException)
        {
            return $"{cores} logical cores";
        }
    }

    /// <summary>
    /// Medians of both models on one device. The runs alternate (original, optimized, original, ...) so both see the
    /// same machine load; a model the device cannot compile gets an error instead of a number.
    /// </summary>
    public static LatencyResult MeasureLatency(Device device, Model baseline, Model optimized, IReadOnlyDictionary<string, AccelTensor> input, EvaluationOptions options)
    {
        var backend = (options.Runtime ?? AccelRuntime.Default).OwnerOf(device);
        AccelSession? a = null, b = null;
        try
        {
            a = Open(baseline, backend, device);
            b = Open(optimized, backend, device);
            var optimizedInput = InputsFor(optimized, input);
            for (var i = 0; i < options.WarmupRuns; i++)
            {
                a.Run(input);
                b.Run(optimizedInput);
            }
            var ta = new double[options.MeasuredRuns];
            var tb = new double[options.MeasuredRuns];
            for (var i = 0; i < options.MeasuredRuns; i++)
            {
                var watch = Stopwatch.StartNew();
                a.Run(input);
                ta[i] = watch.Elapsed.TotalMilliseconds;
                watch.Restart();
                b.Run(optimizedInput);
                tb[i] = watch.Elapsed.TotalMilliseconds;
            }
            var (ma, mb) = (Median(ta), Median(tb));
            return new LatencyResult(device.Id, ma, mb, ma / mb, options.MeasuredRuns, null);
        }
        catch (AccelSdkException e)
        {
            return new LatencyResult(device.Id, null, null, null, 0, e.Message.ReplaceLineEndings(" "));
        }
        finally
        {
            a?.Dispose();
            b?.Dispose();
        }
    }

    /// <summary>Cosine, max abs error and top-1 agreement of each output over the evaluation inputs.</summary>
    public static List<AccuracyResult> MeasureAccuracy(IBackend backend, Device device, Model baseline, Model optimized, IReadOnlyList<IReadOnlyDictionary<string, AccelTensor>> inputs)
    {
        using var a = Open(baseline, backend, device);
        using var b = Open(optimized, backend, device);
        var outputs = a.OutputNames;
        var cosines = outputs.Select(_ => new List<double>()).ToArray();
        var maxAbs = new double[outputs.Count];
        var agree = new int[outputs.Count];
        var producers = baseline.Graph.Nodes.SelectMany(n => n.Outputs.Select(o => (o, n.OpType))).GroupBy(p => p.o).ToDictionary(g => g.Key, g => g.First().OpType);
        var classLike = new bool[outputs.Count];
        foreach (var input in inputs)
        {
            var ra = a.Run(input);
            var rb = b.Run(InputsFor(optimized, input));
            for (var o = 0; o < outputs.Count; o++)
            {
                var (x, y) = (ra[o], rb[outputs[o]]);
                cosines[o].Add(Cosine(x, y));
                maxAbs[o] = Math.Max(maxAbs[o], MaxAbs(x, y));
                classLike[o] = IsClassScores(x, producers.GetValueOrDefault(outputs[o]));
                if (classLike[o] && ArgMax(x) == ArgMax(y)) agree[o]++;
            }
        }
        return outputs.Select((name, o) => new AccuracyResult(name, cosines[o].Average(), cosines[o].Min(), maxAbs[o],
            classLike[o] ? (double)agree[o] / inputs.Count : null)).ToList();
    }

    /// <summary>[1, classes] produced by a classifier head (Gemm, MatMul, Add, Softmax); a Tanh pooler or features are not class scores.</summary>
    private static bool IsClassScores(AccelTensor t, string? producer) =>
        t.Rank == 2 && t.Shape[0] == 1 && t.Shape[1] > 1 && producer is "Gemm" or "MatMul" or "Add" or "Softmax" or "LogSoftmax";

    /// <summary>
    /// <paramref name="input"/> as <paramref name="model"/> declares it: float32 tensors become float16 where the model
    /// takes float16 (an fp16 conversion with float16 graph I/O), so both models run on the same values.
    /// </summary>
    internal static IReadOnlyDictionary<string, AccelTensor> InputsFor(Model model, IReadOnlyDictionary<string, AccelTensor> input)
    {
        var halves = model.Graph.Inputs.Where(i => i.Type is TensorType { ElementType: ElementType.Float16 }
            && input.TryGetValue(i.Name, out var given) && given.ElementType == ElementType.Float32).Select(i => i.Name).ToList();
        if (halves.Count == 0) return input;
        var result = new Dictionary<string, AccelTensor>(input, StringComparer.Ordinal);
        foreach (var name in halves)
        {
            var source = input[name].AsSpan<float>();
            var half = AccelTensor.Zeros(ElementType.Float16, input[name].ShapeArray, name);
            var target = half.AsSpan<Half>();
            for (var i = 0; i < source.Length; i++) target[i] = (Half)source[i];
            result[name] = half;
        }
        return result;
    }

    internal static AccelSession Open(Model model, IBackend backend, Device device) =>
        new(GraphPartitioner.WholeModel(model, backend, device));

    /// <summary>Cosine similarity of two tensors' flattened values (1 when both are all zero).</summary>
    public static double Cosine(AccelTensor x, AccelTensor y)
    {
        if (x.ElementCount != y.ElementCount) return double.NaN;
        double dot = 0, nx = 0, ny = 0;
        for (long i = 0; i < x.ElementCount; i++)
        {
            var (a, b) = (x.GetAsDouble(i), y.GetAsDouble(i));
            dot += a * b;
            nx += a * a;
            ny += b * b;
        }
        if (nx == 0 && ny == 0) return 1;
        return nx == 0 || ny == 0 ? 0 : dot / Math.Sqrt(nx * ny);
    }

    private static double MaxAbs(AccelTensor x, AccelTensor y)
    {
        if (x.ElementCount != y.ElementCount) return double.PositiveInfinity;
        double max = 0;
        for (long i = 0; i < x.ElementCount; i++) max = Math.Max(max, Math.Abs(x.GetAsDouble(i) - y.GetAsDouble(i)));
        return max;
    }

    private static long ArgMax(AccelTensor t)
    {
        long best = 0;
        for (long i = 1; i < t.ElementCount; i++) if (t.GetAsDouble(i) > t.GetAsDouble(best)) best = i;
        return best;
    }

    private static double Median(double[] values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
