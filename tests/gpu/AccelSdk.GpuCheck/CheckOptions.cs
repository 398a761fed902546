using System.Globalization;

namespace AccelSdk.GpuCheck;

/// <summary>A command line the runner cannot use; exits with code 2 and the usage text.</summary>
internal sealed class UsageException(string message) : Exception(message);

/// <summary>What <c>AccelSdk.GpuCheck run</c> was asked to do.</summary>
internal sealed record CheckOptions
{
    public static readonly IReadOnlyList<string> AllStages = new[] { "devices", "agreement", "conformance", "matmul", "latency", "autotune", "throughput", "direct-paths" };

    public required string OutputDirectory { get; init; }

    /// <summary>The ILGPU device under test: <c>ilgpu-cuda:0</c> on the GPU machine, <c>ilgpu-cpu</c> in a rehearsal.</summary>
    public required string Device { get; init; }

    /// <summary>Folder holding the ONNX backend suite's <c>node/</c> cases (only the claimed ones need be there).</summary>
    public string? OnnxData { get; init; }

    public string? ExpectedFailures { get; init; }

    public string? ResNet18 { get; init; }

    public IReadOnlyList<string> BlazeFace { get; init; } = Array.Empty<string>();

    public IReadOnlyList<int> MatMulSizes { get; init; } = new[] { 1024, 2048, 4096 };

    /// <summary>Timed runs per measurement (medians are reported).</summary>
    public int Runs { get; init; } = 9;

    /// <summary>Inputs per <c>RunMany</c> stream in the throughput stage.</summary>
    public int StreamItems { get; init; } = 32;

    /// <summary>Seconds after which no further stage starts (0: no limit); a running stage is not interrupted.</summary>
    public double BudgetSeconds { get; init; }

    /// <summary>Folder with <c>nvidia-smi.csv</c> and <c>nvidia-smi.txt</c> written by run-on-gpu.sh.</summary>
    public string? NvidiaSmi { get; init; }

    /// <summary>The JSON written by <c>tests/gpu/torch_anchors.py</c>.</summary>
    public string? TorchAnchors { get; init; }

    public IReadOnlyList<string> Stages { get; init; } = AllStages;

    /// <summary>The models the agreement and latency stages run, ResNet18 first.</summary>
    public IReadOnlyList<string> Models => (ResNet18 is null ? Array.Empty<string>() : new[] { ResNet18 }).Concat(BlazeFace).ToArray();

    /// <summary>The models autotuned: ResNet18 and the first BlazeFace.</summary>
    public IReadOnlyList<string> TunedModels => (ResNet18 is null ? Array.Empty<string>() : new[] { ResNet18 }).Concat(BlazeFace.Take(1)).ToArray();

    public static CheckOptions Parse(IReadOnlyList<string> args)
    {
        var values = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        for (var i = 0; i < args.Count; i++)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Count) throw new UsageException($"expected --option VALUE, not '{args[i]}'");
            var name = args[i][2..];
            if (!Known.Contains(name)) throw new UsageException($"unknown option --{name}");
            if (!values.TryGetValue(name, out var list)) values[name] = list = new List<string>();
            list.Add(args[++i]);
        }
        string? One(string name) => values.TryGetValue(name, out var v) ? v[^1] : null;
        string Required(string name) => One(name) ?? throw new UsageException($"run needs --{name}");
        var stages = One("stages")?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) ?? AllStages.ToArray();
        var unknown = stages.Where(s => !AllStages.Contains(s)).ToArray();
        if (unknown.Length > 0) throw new UsageException($"unknown stage(s) {string.Join(", ", unknown)} (known: {string.Join(", ", AllStages)})");
        return new CheckOptions
        {
            OutputDirectory = Required("out"),
            Device = Required("device"),
            OnnxData = One("onnx-data"),
            ExpectedFailures = One("expected"),
            ResNet18 = One("resnet18"),
            BlazeFace = values.GetValueOrDefault("blazeface") ?? new List<string>(),
            MatMulSizes = One("sizes") is { } sizes ? sizes.Split(',').Select(s => PositiveInt("sizes", s)).ToArray() : new[] { 1024, 2048, 4096 },
            Runs = One("runs") is { } runs ? PositiveInt("runs", runs) : 9,
            StreamItems = One("items") is { } items ? PositiveInt("items", items) : 32,
            BudgetSeconds = One("budget-s") is { } budget ? (budget == "0" ? 0 : PositiveInt("budget-s", budget)) : 0,
            NvidiaSmi = One("nvidia-smi"),
            TorchAnchors = One("torch-anchors"),
            Stages = AllStages.Where(stages.Contains).ToArray(),
        };
    }

    private static readonly HashSet<string> Known = new(StringComparer.Ordinal)
    {
        "out", "device", "onnx-data", "expected", "resnet18", "blazeface", "sizes", "runs", "items", "budget-s", "nvidia-smi", "torch-anchors", "stages",
    };

    private static int PositiveInt(string option, string text) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0
            ? n
            : throw new UsageException($"--{option} takes positive integers, not '{text}'");
}
