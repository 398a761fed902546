using System.CommandLine;
using AccelSdk.Execution;
using AccelSdk.Ir;
using AccelSdk.Onnx;
using AccelSdk.Optimize;
using AccelSdk.Optimize.Validation;
using AccelSdk.Optimize.Calibration;
using AccelSdk.Optimize.Conversion;
using AccelSdk.Optimize.Data;
using AccelSdk.Optimize.MixedPrecision;
using AccelSdk.Optimize.Pruning;
using AccelSdk.Optimize.Quantization;
using AccelSdk.Optimize.Reports;

namespace AccelSdk.Cli;

/// <summary><c>accelsdk quantize</c> and <c>accelsdk prune</c>: optimize a model, save it, and report size, latency and accuracy.</summary>
internal static class OptimizeCommands
{
    private enum QuantizeMode
    {
        Dynamic,
        Static,
        Fp16,
        Mixed,
    }

    private static readonly Dictionary<string, QuantizeMode> Modes = new(StringComparer.Ordinal)
    {
        ["dynamic"] = QuantizeMode.Dynamic,
        ["static"] = QuantizeMode.Static,
        ["fp16"] = QuantizeMode.Fp16,
        ["mixed"] = QuantizeMode.Mixed,
    };

    private static readonly Dictionary<string, CalibrationMethod> Calibrators = new(StringComparer.Ordinal)
    {
        ["minmax"] = CalibrationMethod.MinMax,
        ["percentile"] = CalibrationMethod.Percentile,
        ["entropy"] = CalibrationMethod.Entropy,
        ["kl"] = CalibrationMethod.Entropy,
    };

    private sealed record Evaluation(string? EvalDir, string? ReportDir, int Runs);

    /// <summary>The options both commands share.</summary>
    private sealed class Common
    {
        public Argument<string> Model { get; } = CliOptions.PathArgument("MODEL", PathKind.ExistingFile, "the float32 ONNX model (never overwritten)");
        public Option<string?> Out { get; } = CliOptions.PathOption("--out", "FILE", PathKind.OutputFile, "write the optimized ONNX model here", required: true);
        public Option<string?> Eval { get; } = CliOptions.PathOption("--eval", "DIR", PathKind.ExistingDirectory,
            "evaluation data: PNG images, *.pb tensors or *.txt sentences (+ vocab.txt); without it, one random input");
        public Option<string?> Report { get; } = CliOptions.PathOption("--report", "DIR", PathKind.OutputDirectory, "save the report (report.json, report.txt, report.html) here");
        public Option<int> Runs { get; } = CliOptions.PositiveInteger("--runs", "N", 20, "timed runs per device for the latency comparison");

        public void AddTo(Command command)
        {
            command.Add(Model);
            command.Add(Out);
            command.Add(Eval);
            command.Add(Report);
            command.Add(Runs);
            command.Validators.Add(result =>
            {
                if (CommandChecks.SamePath(result, Model, Out)) result.AddError($"--out {CommandChecks.Given(result, Out)} is the input model; write the optimized model to another file");
            });
        }

        public Evaluation EvaluationOf(ParseResult parse, string? fallbackDir = null) => new(parse.GetValue(Eval) ?? fallbackDir, parse.GetValue(Report), parse.GetValue(Runs));
    }

