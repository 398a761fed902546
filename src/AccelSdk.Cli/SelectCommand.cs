using System.CommandLine;
using System.Text.Json;
using AccelSdk.Ir;

namespace AccelSdk.Cli;

/// <summary><c>accelsdk select MODEL</c>: measures the model on every device and reports the one the policy picks.</summary>
internal static class SelectCommand
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    /// <summary>The <c>--policy</c> words.</summary>
    public static readonly IReadOnlyDictionary<string, SelectionPolicy> Policies = new Dictionary<string, SelectionPolicy>(StringComparer.Ordinal)
    {
        ["latency"] = SelectionPolicy.LowestLatency,
        ["throughput"] = SelectionPolicy.HighestThroughput,
        ["cpu"] = SelectionPolicy.PreferCpu,
        ["gpu"] = SelectionPolicy.PreferGpu,
    };

    /// <summary>A <c>--policy</c> option (default latency).</summary>
    public static Option<SelectionPolicy> PolicyOption() =>
        CliOptions.Choice("--policy", Policies, SelectionPolicy.LowestLatency, "what 'best' means: lowest latency, highest throughput, or prefer a CPU or a GPU");

    public static Command Create()
    {
        var model = CliOptions.PathArgument("MODEL", PathKind.ExistingFile, "the model (.onnx or .tflite)");
        var json = CliOptions.Flag("--json", "print JSON instead of a table");
        var policy = PolicyOption();
        var inputs = CliOptions.PathsOption("--input", "F.pb", PathKind.ExistingFile, "a sample input as an ONNX TensorProto file, in graph input order or named");
        var epOptions = ProviderOptions.Option();
        var command = new Command("select", "measure MODEL on every device and report the one the policy picks") { model, json, policy, inputs, epOptions };
        command.SetAction(parse => Select(parse.GetRequiredValue(model), parse.GetValue(json), parse.GetValue(policy), parse.GetValue(inputs) ?? [],
            ProviderOptions.Compile(parse.GetValue(epOptions)!)));
        return command;
    }

    private static int Select(string path, bool json, SelectionPolicy policy, string[] inputFiles, Backends.CompileOptions compile)
    {
        var model = CliRuntime.Instance.LoadModel(path);
        var options = new SelectOptions { Policy = policy, SampleInputs = CommandInputs.ReadOrNull(model, inputFiles), Compile = compile };
        using var session = CliRuntime.Instance.Select(model, options, cancellationToken: CliRuntime.Cancellation);
        var report = session.Selection!;
        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(new
            {
                model = path,
                policy = report.Policy.ToString(),
                chosen = report.Chosen.Id,
                candidates = report.Candidates.Select(c => new
                {
                    device = c.Device.Id,
                    median_ms = c.MedianMs,
                    throughput_per_s = c.ThroughputPerSecond,
                    compile_ms = c.CompileMs,
                    error = c.Error,
                }),
            }, Json));
            return ExitCodes.Success;
        }
        Console.WriteLine($"{model.Label}: policy {report.Policy}, {report.Candidates.Count} candidate(s)");
        foreach (var c in report.Candidates)
        {
            var measured = c.MedianMs is { } ms ? $"median {ms:F3} ms, compile {c.CompileMs:F1} ms" + (c.ThroughputPerSecond is { } t ? $", {t:F1}/s" : "") : "not run: " + c.Error;
            Console.WriteLine($"  {(c.Device == report.Chosen ? "*" : " ")} {c.Device.Id,-18} {measured}");
        }
        Console.WriteLine($"selected: {report.Chosen.Id}");
        return ExitCodes.Success;
    }
}
