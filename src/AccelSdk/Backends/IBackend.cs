using AccelSdk.Ir;
using Microsoft.Extensions.Logging;

namespace AccelSdk.Backends;

/// <summary>Whether a backend can run a node on a device, and if not, why.</summary>
public readonly record struct NodeSupport(bool IsSupported, string? Reason)
{
    /// <summary>Supported.</summary>
    public static NodeSupport Yes { get; } = new(true, null);

    /// <summary>Not supported, with the reason (op, dtype, attribute or shape at fault).</summary>
    public static NodeSupport No(string reason) => new(false, reason);
}

/// <summary>What a backend may look at to decide whether it runs a node.</summary>
/// <param name="Model">The model the node belongs to (opsets, functions).</param>
/// <param name="Types">Known types (element type and shape) of values, by name, from declarations and inference.</param>
public sealed record NodeContext(Model Model, IReadOnlyDictionary<string, Ir.ValueType> Types)
{
    /// <summary>The opset version that governs <paramref name="node"/>.</summary>
    public long OpsetOf(Node node) => Model.OpsetOf(node.Domain) ?? 0;

    /// <summary>The tensor type of a value, or null when unknown or not a tensor.</summary>
    public TensorType? TensorTypeOf(string name) => name.Length > 0 && Types.TryGetValue(name, out var t) ? t as TensorType : null;
}

/// <summary>
/// A named set of compile settings a backend offers for a device (kernel variants: tile sizes, register blocks). The
/// autotuner measures plans with each and keeps the fastest; <see cref="Settings"/> merge into
/// <see cref="CompileOptions.Settings"/>.
/// </summary>
/// <param name="Name">Short name shown in reports (<c>packed</c>, <c>tiled</c>).</param>
/// <param name="Settings">The settings that select it; keys should name the device they apply to.</param>
public sealed record CompileVariant(string Name, IReadOnlyDictionary<string, string> Settings)
{
    /// <summary><paramref name="options"/> with this variant's settings added (they win over equal keys).</summary>
    public CompileOptions ApplyTo(CompileOptions options)
    {
        var merged = new Dictionary<string, string>(options.Settings, StringComparer.Ordinal);
        foreach (var (key, value) in Settings) merged[key] = value;
        return options with { Settings = merged };
    }
}

/// <summary>Options a backend receives when compiling a partition.</summary>
public sealed record CompileOptions
{
    /// <summary>Threads the backend may use inside one operator; 0 lets it decide.</summary>
    public int IntraOpThreads { get; init; }

    /// <summary>Backend-specific settings (for example ORT session config entries).</summary>
    public IReadOnlyDictionary<string, string> Settings { get; init; } = new Dictionary<string, string>();

    /// <summary>
    /// True when other partitions of the same plan run in this process between this partition's runs. Backends
    /// whose worker threads busy-wait after a run (ONNX Runtime's intra-op pool) should then let them sleep, so they
    /// do not steal the cores the next partition needs.
    /// </summary>
    public bool SharesCoresWithOtherPartitions { get; init; }

    /// <summary>
    /// A directory where the backend may persist what compiling a partition produced (ONNX Runtime: the optimised
    /// model in ORT format), keyed by the partition's <see cref="ModelDigest"/>, the runtime version, the device and
    /// the settings, and load it instead of compiling again. Null (default) disables it. The directory should be
    /// specific to this machine (the autotuner puts it next to its per-machine tuning cache): optimised forms may
    /// use the CPU's instruction set. Artefacts are written and loaded only together with <see cref="ArtifactIndex"/>,
    /// which holds their content hashes.
    /// </summary>
    public string? ArtifactCacheDirectory { get; init; }

    /// <summary>
    /// The content hashes of the artefacts in <see cref="ArtifactCacheDirectory"/>: recorded when one is written, checked
    /// before one is loaded. Null (default) disables the artefact cache, since an unchecked file is never loaded.
    /// </summary>
    public IArtifactIndex? ArtifactIndex { get; init; }

    /// <summary>
    /// Where the backend logs warnings about this compile (an artefact it cannot use or write); null: the backend's own
    /// logger. The autotuner passes one per tuning, so each tuning's warnings stay its own.
    /// </summary>
    public ILogger? Logger { get; init; }
}

/// <summary>
/// The backend contract: enumerate devices, answer per node whether it can run it, compile a partition for a
/// device, and move tensors between host and device. Capability queries and partitioning live outside backends.
/// </summary>
public interface IBackend : IDisposable
{
    /// <summary>Short name used on the command line (<c>ort</c>, <c>ilgpu</c>, <c>tflite</c>).</summary>
    string Name { get; }

    /// <summary>Version of the underlying runtime.</summary>
    string Version { get; }

    /// <summary>Every device this backend sees, unavailable ones included with their reason.</summary>
    IReadOnlyList<Device> Devices { get; }

    /// <summary>
    /// True when the backend compiles only whole source models (the model exactly as imported, e.g. TFLite running the
    /// <c>.tflite</c> file it came from): it claims nodes through <see cref="Supports"/> but cannot compile one node or
    /// a cut partition. Planners then offer it whole-model plans only and never profile or place single nodes on it.
    /// </summary>
    bool CompilesWholeSourceModelsOnly => false;

    /// <summary>
    /// Compile variants worth measuring on <paramref name="device"/>, the default first; empty when there is nothing to
    /// choose. A variant that cannot run a given partition fails its compile with a <see cref="BackendException"/>.
    /// </summary>
    IReadOnlyList<CompileVariant> CompileVariants(Device device) => Array.Empty<CompileVariant>();

    /// <summary>Whether <paramref name="node"/> runs correctly on <paramref name="device"/>; must be exact, never optimistic.</summary>
    NodeSupport Supports(Device device, Node node, NodeContext context);

