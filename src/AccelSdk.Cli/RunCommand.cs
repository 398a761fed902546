using System.CommandLine;
using System.Globalization;
using AccelSdk.Autotune;
using AccelSdk.Backends;
using AccelSdk.Execution;
using AccelSdk.Ir;
using AccelSdk.Onnx;

namespace AccelSdk.Cli;

/// <summary>
/// <c>accelsdk run MODEL</c>: runs once and prints (and optionally writes) the outputs. Without <c>--backend</c> it
/// takes the tuned plan from the tuning cache when there is one for this model and machine, else ort-cpu: it never
/// measures every device (that is <c>select</c> and <c>autotune</c>).
/// </summary>
internal static class RunCommand
{
    /// <summary>The device a model runs on when neither <c>--backend</c> nor a tuned plan says otherwise.</summary>
    public const string DefaultDevice = "ort-cpu";

    public static Command Create()
    {
        var model = CliOptions.PathArgument("MODEL", PathKind.ExistingFile, "the model (.onnx or .tflite)");
        var backend = CliOptions.TextOption("--backend", "NAME|DEVICE",
            $"run on this backend or device (see 'accelsdk devices'); without it, the plan 'accelsdk autotune' cached for this model, else {DefaultDevice}");
        var inputs = CliOptions.PathsOption("--input", "F.pb", PathKind.ExistingFile,
            "an input as an ONNX TensorProto file, in graph input order or named; without any, fixed-seed inputs");
        var outputDir = CliOptions.PathOption("--output-dir", "DIR", PathKind.OutputDirectory, "write output_0.pb, output_1.pb, ... (graph output order) here");
        var cache = CliOptions.PathOption("--cache", "DIR", PathKind.OutputDirectory,
            "the tuning cache to take the plan from (default $ACCELSDK_CACHE_DIR/autotune, else ~/.cache/accelsdk/autotune)");
        var epOptions = ProviderOptions.Option();
        var variant = CliOptions.TextOption("--variant", "NAME",
            "with --backend: compile with that device's variant NAME (tflite-cpu: builtin or xnnpack), as the autotuner measures it");
        var command = new Command("run", "run MODEL once; inputs and outputs as ONNX TensorProto files") { model, backend, inputs, outputDir, cache, epOptions, variant };
        command.Validators.Add(result =>
        {
            if (CommandChecks.Given(result, variant) is not null && CommandChecks.Given(result, backend) is null) result.AddError("--variant needs --backend (the device whose variant it is)");
        });
        command.SetAction(parse => Run(parse.GetRequiredValue(model), parse.GetValue(backend), parse.GetValue(variant), parse.GetValue(inputs) ?? [], parse.GetValue(outputDir),
            parse.GetValue(cache), ProviderOptions.Compile(parse.GetValue(epOptions)!)));
        return command;
    }

    private static int Run(string path, string? backendName, string? variant, string[] inputFiles, string? outputDir, string? cacheDir, CompileOptions compile)
    {
        var model = CliRuntime.Instance.LoadModel(path);
        var givenInputs = CommandInputs.ReadOrNull(model, inputFiles);
        var inputs = givenInputs ?? SampleInputs.Random(model);
        using var session = backendName is null ? OpenWithoutBackend(model, givenInputs, cacheDir, compile) : OpenOn(model, backendName, variant, compile);
        var outputs = session.Run(inputs);
        Console.WriteLine($"{model.Label} on {DeviceList(session)}");
        if (outputDir is not null) Directory.CreateDirectory(outputDir);
        for (var i = 0; i < outputs.Count; i++)
        {
            Console.WriteLine($"  output_{i} {outputs.Names[i]}: {outputs[i].ElementType.ShortName()}{TensorShape.Format(outputs[i].Shape)} {Preview(outputs[i])}");
            if (outputDir is not null) OnnxTensors.WriteFile(outputs[i], Path.Combine(outputDir, $"output_{i}.pb"));
        }
        return ExitCodes.Success;
    }

    private static AccelSession OpenOn(Model model, string backendName, CompileOptions compile) => OpenOn(model, backendName, null, compile);

    private static AccelSession OpenOn(Model model, string backendName, string? variantName, CompileOptions compile)
    {
        var (backend, device) = CliRuntime.Instance.Resolve(backendName);
        if (variantName is not null)
        {
            var variants = backend.CompileVariants(device);
            var variant = variants.FirstOrDefault(v => v.Name == variantName)
                ?? throw new AccelSdkException($"--variant {variantName}: {device.Id} has {(variants.Count == 0 ? "no compile variants" : $"the variants {string.Join(", ", variants.Select(v => v.Name))}")}");
            compile = variant.ApplyTo(compile);
        }
        return new AccelSession(GraphPartitioner.WholeModel(model, backend, device), compile);
    }

    /// <summary>The cached tuned plan, else the default device, else (the default cannot run it) a quick selection.</summary>
    private static AccelSession OpenWithoutBackend(Model model, IReadOnlyDictionary<string, AccelTensor>? sampleInputs, string? cacheDir, CompileOptions compile)
    {
        var tuned = Autotuner.Tune(CliRuntime.Instance, model, new AutotuneOptions { CachedPlanOnly = true, CacheDirectory = cacheDir, SampleInputs = sampleInputs, Compile = compile });
        if (tuned.Session is { } cached)
        {
            Note($"running on {DeviceList(cached)}: the tuned plan cached in {tuned.CachePath}");
            return cached;
        }
        var noPlan = $"no tuned plan for this model and machine in {Path.GetDirectoryName(tuned.CachePath)} ('accelsdk autotune' makes one)";
        try
        {
            var session = OpenOn(model, DefaultDevice, compile);
            Note($"running on {DefaultDevice}, the default: {noPlan}");
            return session;
        }
        catch (AccelSdkException e)
        {
            Note($"{DefaultDevice} cannot run {model.Label} ({e.Message.ReplaceLineEndings(" ")}) and there is {noPlan}: measuring every device");
            var selected = CliRuntime.Instance.Select(model, new SelectOptions { SampleInputs = sampleInputs, MeasuredRuns = 3, WarmupRuns = 1, Compile = compile }, cancellationToken: CliRuntime.Cancellation);
            Note($"running on {DeviceList(selected)}, the fastest measured");
            return selected;
        }
    }

    /// <summary>Where the model runs goes to standard error, so standard output stays as parseable as before.</summary>
    private static void Note(string message) => Console.Error.WriteLine("accelsdk: " + message);

    private static string DeviceList(AccelSession session) => string.Join("+", session.Plan.Devices.Select(d => d.Id));

    private static string Preview(AccelTensor t)
    {
        if (t.ElementCount == 0) return "(empty)";
        var n = (int)Math.Min(5, t.ElementCount);
        var values = t.IsString ? t.Strings.Take(n).Select(s => $"\"{s}\"") : Enumerable.Range(0, n).Select(i => t.GetAsDouble(i).ToString("G6", CultureInfo.InvariantCulture));
        return "[" + string.Join(", ", values) + (t.ElementCount > n ? ", ..." : "") + "]";
    }
}
