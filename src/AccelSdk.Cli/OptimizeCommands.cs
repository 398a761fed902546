using System.Globalization;
using AccelSdk.Execution;
using AccelSdk.Ir;
using AccelSdk.Onnx;
using AccelSdk.Optimize;
using AccelSdk.Optimize.Calibration;
using AccelSdk.Optimize.Conversion;
using AccelSdk.Optimize.Data;
using AccelSdk.Optimize.Pruning;
using AccelSdk.Optimize.Quantization;
using AccelSdk.Optimize.Reports;

namespace AccelSdk.Cli;

/// <summary><c>accelsdk quantize</c> and <c>accelsdk prune</c>: optimize a model, save it, and report size, latency and accuracy.</summary>
internal static class OptimizeCommands
{
    public const string Usage = """
          quantize MODEL --mode dynamic|static|fp16 --out FILE [--calibration DIR] [--eval DIR] [--report DIR]
                   [--calibrator minmax|percentile|entropy] [--percentile P] [--per-tensor] [--quantize-conv]
                   [--exclude-node NAME ...] [--exclude-op TYPE ...] [--block-op TYPE ...] [--runs N]
                                                         int8 (dynamic, static QDQ) or fp16; DIR holds PNG images, *.pb tensors or
                                                         *.txt sentences (+ vocab.txt); prints and saves the report
          prune MODEL --sparsity S --out FILE [--structured] [--global] [--eval DIR] [--report DIR] [--runs N]
                                                         magnitude pruning, or --structured channel removal
        """;

    public static readonly IReadOnlySet<string> QuantizeFlags = new HashSet<string> { "per-tensor", "quantize-conv" };

    public static readonly IReadOnlySet<string> PruneFlags = new HashSet<string> { "structured", "global" };

    public static int Quantize(CommandLine cl)
    {
        var path = cl.Positional(0, "MODEL");
        var mode = cl.Option("mode") ?? throw new UsageException("quantize needs --mode dynamic|static|fp16");
        var output = cl.Option("out") ?? throw new UsageException("quantize needs --out FILE");
        var calibrationDir = cl.Option("calibration");
        var evalDir = cl.Option("eval");
        var reportDir = cl.Option("report");
        var calibrator = cl.Option("calibrator");
        var percentile = cl.Option("percentile");
        var perTensor = cl.Flag("per-tensor");
        var quantizeConv = cl.Flag("quantize-conv");
        var excludedNodes = cl.Options("exclude-node");
        var excludedOps = cl.Options("exclude-op");
        var blockedOps = cl.Options("block-op");
        var runs = ParseRuns(cl.Option("runs"));
        cl.RejectUnknown();
        CheckOutput(path, output);
        var model = Model.Load(path);
        OptimizationResult result;
        switch (mode.ToLowerInvariant())
        {
            case "dynamic":
                result = DynamicQuantizer.Quantize(model, new DynamicQuantizationOptions
                {
                    PerChannel = !perTensor,
                    QuantizeConv = quantizeConv,
                    ExcludedNodes = excludedNodes,
                    ExcludedOpTypes = excludedOps,
                });
                break;
            case "static":
                if (calibrationDir is null) throw new UsageException("--mode static needs --calibration DIR");
                var calibration = InputSets.FromDirectory(model, calibrationDir).Cast<IReadOnlyDictionary<string, Tensor>>().ToList();
                result = StaticQuantizer.Quantize(model, calibration, new StaticQuantizationOptions
                {
                    PerChannel = !perTensor,
                    ExcludedNodes = excludedNodes,
                    ExcludedOpTypes = excludedOps,
                    Calibration = new CalibrationOptions
                    {
                        Method = ParseCalibrator(calibrator),
                        Percentile = percentile is null ? 99.999 : double.Parse(percentile, CultureInfo.InvariantCulture),
                    },
                });
                break;
            case "fp16":
                result = Fp16Converter.Convert(model, new Fp16Options { BlockedOpTypes = blockedOps });
                break;
            default:
                throw new UsageException($"unknown mode '{mode}' (dynamic, static, fp16)");
        }
        return Finish(model, result, output, evalDir ?? calibrationDir, reportDir, runs);
    }

    public static int Prune(CommandLine cl)
    {
        var path = cl.Positional(0, "MODEL");
        var sparsityText = cl.Option("sparsity") ?? throw new UsageException("prune needs --sparsity S (0 <= S < 1)");
        var output = cl.Option("out") ?? throw new UsageException("prune needs --out FILE");
        var structured = cl.Flag("structured");
        var global = cl.Flag("global");
        var evalDir = cl.Option("eval");
        var reportDir = cl.Option("report");
        var runs = ParseRuns(cl.Option("runs"));
        cl.RejectUnknown();
        if (!double.TryParse(sparsityText, NumberStyles.Float, CultureInfo.InvariantCulture, out var sparsity))
        {
            throw new UsageException($"--sparsity '{sparsityText}' is not a number");
        }
        CheckOutput(path, output);
        var model = Model.Load(path);
        var options = new PruningOptions { Sparsity = sparsity, Scope = global ? PruningScope.Global : PruningScope.PerLayer };
        var result = structured ? ChannelPruner.Prune(model, options) : MagnitudePruner.Prune(model, options);
        return Finish(model, result, output, evalDir, reportDir, runs);
    }

    private static int Finish(Model model, OptimizationResult result, string output, string? evalDir, string? reportDir, int runs)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(output));
        if (directory is not null) Directory.CreateDirectory(directory);
        OnnxExporter.Save(result.Model, output);
        Console.WriteLine($"{model.Label}: {result.Optimization} written to {output}");
        List<IReadOnlyDictionary<string, Tensor>> evaluation;
        string source;
        if (evalDir is not null)
        {
            evaluation = InputSets.FromDirectory(model, evalDir).Cast<IReadOnlyDictionary<string, Tensor>>().ToList();
            source = evalDir;
        }
        else
        {
            evaluation = new List<IReadOnlyDictionary<string, Tensor>> { SampleInputs.Random(model) };
            source = "one random input (give --eval DIR for real data)";
        }
        var report = ModelEvaluator.Compare(model, result, evaluation, new EvaluationOptions { MeasuredRuns = runs }, source);
        Console.Write(ReportWriter.ToTable(report));
        if (reportDir is not null) Console.WriteLine($"report: {ReportWriter.Save(report, reportDir)}");
        return 0;
    }

    /// <summary>The input model is never overwritten.</summary>
    private static void CheckOutput(string input, string output)
    {
        if (!File.Exists(input)) throw new ModelLoadException(input, "file not found");
        if (string.Equals(Path.GetFullPath(input), Path.GetFullPath(output), StringComparison.Ordinal))
        {
            throw new UsageException($"--out {output} is the input model; write the optimized model to another file");
        }
    }

    private static int ParseRuns(string? value)
    {
        if (value is null) return 20;
        return int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n > 0
            ? n
            : throw new UsageException($"--runs '{value}' is not a positive integer");
    }

    private static CalibrationMethod ParseCalibrator(string? value) => value?.ToLowerInvariant() switch
    {
        null or "minmax" => CalibrationMethod.MinMax,
        "percentile" => CalibrationMethod.Percentile,
        "entropy" or "kl" => CalibrationMethod.Entropy,
        _ => throw new UsageException($"unknown calibrator '{value}' (minmax, percentile, entropy)"),
    };
}