    /// <summary>Compiles a partition (a self-contained model whose inputs and outputs are the cut edges) for a device.</summary>
    ICompiledPartition Compile(Device device, Model partition, CompileOptions options);

    /// <summary>Copies a host tensor onto a device of this backend.</summary>
    DeviceTensor Upload(Device device, AccelTensor host);

    /// <summary>Copies a device tensor of this backend to the host.</summary>
    AccelTensor Download(DeviceTensor tensor);

    /// <summary>
    /// A direct copy path from <paramref name="from"/> (a device of this or another backend, or <see cref="Device.Host"/>)
    /// to <paramref name="to"/> that this backend offers, or null (the default) when values between them are staged
    /// through host memory by <see cref="Download"/> and <see cref="Upload"/>. Planners ask the consumer's backend
    /// first, then the producer's; only asked for devices in different memory spaces.
    /// </summary>
    ITransferPath? TryGetTransfer(Device from, Device to) => null;
}

/// <summary>A partition compiled for one device, ready to run many times.</summary>
public interface ICompiledPartition : IDisposable
{
    /// <summary>The device it runs on.</summary>
    Device Device { get; }

    /// <summary>Inputs in the order <see cref="Run(IReadOnlyList{DeviceTensor})"/> takes them.</summary>
    IReadOnlyList<ValueInfo> Inputs { get; }

    /// <summary>Outputs in the order <see cref="Run(IReadOnlyList{DeviceTensor})"/> returns them.</summary>
    IReadOnlyList<ValueInfo> Outputs { get; }

    /// <summary>Time spent compiling (session creation, kernel JIT), kept apart from run time.</summary>
    TimeSpan CompileTime { get; }

    /// <summary>True when the compiled form was loaded from <see cref="CompileOptions.ArtifactCacheDirectory"/> instead of compiled.</summary>
    bool LoadedFromArtifactCache => false;

    /// <summary>
    /// Runs once. Inputs are on <see cref="Device"/> (or <see cref="HostTensor"/>s when the device is in host memory);
    /// the caller owns the returned tensors.
    /// </summary>
    IReadOnlyList<DeviceTensor> Run(IReadOnlyList<DeviceTensor> inputs);

    /// <summary>
    /// Runs once with per-call options: cancellation, and host buffers for the outputs. A partition that wrote an
    /// output into its buffer returns a <see cref="HostTensor"/> whose <see cref="HostTensor.Value"/> is that very
    /// buffer; the caller copies any other result into the buffer. A cancelled run throws
    /// <see cref="OperationCanceledException"/> and leaves the partition usable. The default checks the token, then
    /// runs <see cref="Run(IReadOnlyList{DeviceTensor})"/>, which cannot be stopped midway.
    /// </summary>
    IReadOnlyList<DeviceTensor> Run(IReadOnlyList<DeviceTensor> inputs, PartitionRunOptions options)
    {
        options.CancellationToken.ThrowIfCancellationRequested();
        return Run(inputs);
    }
}

/// <summary>Per-call options of <see cref="ICompiledPartition.Run(IReadOnlyList{DeviceTensor}, PartitionRunOptions)"/>.</summary>
/// <param name="OutputBuffers">
/// Host tensors to write the outputs into, in <see cref="ICompiledPartition.Outputs"/> order, of the output's element
/// type and shape (checked by the session); a null list or entry lets the partition allocate that output.
/// </param>
/// <param name="CancellationToken">Stops the run as early as the backend can.</param>
public readonly record struct PartitionRunOptions(IReadOnlyList<AccelTensor?>? OutputBuffers, CancellationToken CancellationToken)
{
    /// <summary>
    /// True when the caller reads the outputs only through the backend (<see cref="IBackend.Download"/>, a transfer path,
    /// or another partition on the same device), all of which wait for the device themselves: a backend with an
    /// asynchronous queue may then return before its kernels finish (ILGPU: no wait between consecutive partitions on
    /// one accelerator). False (default): the run has finished when it returns, as a caller timing it expects.
    /// </summary>
    public bool DeferSynchronization { get; init; }

    /// <summary>
    /// Per output, in <see cref="ICompiledPartition.Outputs"/> order: true where the caller reads the output only until it
    /// disposes the returned tensor (another partition of the same run reads it, or nobody does: a skipped output), so
    /// the partition may return memory it allocated once and reuses on later runs, taken back when the tensor is
    /// disposed. False or missing (default): the caller may keep the output's data, which must then be its own.
    /// </summary>
    public IReadOnlyList<bool>? ReusableOutputs { get; init; }

    /// <summary>Whether output <paramref name="index"/> may be returned in reused memory (<see cref="ReusableOutputs"/>).</summary>
    public bool IsReusable(int index) => ReusableOutputs is { } r && index < r.Count && r[index];

    /// <summary>The buffer for output <paramref name="index"/>, or null.</summary>
    public AccelTensor? BufferFor(int index) => OutputBuffers is { } b && index < b.Count ? b[index] : null;
}

/// <summary>
/// Creates a backend for an <see cref="AccelRuntime"/>: added with the backend package's builder extension
/// (<c>AddOnnxRuntime()</c>) or found through <see cref="AccelSdkExtensionAttribute"/>.
/// </summary>
public interface IBackendProvider
{
    /// <summary>Backend name.</summary>
    string Name { get; }

    /// <summary>
    /// Creates the backend; the runtime that asked owns and disposes it. Throws only for programming errors; a missing
    /// runtime yields a backend with no available device.
    /// </summary>
    IBackend Create(BackendContext context);
}

/// <summary>What a runtime hands the backends it creates.</summary>
/// <param name="Logger">Where the backend logs warnings (a device that fails to start, a cache it cannot use).</param>
public sealed record BackendContext(ILogger Logger);