    public static Command CreateQuantize()
    {
        var common = new Common();
        var mode = CliOptions.Choice("--mode", Modes, QuantizeMode.Dynamic,
            "int8 weights (dynamic), int8 QDQ calibrated on data (static), float16, or per-layer int8/float32 chosen by measurement under an accuracy budget (mixed)", required: true);
        var maxCosineDrop = CliOptions.Number("--max-cosine-drop", "X", "mixed mode: the mean output cosine against float32 may fall by at most X (0.005: cosine >= 0.995)");
        var minTop1 = CliOptions.Number("--min-top1", "Y", "mixed mode: top-1 agreement with float32 on class-score outputs at least Y, in [0, 1]");
        var calibration = CliOptions.PathOption("--calibration", "DIR", PathKind.ExistingDirectory,
            "calibration data for --mode static: PNG images, *.pb tensors or *.txt sentences (+ vocab.txt); also the evaluation data without --eval");
        var calibrator = CliOptions.Choice("--calibrator", Calibrators, CalibrationMethod.MinMax, "how activation ranges are taken from the calibration data");
        var percentile = CliOptions.Number("--percentile", "P", "the percentile the percentile calibrator keeps (default 99.999)");
        var perTensor = CliOptions.Flag("--per-tensor", "one scale per weight tensor instead of per channel");
        var quantizeConv = CliOptions.Flag("--quantize-conv", "dynamic mode: quantize Conv weights too");
        var excludedNodes = CliOptions.TextsOption("--exclude-node", "NAME", "keep this node in float");
        var excludedOps = CliOptions.TextsOption("--exclude-op", "TYPE", "keep every node of this op type in float");
        var blockedOps = CliOptions.TextsOption("--block-op", "TYPE", "fp16 mode: keep every node of this op type in float32");
        var command = new Command("quantize", "int8 (dynamic, static QDQ) or fp16; prints and saves the report of size, latency and accuracy")
        {
            mode, calibration, calibrator, percentile, perTensor, quantizeConv, excludedNodes, excludedOps, blockedOps, maxCosineDrop, minTop1,
        };
        common.AddTo(command);
        command.Validators.Add(result =>
        {
            var given = CommandChecks.Given(result, mode);
            var needsData = given is { } m && (m.Equals("static", StringComparison.OrdinalIgnoreCase) || m.Equals("mixed", StringComparison.OrdinalIgnoreCase));
            if (needsData && result.GetResult(calibration) is null)
            {
                result.AddError($"--mode {given} needs --calibration DIR");
            }
            var mixed = given is { } g && g.Equals("mixed", StringComparison.OrdinalIgnoreCase);
            if (mixed && result.GetResult(maxCosineDrop) is null && result.GetResult(minTop1) is null)
            {
                result.AddError("--mode mixed needs an accuracy budget: --max-cosine-drop X or --min-top1 Y");
            }
            if (!mixed && (result.GetResult(maxCosineDrop) is not null || result.GetResult(minTop1) is not null))
            {
                result.AddError("--max-cosine-drop and --min-top1 apply to --mode mixed only");
            }
        });
        command.SetAction(parse =>
        {
            var model = CliRuntime.Instance.LoadModel(parse.GetRequiredValue(common.Model));
            var perChannel = !parse.GetValue(perTensor);
            var nodes = parse.GetValue(excludedNodes) ?? [];
            var ops = parse.GetValue(excludedOps) ?? [];
            var calibrationDir = parse.GetValue(calibration);
            var staticOptions = new StaticQuantizationOptions
            {
                PerChannel = perChannel,
                ExcludedNodes = nodes,
                ExcludedOpTypes = ops,
                Calibration = new CalibrationOptions { Runtime = CliRuntime.Instance, Method = parse.GetValue(calibrator), Percentile = parse.GetValue(percentile) ?? 99.999 },
            };
            var result = parse.GetValue(mode) switch
            {
                QuantizeMode.Dynamic => DynamicQuantizer.Quantize(model, new DynamicQuantizationOptions
                {
                    PerChannel = perChannel,
                    QuantizeConv = parse.GetValue(quantizeConv),
                    ExcludedNodes = nodes,
                    ExcludedOpTypes = ops,
                }),
                QuantizeMode.Static => StaticQuantizer.Quantize(model, ReadSamples(model, calibrationDir!), staticOptions),
                QuantizeMode.Mixed => MixedPrecisionQuantizer.Quantize(model, ReadSamples(model, calibrationDir!),
                    ReadSamples(model, parse.GetValue(common.Eval) ?? calibrationDir!), new MixedPrecisionOptions
                    {
                        MaxCosineDrop = parse.GetValue(maxCosineDrop),
                        MinTop1 = parse.GetValue(minTop1),
                        Static = staticOptions,
                        MeasuredRuns = parse.GetValue(common.Runs),
                        Runtime = CliRuntime.Instance,
                    }),
                _ => Fp16Converter.Convert(model, new Fp16Options { BlockedOpTypes = parse.GetValue(blockedOps) ?? [] }),
            };
            return Finish(model, result, parse.GetRequiredValue(common.Out)!, common.EvaluationOf(parse, calibrationDir));
        });
        return command;
    }

