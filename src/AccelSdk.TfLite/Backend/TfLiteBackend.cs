using System.Diagnostics;
using System.Runtime.InteropServices;
using AccelSdk.Backends;
using AccelSdk.Ir;
using AccelSdk.TfLite.Import;
using AccelSdk.TfLite.Native;

[assembly: AccelSdk.AccelSdkExtension(typeof(AccelSdk.TfLite.TfLiteBackendProvider))]
[assembly: AccelSdk.AccelSdkExtension(typeof(AccelSdk.TfLite.TfLiteModelFormat))]

namespace AccelSdk.TfLite;

/// <summary>Creates the <c>tflite</c> backend.</summary>
public sealed class TfLiteBackendProvider : IBackendProvider
{
    /// <inheritdoc />
    public string Name => TfLiteBackend.BackendName;

    /// <inheritdoc />
    public IBackend Create(BackendContext context) => new TfLiteBackend();
}

/// <summary>
/// Runs models on the TensorFlow Lite runtime (device <c>tflite-cpu</c>). TFLite executes flatbuffers, not IR graphs,
/// so this backend runs models imported from a <c>.tflite</c> file whole, by running that file; a partition cut out of
/// such a model, or a model from another format, is refused with the reason. Without a TFLite library the device is
/// listed as unavailable with every path tried.
/// </summary>
public sealed class TfLiteBackend : IBackend
{
    /// <summary>The backend name.</summary>
    public const string BackendName = "tflite";

    /// <summary>The CPU device id.</summary>
    public const string CpuDeviceId = "tflite-cpu";

    private readonly Device[] _devices;

    /// <summary>Probes the TFLite library.</summary>
    public TfLiteBackend()
    {
        var properties = new Dictionary<string, string>();
        if (TfLiteLibrary.IsAvailable)
        {
            Version = RuntimeVersion();
            properties["library"] = TfLiteLibrary.LoadedFrom ?? "";
            properties["version"] = Version;
            properties["xnnpack"] = TfLiteLibrary.HasXnnPack ? "available" : "absent from this build";
            _devices = new[] { new Device(BackendName, CpuDeviceId, "TensorFlow Lite CPU", DeviceKind.Cpu) { Properties = properties } };
        }
        else
        {
            Version = "unavailable";
            _devices = new[]
            {
                new Device(BackendName, CpuDeviceId, "TensorFlow Lite CPU", DeviceKind.Cpu)
                {
                    IsAvailable = false,
                    UnavailableReason = TfLiteLibrary.Failure,
                },
            };
        }
    }

    /// <inheritdoc />
    public string Name => BackendName;

    /// <inheritdoc />
    public string Version { get; }

    /// <inheritdoc />
    public IReadOnlyList<Device> Devices => _devices;

    /// <inheritdoc />
    public bool CompilesWholeSourceModelsOnly => true;

    /// <summary>The compile setting that applies the XNNPACK delegate (<c>true</c>) or not.</summary>
    public const string XnnPackSetting = "tflite.xnnpack";

    /// <summary>
    /// With a library that has XNNPACK: <c>builtin</c> (TFLite's own kernels, the default) and <c>xnnpack</c> (the
    /// XNNPACK delegate with the same thread count), so the autotuner measures both; otherwise none.
    /// </summary>
    public IReadOnlyList<CompileVariant> CompileVariants(Device device) =>
        device.IsAvailable && TfLiteLibrary.HasXnnPack
            ? new[]
            {
                new CompileVariant("builtin", new Dictionary<string, string> { [XnnPackSetting] = "false" }),
                new CompileVariant("xnnpack", new Dictionary<string, string> { [XnnPackSetting] = "true" }),
            }
            : Array.Empty<CompileVariant>();

    private static unsafe string RuntimeVersion() => Marshal.PtrToStringUTF8((nint)TfLiteNative.TfLiteVersion()) ?? "?";

    /// <inheritdoc />
    public NodeSupport Supports(Device device, Node node, NodeContext context)
    {
        if (!device.IsAvailable) return NodeSupport.No($"{device.Id} is unavailable: {device.UnavailableReason}");
        if (SourceOf(context.Model) is null) return NodeSupport.No("TFLite runs .tflite files: only models imported from a .tflite file run on this backend");
        return TfLiteImporter.StateVariables(context.Model).Count > 0 ? NodeSupport.No(StatefulReason) : NodeSupport.Yes;
    }

    // The import turns resource variables into graph inputs/outputs; TFLite keeps them inside its interpreter, where the
    // C API can neither set nor read them, so it cannot honour a graph that passes state in and out.
    private const string StatefulReason =
        "the imported graph passes its resource-variable state in and out (run it with StatefulSession on another backend); " +
        "TFLite keeps that state inside its interpreter: run the .tflite file with LiteInterpreter";

    internal static string? SourceOf(Model model)
    {
        foreach (var kv in model.MetadataProps)
        {
            if (kv.Key == TfLiteImporter.SourceMetadataKey) return kv.Value;
        }
        return null;
    }

