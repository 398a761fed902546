using System.Diagnostics;
using System.Text.Json.Nodes;
using AccelSdk.Autotune;
using AccelSdk.Backends;
using AccelSdk.Ilgpu;

namespace AccelSdk.GpuCheck;

/// <summary>What the stages share: the options, the devices compared, the PyTorch anchors and the tuning results.</summary>
internal sealed class CheckContext(CheckOptions options)
{
    /// <summary>The CPU reference every ILGPU figure is compared with.</summary>
    public const string OrtCpu = "ort-cpu";

    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly Lazy<JsonObject?> _anchors = new(() => ReadAnchors(options.TorchAnchors));

    public CheckOptions Options { get; } = options;

    public TimeSpan Elapsed => _clock.Elapsed;

    /// <summary>The ILGPU device under test; throws <see cref="AccelSdkException"/> with the device's reason when unavailable.</summary>
    public (IlgpuBackend Backend, Device Device) Device
    {
        get
        {
            var (backend, device) = GpuCheckRuntime.Instance.Resolve(Options.Device);
            return backend as IlgpuBackend is { } ilgpu
                ? (ilgpu, device)
                : throw new AccelSdkException($"{Options.Device} is a {backend.Name} device; the check runs ILGPU devices (ilgpu-cuda:0, ilgpu-cpu)");
        }
    }

    public DeviceTarget Reference => GpuCheckRuntime.Instance.Resolve(OrtCpu);

    /// <summary>PyTorch's figures from the same machine and run (null when the anchors were not run).</summary>
    public JsonObject? TorchAnchors => _anchors.Value;

    /// <summary>Whole-model medians (device under test, ort-cpu) by model path from the latency stage.</summary>
    public Dictionary<string, (double DeviceMs, double CpuMs)> WholeModelMs { get; } = new(StringComparer.Ordinal);

    /// <summary>Latency tunings by model path, kept for the throughput stage.</summary>
    public Dictionary<string, AutotuneResult> Tunings { get; } = new(StringComparer.Ordinal);

    public string PathInOutput(params string[] parts) => Path.Combine(new[] { Options.OutputDirectory }.Concat(parts).ToArray());

    public void Log(string message) => Console.Error.WriteLine($"[gpu-check {Elapsed.TotalSeconds,6:F1}s] {message}");

    /// <summary>A PyTorch anchor figure by JSON path (<c>matmul_gflops/1024</c>), or null.</summary>
    public double? Anchor(string path)
    {
        JsonNode? node = TorchAnchors;
        foreach (var part in path.Split('/')) node = node?[part];
        return node is JsonValue value && value.TryGetValue<double>(out var d) ? d : null;
    }

    private static JsonObject? ReadAnchors(string? path)
    {
        if (path is null || !File.Exists(path)) return null;
        try
        {
            return JsonNode.Parse(File.ReadAllText(path)) as JsonObject;
        }
        catch (System.Text.Json.JsonException e)
        {
            throw new AccelSdkException($"{path}: not the JSON torch_anchors.py writes: {e.Message}");
        }
    }
}