    public static Command CreatePrune()
    {
        var common = new Common();
        var sparsity = CliOptions.Number("--sparsity", "S", "the fraction of weights (or channels) to remove, 0 <= S < 1", required: true);
        var structured = CliOptions.Flag("--structured", "remove whole channels (a smaller, faster model) instead of zeroing single weights");
        var headSparsity = CliOptions.Number("--head-sparsity", "H", "--structured: the fraction of attention heads to remove from each transformer block, 0 <= H < 1 (BERT-family encoders; --sparsity then sets the FFN width removed)");
        var global = CliOptions.Flag("--global", "rank weights across the whole model instead of layer by layer");
        var calibration = CliOptions.PathOption("--calibration", "DIR", PathKind.ExistingDirectory,
            "--structured: refit every layer after a removal by least squares on this data (PNG images, *.pb tensors or *.txt sentences) and rank channels by their measured contribution");
        var ridge = CliOptions.Number("--ridge", "R", "--structured --calibration: ridge strength of the refit, relative to the features' mean energy (default: chosen per layer among 0.001-1 by the error on held-out calibration samples)");
        var excludedNodes = CliOptions.TextsOption("--exclude-node", "NAME", "keep the channels this node writes");
        var channelMultiple = CliOptions.PositiveInteger("--channel-multiple", "N", 0, "--structured: every layer keeps a multiple of N channels (1: any count; default: ONNX Runtime's convolution channel block on this CPU, 16 with AVX-512, 8 with AVX2)");
        var command = new Command("prune", "magnitude pruning, or --structured channel removal over dependency groups with least-squares recovery; prints and saves the report")
        {
            sparsity, structured, headSparsity, global, calibration, ridge, excludedNodes, channelMultiple,
        };
        common.AddTo(command);
        command.Validators.Add(result =>
        {
            var isStructured = result.GetResult(structured) is not null;
            if (!isStructured && result.GetResult(calibration) is not null) result.AddError("--calibration applies to --structured pruning only");
            if (!isStructured && result.GetResult(headSparsity) is not null) result.AddError("--head-sparsity applies to --structured pruning only");
            if (isStructured && result.GetResult(global) is not null) result.AddError("--global applies to unstructured pruning only");
            if (result.GetResult(ridge) is not null && result.GetResult(calibration) is null) result.AddError("--ridge needs --calibration DIR");
        });
        command.SetAction(parse =>
        {
            var model = CliRuntime.Instance.LoadModel(parse.GetRequiredValue(common.Model));
            var options = new PruningOptions
            {
                Sparsity = parse.GetValue(sparsity)!.Value,
                HeadSparsity = parse.GetValue(headSparsity) ?? 0,
                Scope = parse.GetValue(global) ? PruningScope.Global : PruningScope.PerLayer,
                ExcludedNodes = parse.GetValue(excludedNodes) ?? [],
                ChannelMultiple = parse.GetValue(channelMultiple) is > 0 and var multiple ? multiple : null,
                Recovery = new RecoveryOptions { Runtime = CliRuntime.Instance, Ridge = parse.GetValue(ridge) },
            };
            var calibrationDir = parse.GetValue(calibration);
            // Four views per calibration photo: the refit of a deep layer sees few positions per image.
            var samples = calibrationDir is null ? null : ReadSamples(model, calibrationDir, new ImagePreprocessing { Augment = true });
            var result = parse.GetValue(structured) ? ChannelPruner.Prune(model, options, samples) : MagnitudePruner.Prune(model, options);
            return Finish(model, result, parse.GetRequiredValue(common.Out)!, common.EvaluationOf(parse));
        });
        return command;
    }

    private static List<IReadOnlyDictionary<string, AccelTensor>> ReadSamples(Model model, string directory, ImagePreprocessing? preprocessing = null) =>
        InputSets.FromDirectory(model, directory, preprocessing: preprocessing).Cast<IReadOnlyDictionary<string, AccelTensor>>().ToList();

    private static int Finish(Model model, OptimizationResult result, string output, Evaluation evaluation)
    {
        var (samples, source) = evaluation.EvalDir is { } evalDir
            ? (ReadSamples(model, evalDir), evalDir)
            : (new List<IReadOnlyDictionary<string, AccelTensor>> { SampleInputs.Random(model) }, "one random input (give --eval DIR for real data)");
        // Loaded into ONNX Runtime and compared with the original before it is written, atomically: a model ORT refuses
        // or that disagrees is never left on disk, and an existing file at the output path stays as it was.
        OptimizedModelWriter.Write(model, result, output, new ValidationOptions { Runtime = CliRuntime.Instance, Inputs = evaluation.EvalDir is null ? null : samples });
        Console.WriteLine($"{model.Label}: {result.Optimization} written to {output}");
        var report = ModelEvaluator.Compare(model, result, samples, new EvaluationOptions { Runtime = CliRuntime.Instance, MeasuredRuns = evaluation.Runs }, source);
        Console.Write(ReportWriter.ToTable(report));
        if (evaluation.ReportDir is not null)
        {
            ReportWriter.Save(report, evaluation.ReportDir);
            Console.WriteLine($"report: {Path.Combine(evaluation.ReportDir, "report.html")} (also report.json, report.txt)");
        }
        return ExitCodes.Success;
    }
}
