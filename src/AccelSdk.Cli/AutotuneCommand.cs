using System.CommandLine;
using System.Globalization;
using AccelSdk.Autotune;
using AccelSdk.Autotune.Precision;
using AccelSdk.Autotune.Reporting;
using AccelSdk.Backends;
using AccelSdk.Execution;
using AccelSdk.Ir;
using AccelSdk.Optimize.Data;
using AccelSdk.Optimize.MixedPrecision;

namespace AccelSdk.Cli;

/// <summary><c>accelsdk autotune MODEL --report DIR</c>: tune, write the report, print the summary.</summary>
internal static class AutotuneCommand
{
    private sealed record Request(string Model, string ReportDir, string[] InputFiles, SelectionPolicy Policy, string[] Devices,
        Dictionary<string, string> Pins, Dictionary<string, long> MemoryLimits, string? CacheDir, bool NoCache, bool Retune, Dictionary<string, string> EpOptions,
        AccuracyBudget? Budget, string? CalibrationDir, PartitionOverlap Overlap);

    private static readonly IReadOnlyDictionary<string, PartitionOverlap> Overlaps = new Dictionary<string, PartitionOverlap>(StringComparer.Ordinal)
    {
        ["processors"] = PartitionOverlap.AcrossProcessors,
        ["devices"] = PartitionOverlap.AcrossDevices,
        ["none"] = PartitionOverlap.None,
    };

    public static Command Create()
    {
        var model = CliOptions.PathArgument("MODEL", PathKind.ExistingFile, "the model (.onnx or .tflite)");
        var report = CliOptions.PathOption("--report", "DIR", PathKind.OutputDirectory, "write report.json and report.html here", required: true);
        var inputs = CliOptions.PathsOption("--input", "F.pb", PathKind.ExistingFile, "a sample input as an ONNX TensorProto file, in graph input order or named");
        var policy = SelectCommand.PolicyOption();
        var devices = CliOptions.TextsOption("--device", "ID", "consider only this device or backend");
        var pins = CliOptions.Assignments("--pin", "NODE_OR_OP=DEVICE", "place this node, or every node of this op type, on DEVICE");
        var limits = CliOptions.ByteLimits("--memory-limit", "DEVICE=BYTES", "keep the plan's memory on DEVICE within BYTES (k, M or G suffix, 1024-based)");
        var cache = CliOptions.PathOption("--cache", "DIR", PathKind.OutputDirectory,
            "the tuning cache (default $ACCELSDK_CACHE_DIR/autotune, else ~/.cache/accelsdk/autotune)");
        var noCache = CliOptions.Flag("--no-cache", "neither read nor write the tuning cache");
        var retune = CliOptions.Flag("--retune", "measure again even what the cache has, and rewrite it");
        var epOptions = ProviderOptions.Option();
        var maxCosineDrop = CliOptions.Number("--max-cosine-drop", "X",
            "also tune a per-layer int8/float32 version of the model and keep it where faster, if its mean output cosine against float32 falls by at most X (0.005: cosine >= 0.995)");
        var minTop1 = CliOptions.Number("--min-top1", "Y", "the same with a budget of top-1 agreement with float32 on class-score outputs of at least Y, in [0, 1]");
        var calibration = CliOptions.PathOption("--calibration", "DIR", PathKind.ExistingDirectory,
            "with --max-cosine-drop/--min-top1: the data (PNG images, *.pb tensors or *.txt sentences + vocab.txt) the int8 layers are calibrated and the accuracy is measured on");
        var overlap = CliOptions.Choice("--overlap", Overlaps, PartitionOverlap.AcrossProcessors,
            "which independent partitions run at the same time, as predicted, measured and cached: on different processors (default: a GPU beside the CPU), on different devices (CPU runtimes side by side too), or none");
        var command = new Command("autotune", "place each node on the device measured fastest; writes DIR/report.json and DIR/report.html")
        {
            model, report, inputs, policy, devices, pins, limits, cache, noCache, retune, epOptions, maxCosineDrop, minTop1, calibration, overlap,
        };
        command.Validators.Add(result =>
        {
            var budgeted = result.GetResult(maxCosineDrop) is not null || result.GetResult(minTop1) is not null;
            if (budgeted && result.GetResult(calibration) is null) result.AddError("--max-cosine-drop and --min-top1 need --calibration DIR (the data accuracy is measured on)");
            if (!budgeted && result.GetResult(calibration) is not null) result.AddError("--calibration applies with --max-cosine-drop or --min-top1 only");
            // The text as given: a value that is no number has its own error from the option's parser.
            if (Number(CommandChecks.Given(result, maxCosineDrop)) is { } drop && drop is < 0 or > 2) result.AddError($"--max-cosine-drop {drop.ToString(CultureInfo.InvariantCulture)} is outside [0, 2]");
            if (Number(CommandChecks.Given(result, minTop1)) is { } top1 && top1 is < 0 or > 1) result.AddError($"--min-top1 {top1.ToString(CultureInfo.InvariantCulture)} is outside [0, 1]");
        });
        command.SetAction(parse => Run(new Request(parse.GetRequiredValue(model), parse.GetRequiredValue(report)!, parse.GetValue(inputs) ?? [],
            parse.GetValue(policy), parse.GetValue(devices) ?? [], parse.GetValue(pins)!, parse.GetValue(limits)!, parse.GetValue(cache),
            parse.GetValue(noCache), parse.GetValue(retune), parse.GetValue(epOptions)!,
            parse.GetValue(maxCosineDrop) is null && parse.GetValue(minTop1) is null ? null : new AccuracyBudget { MaxCosineDrop = parse.GetValue(maxCosineDrop), MinTop1 = parse.GetValue(minTop1) },
            parse.GetValue(calibration), parse.GetValue(overlap))));
        return command;
    }