    /// <inheritdoc />
    public ICompiledPartition Compile(Device device, Model partition, CompileOptions options)
    {
        if (!device.IsAvailable) throw new BackendException(BackendName, $"{device.Id} is unavailable: {device.UnavailableReason}");
        var source = SourceOf(partition)
            ?? throw new BackendException(BackendName, $"{partition.Label}: TFLite runs whole models imported from a .tflite file; this partition is not one (cut partitions carry no source file)");
        if (TfLiteImporter.StateVariables(partition).Count > 0) throw new BackendException(BackendName, $"{partition.Label}: {StatefulReason}");
        var expectedNodes = partition.MetadataProps.FirstOrDefault(kv => kv.Key == TfLiteImporter.NodeCountMetadataKey).Value;
        if (expectedNodes is not null && expectedNodes != partition.Graph.Nodes.Count.ToString(System.Globalization.CultureInfo.InvariantCulture))
        {
            throw new BackendException(BackendName, $"{partition.Label}: the partition holds {partition.Graph.Nodes.Count} of the {expectedNodes} imported nodes; TFLite runs whole models only");
        }
        var watch = Stopwatch.StartNew();
        var threads = options.IntraOpThreads;
        if (options.Settings.TryGetValue("tflite.threads", out var t) && int.TryParse(t, out var parsed)) threads = parsed;
        var model = LiteModel.FromFile(source);
        try
        {
            var interpreter = new LiteInterpreter(model, new LiteInterpreterOptions
            {
                Threads = threads,
                UseXnnPack = UsesXnnPack(options),
                MediaPipeCustomOps = true,
            });
            return new TfLitePartition(device, partition, model, interpreter, watch.Elapsed);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    private static bool UsesXnnPack(CompileOptions options) => options.Settings.TryGetValue(XnnPackSetting, out var value) switch
    {
        false => false,
        true when value is "true" => true,
        true when value is "false" => false,
        _ => throw new BackendException(BackendName, $"compile setting {XnnPackSetting}='{value}' is neither 'true' nor 'false'"),
    };

    /// <inheritdoc />
    public DeviceTensor Upload(Device device, AccelTensor host) => new HostTensor(host);

    /// <inheritdoc />
    public AccelTensor Download(DeviceTensor tensor) => tensor is HostTensor h
        ? h.Value
        : throw new BackendException(BackendName, $"tensor on {tensor.Device.Id} is not a host tensor");

    /// <inheritdoc />
    public void Dispose()
    {
    }
}

/// <summary>A whole imported model compiled as one TFLite interpreter.</summary>
internal sealed class TfLitePartition : ICompiledPartition
{
    private readonly LiteModel _model;
    private readonly LiteInterpreter _interpreter;
    private readonly int[] _inputOrder;
    private readonly int[] _outputOrder;

    public TfLitePartition(Device device, Model partition, LiteModel model, LiteInterpreter interpreter, TimeSpan compileTime)
    {
        Device = device;
        _model = model;
        _interpreter = interpreter;
        CompileTime = compileTime;
        Inputs = partition.Graph.RequiredInputs.ToArray();
        Outputs = partition.Graph.Outputs.ToArray();
        // The importer names graph values after TFLite tensors and keeps their order, so positions map one to one.
        var liteInputs = interpreter.Inputs;
        var liteOutputs = interpreter.Outputs;
        if (liteInputs.Count != Inputs.Count || liteOutputs.Count != Outputs.Count)
        {
            throw new BackendException(TfLiteBackend.BackendName,
                $"{partition.Label}: the graph has {Inputs.Count} inputs and {Outputs.Count} outputs but the .tflite file has {liteInputs.Count} and {liteOutputs.Count}");
        }
        _inputOrder = Enumerable.Range(0, Inputs.Count).ToArray();
        _outputOrder = Enumerable.Range(0, Outputs.Count).ToArray();
    }

    public Device Device { get; }

    public IReadOnlyList<ValueInfo> Inputs { get; }

    public IReadOnlyList<ValueInfo> Outputs { get; }

    public TimeSpan CompileTime { get; }

    public IReadOnlyList<DeviceTensor> Run(IReadOnlyList<DeviceTensor> inputs) => Run(inputs, default);

    /// <summary>
    /// Runs once; outputs with a buffer are copied from TFLite's output tensors straight into it. TFLite 2.14's C API
    /// cannot stop an invoke in progress, so the token is checked only before the run starts.
    /// </summary>
    public IReadOnlyList<DeviceTensor> Run(IReadOnlyList<DeviceTensor> inputs, PartitionRunOptions options)
    {
        if (inputs is null) throw new InputMismatchException("(all)", "the input list is null");
        options.CancellationToken.ThrowIfCancellationRequested();
        var hostInputs = new AccelTensor[inputs.Count];
        for (var i = 0; i < inputs.Count; i++)
        {
            hostInputs[_inputOrder[i]] = inputs[i] switch
            {
                HostTensor h => h.Value,
                null => throw new InputMismatchException(i < Inputs.Count ? Inputs[i].Name : $"#{i}", "is null"),
                var other => throw new BackendException(TfLiteBackend.BackendName, $"input '{Inputs[i].Name}' is on {other.Device.Id}, not in host memory"),
            };
        }
        var buffers = options.OutputBuffers is null ? null : new AccelTensor?[Outputs.Count];
        for (var i = 0; buffers is not null && i < buffers.Length; i++) buffers[_outputOrder[i]] = options.BufferFor(i);
        var outputs = _interpreter.Run(hostInputs, buffers);
        var result = new DeviceTensor[outputs.Length];
        for (var i = 0; i < outputs.Length; i++)
        {
            var output = outputs[_outputOrder[i]];
            // A caller's buffer goes back as itself, so the session sees it was filled in place.
            result[i] = new HostTensor(options.BufferFor(i) is { } buffer && ReferenceEquals(output, buffer) ? output : output.WithName(Outputs[i].Name));
        }
        return result;
    }

    public void Dispose()
    {
        _interpreter.Dispose();
        _model.Dispose();
    }
}
