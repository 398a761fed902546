using System.Globalization;

namespace AccelSdk.Fuzz;

/// <summary>The importer a run fuzzes.</summary>
internal enum FuzzTarget
{
    Onnx,
    TfLite,
}

/// <summary>Command-line settings of one fuzz run (see README.md).</summary>
internal sealed record FuzzOptions
{
    public FuzzTarget Target { get; init; }
    public double Seconds { get; init; } = 60;
    public int Seed { get; init; } = 1;
    public IReadOnlyList<string> CorpusDirectories { get; init; } = Array.Empty<string>();
    public bool UseDefaultCorpus { get; init; } = true;
    public string CrashDirectory { get; init; } = Path.Combine("artifacts", "fuzz", "crashes");
    public double MutantTimeoutSeconds { get; init; } = 30;
    public double CompileFraction { get; init; } = 0.25;
    public long MaxSeedBytes { get; init; } = 8L << 20;
    public int MaxMutants { get; init; } = int.MaxValue;
    public string? WorkerHost { get; init; }
    public string? ReplayFile { get; init; }
    public bool Worker { get; init; }
    /// <summary>Test hook: the worker misbehaves on purpose (crash, hang, untyped) for files whose name contains it.</summary>
    public string? InjectFault { get; init; }

    public const string Usage =
        "usage: AccelSdk.Fuzz --target onnx|tflite [--seconds N] [--seed S] [--corpus DIR]... [--no-default-corpus]\n" +
        "                     [--crashes DIR] [--timeout SECONDS] [--compile-fraction F] [--max-seed-mb M]\n" +
        "                     [--max-mutants N] [--host DOTNET]\n" +
        "       AccelSdk.Fuzz --target onnx|tflite --replay FILE|DIR [--timeout SECONDS] [--host DOTNET]";

    /// <summary>Parses the command line; throws <see cref="FormatException"/> with the offending argument.</summary>
    public static FuzzOptions Parse(IReadOnlyList<string> args)
    {
        var options = new FuzzOptions();
        var corpora = new List<string>();
        string? target = null;
        for (var i = 0; i < args.Count; i++)
        {
            var name = args[i];
            string Value() => i + 1 < args.Count ? args[++i] : throw new FormatException($"{name} needs a value");
            options = name switch
            {
                "--target" => options with { Target = ParseTarget(target = Value()) },
                "--seconds" => options with { Seconds = Number(name, Value()) },
                "--seed" => options with { Seed = (int)Number(name, Value()) },
                "--corpus" => Add(corpora, Value(), options),
                "--no-default-corpus" => options with { UseDefaultCorpus = false },
                "--crashes" => options with { CrashDirectory = Value() },
                "--timeout" => options with { MutantTimeoutSeconds = Number(name, Value()) },
                "--compile-fraction" => options with { CompileFraction = Number(name, Value()) },
                "--max-seed-mb" => options with { MaxSeedBytes = (long)(Number(name, Value()) * (1 << 20)) },
                "--max-mutants" => options with { MaxMutants = (int)Number(name, Value()) },
                "--host" => options with { WorkerHost = Value() },
                "--replay" => options with { ReplayFile = Value() },
                "--worker" => options with { Worker = true },
                "--inject-fault" => options with { InjectFault = Value() },
                _ => throw new FormatException($"unknown option '{name}'"),
            };
        }
        if (target is null) throw new FormatException("--target onnx|tflite is required");
        if (options.Seconds <= 0 || options.MutantTimeoutSeconds <= 0) throw new FormatException("--seconds and --timeout must be positive");
        if (options.CompileFraction is < 0 or > 1) throw new FormatException("--compile-fraction must lie in [0, 1]");
        return options with { CorpusDirectories = corpora };
    }

    private static FuzzOptions Add(List<string> list, string value, FuzzOptions options)
    {
        list.Add(value);
        return options;
    }

    private static FuzzTarget ParseTarget(string value) => value.ToLowerInvariant() switch
    {
        "onnx" => FuzzTarget.Onnx,
        "tflite" => FuzzTarget.TfLite,
        _ => throw new FormatException($"--target must be onnx or tflite, not '{value}'"),
    };

    private static double Number(string name, string value) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var n)
            ? n
            : throw new FormatException($"{name} needs a number, not '{value}'");

    /// <summary>The arguments that start a worker for this run.</summary>
    public IEnumerable<string> WorkerArguments()
    {
        yield return "--worker";
        yield return "--target";
        yield return Target == FuzzTarget.Onnx ? "onnx" : "tflite";
        if (InjectFault is not null)
        {
            yield return "--inject-fault";
            yield return InjectFault;
        }
    }

    /// <summary>File extension of mutants of this target.</summary>
    public string Extension => Target == FuzzTarget.Onnx ? ".onnx" : ".tflite";
}
