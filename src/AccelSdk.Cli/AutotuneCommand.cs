using System.CommandLine;
using AccelSdk.Autotune;
using AccelSdk.Autotune.Reporting;
using AccelSdk.Backends;
using AccelSdk.Ir;

namespace AccelSdk.Cli;

/// <summary><c>accelsdk autotune MODEL --report DIR</c>: tune, write the report, print the summary.</summary>
internal static class AutotuneCommand
{
    private sealed record Request(string Model, string ReportDir, string[] InputFiles, SelectionPolicy Policy, string[] Devices,
        Dictionary<string, string> Pins, Dictionary<string, long> MemoryLimits, string? CacheDir, bool NoCache, bool Retune, Dictionary<string, string> EpOptions);

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
        var command = new Command("autotune", "place each node on the device measured fastest; writes DIR/report.json and DIR/report.html")
        {
            model, report, inputs, policy, devices, pins, limits, cache, noCache, retune, epOptions,
        };
        command.SetAction(parse => Run(new Request(parse.GetRequiredValue(model), parse.GetRequiredValue(report)!, parse.GetValue(inputs) ?? [],
            parse.GetValue(policy), parse.GetValue(devices) ?? [], parse.GetValue(pins)!, parse.GetValue(limits)!, parse.GetValue(cache),
            parse.GetValue(noCache), parse.GetValue(retune), parse.GetValue(epOptions)!)));
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
            SampleInputs = CommandInputs.ReadOrNull(model, request.InputFiles),
            Candidates = request.Devices.Length > 0 ? request.Devices : null,
            Pins = request.Pins.Count > 0 ? request.Pins : null,
            MemoryLimits = request.MemoryLimits.Count > 0 ? request.MemoryLimits : null,
            CacheDirectory = request.CacheDir,
            NoCache = request.NoCache,
            Retune = request.Retune,
            Compile = ProviderOptions.Compile(request.EpOptions),
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