    private static int Run(Request request)
    {
        CheckMemoryLimitNames(request.MemoryLimits.Keys);
        var model = CliRuntime.Instance.LoadModel(request.Model);
        var interactive = !Console.IsErrorRedirected;
        var lastStage = "";
        var options = new AutotuneOptions
        {
            Policy = request.Policy,
            PartitionOverlap = request.Overlap,
            SampleInputs = CommandInputs.ReadOrNull(model, request.InputFiles),
            Candidates = request.Devices.Length > 0 ? request.Devices : null,
            Pins = request.Pins.Count > 0 ? request.Pins : null,
            MemoryLimits = request.MemoryLimits.Count > 0 ? request.MemoryLimits : null,
            CacheDirectory = request.CacheDir,
            NoCache = request.NoCache,
            Retune = request.Retune,
            Compile = ProviderOptions.Compile(request.EpOptions),
            AccuracyBudget = request.Budget,
            PrecisionSearch = request.Budget is null ? null : new MixedPrecisionSearch(),
            CalibrationInputs = request.CalibrationDir is null ? null
                : InputSets.FromDirectory(model, request.CalibrationDir).Cast<IReadOnlyDictionary<string, AccelTensor>>().ToList(),
            Progress = new InlineProgress<SelectionProgress>(p =>
            {
                if (interactive)
                {
                    Console.Error.Write("\r" + ConsoleReport.ProgressLine(p).PadRight(100)[..100]);
                }
                else if (p.Stage != lastStage || p.Done == p.Total)
                {
                    Console.Error.WriteLine("accelsdk: " + ConsoleReport.ProgressLine(p));
                }
                lastStage = p.Stage;
            }),
        };
        var result = Autotuner.Tune(CliRuntime.Instance, model, options, CliRuntime.Cancellation);
        if (interactive) Console.Error.WriteLine();
        using (result.Session)
        {
            var (json, html) = AutotuneReport.Write(result, request.ReportDir);
            Console.Write(ConsoleReport.Summary(result));
            Console.WriteLine($"report: {json}, {html}");
            if (result.Unsupported.Count > 0)
            {
                Console.Error.WriteLine($"accelsdk: error: {model.Label}: no device runs " +
                    string.Join(", ", result.Unsupported.Select(u => $"{u.Node} [{u.Op}]")));
                return ExitCodes.Failure;
            }
        }
        return ExitCodes.Success;
    }

    private static double? Number(string? text) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && double.IsFinite(value) ? value : null;

    /// <summary>The tuner ignores a limit for a name it does not know: a typo would silently lift the cap.</summary>
    private static void CheckMemoryLimitNames(IEnumerable<string> names)
    {
        var known = CliRuntime.Instance.Backends.SelectMany(b => b.Devices.Select(d => d.Id).Append(b.Name)).ToHashSet(StringComparer.OrdinalIgnoreCase);
        foreach (var name in names.Where(n => !known.Contains(n)))
        {
            throw new AccelSdkException($"--memory-limit names '{name}', which is no device or backend of this machine ({string.Join(", ", known.Order(StringComparer.Ordinal))})");
        }
    }
}
