using AccelSdk.Backends;
using AccelSdk.Ir;
using AccelSdk.Native;
using AccelSdk.Onnx;
using AccelSdk.Onnx.Versioning;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.ML.OnnxRuntime;

[assembly: AccelSdk.AccelSdkExtension(typeof(AccelSdk.OnnxRuntime.OrtBackendProvider))]

namespace AccelSdk.OnnxRuntime;

/// <summary>Creates the ONNX Runtime backend.</summary>
public sealed class OrtBackendProvider : IBackendProvider
{
    /// <inheritdoc />
    public string Name => OrtBackend.BackendName;

    /// <inheritdoc />
    public IBackend Create(BackendContext context) => new OrtBackend(context.Logger);
}

/// <summary>
/// ONNX Runtime as an AccelSdk backend. Each (execution provider, hardware device) pair ONNX Runtime's device API
/// reports is a device: <c>ort-cpu</c> always, <c>ort-cuda:N</c> per GPU with the GPU flavour and a working CUDA,
/// <c>ort-tensorrt:N</c> by start-up probe (see <see cref="ProviderOptionPrefix"/> for provider options). A listed
/// provider that fails to start is reported unavailable with ONNX Runtime's message.
/// </summary>
public sealed partial class OrtBackend : IBackend
{
    /// <summary>The backend name.</summary>
    public const string BackendName = "ort";

    /// <summary>
    /// Compile setting that stops any one run of the partition after this many milliseconds with a
    /// <see cref="BackendException"/> (ONNX Runtime's terminate flag). Unset, runs have no time limit: a valid model
    /// can loop forever (a Loop without trip count whose condition stays true).
    /// </summary>
    public const string RunTimeoutSetting = "ort.run_timeout_ms";

    /// <summary>ORT session config entry that lets intra-op threads busy-wait after a run.</summary>
    internal const string SpinningKey = "session.intra_op.allow_spinning";

    private readonly Device[] _devices;
    private readonly ILogger _logger;

    /// <summary>Enumerates the execution providers of the loaded ONNX Runtime, logging nowhere.</summary>
    public OrtBackend() : this(NullLogger.Instance)
    {
    }

    /// <summary>Enumerates the execution providers of the loaded ONNX Runtime; warnings (a provider that fails to start, a compiled-model cache it cannot use) go to <paramref name="logger"/>.</summary>
    public OrtBackend(ILogger logger)
    {
        _logger = logger;
        var env = CreateEnvironment();
        Version = env.GetVersionString();
        AvailableProviders = env.GetAvailableProviders();
        _devices = DiscoverDevices(env, AvailableProviders);
        _nodeProbe = new NodeProbe(this);
    }

    /// <inheritdoc />
    public string Name => BackendName;

    /// <summary>
    /// ONNX Runtime's own log goes to stderr in colour; AccelSdk already carries every native error in its exceptions
    /// and warnings, so the log is limited to fatal messages unless <c>ACCELSDK_ORT_LOG_LEVEL</c>
    /// (verbose, info, warning, error, fatal) asks for more. An environment created earlier by the application is reused.
    /// </summary>
    private static OrtEnv CreateEnvironment()
    {
        var level = Environment.GetEnvironmentVariable("ACCELSDK_ORT_LOG_LEVEL")?.ToLowerInvariant() switch
        {
            "verbose" => OrtLoggingLevel.ORT_LOGGING_LEVEL_VERBOSE,
            "info" => OrtLoggingLevel.ORT_LOGGING_LEVEL_INFO,
            "warning" => OrtLoggingLevel.ORT_LOGGING_LEVEL_WARNING,
            "error" => OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
            _ => OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL,
        };
        if (OrtEnv.IsCreated) return OrtEnv.Instance();
        try
        {
            var options = new EnvironmentCreationOptions { logId = "AccelSdk", logLevel = level };
            return OrtEnv.CreateInstanceWithOptions(ref options);
        }
        catch (OnnxRuntimeException)
        {
            // Another thread created it between the check and the call.
            return OrtEnv.Instance();
        }
    }

    /// <inheritdoc />
    public string Version { get; }

    /// <summary>Execution providers the loaded ONNX Runtime library lists (not all may start).</summary>
    public IReadOnlyList<string> AvailableProviders { get; }

    /// <inheritdoc />
    public IReadOnlyList<Device> Devices => _devices;

    /// <summary>The CPU execution provider's device.</summary>
    public Device CpuDevice => _devices.First(d => d.Id == "ort-cpu");

    /// <summary>
    /// Device property saying whether the device computes in float16 natively: "yes: ..." or "no: ...". Float16
    /// models only pay where it does (on a CPU without it they ran 0.88-0.96x as fast as float32).
    /// </summary>
    public const string Fp16ArithmeticProperty = "fp16_arithmetic";

    /// <summary>From the CPU flags Linux lists: avx512_fp16 (x86-64) or asimdhp (ARM64) compute in float16; f16c only converts.</summary>
    private static string CpuFp16Arithmetic()
    {
        const string cpuinfo = "/proc/cpuinfo";
        var flags = new HashSet<string>(StringComparer.Ordinal);
        try
        {
            if (File.Exists(cpuinfo))
            {
                foreach (var line in File.ReadLines(cpuinfo).Where(l => l.StartsWith("flags", StringComparison.Ordinal) || l.StartsWith("Features", StringComparison.Ordinal)))
                {
                    flags.UnionWith(line[(line.IndexOf(':') + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries));
                }
            }
        }
        catch (IOException)
        {
            return "no: the CPU flags could not be read";
        }
        if (flags.Contains("avx512_fp16")) return "yes: avx512_fp16";
        if (flags.Contains("asimdhp")) return "yes: asimdhp";
        return flags.Count == 0 ? "no: no CPU flags listed" : $"no: the CPU flags list neither avx512_fp16 nor asimdhp{(flags.Contains("f16c") ? " (f16c only converts)" : "")}";
    }

    /// <summary>What <see cref="Fp16ArithmeticProperty"/> says for a device of <paramref name="kind"/>.</summary>
    private static string Fp16ArithmeticOf(DeviceKind kind) => kind switch
    {
        DeviceKind.Cpu => CpuFp16Arithmetic(),
        DeviceKind.Gpu => "yes: GPU",
        _ => "no: not known for this accelerator",
    };

    internal static string FirstLine(string message)
    {
        var line = message.Split('\n', 2)[0].Trim();
        return line.Length > 400 ? line[..400] + "..." : line;
    }

    internal SessionOptions CreateSessionOptions(Device device, CompileOptions options)
    {
        var so = new SessionOptions();
        try
        {
            if (options.IntraOpThreads > 0) so.IntraOpNumThreads = options.IntraOpThreads;
            // Spinning pool threads would keep the cores busy while the plan's other partitions run.
            if (options.SharesCoresWithOtherPartitions && !options.Settings.ContainsKey(SpinningKey)) so.AddSessionConfigEntry(SpinningKey, "0");
            foreach (var kv in options.Settings)
            {
                if (kv.Key == "ort.graph_optimization_level")
                {
                    so.GraphOptimizationLevel = Enum.Parse<GraphOptimizationLevel>(kv.Value, ignoreCase: true);
                }
                else if (kv.Key.StartsWith("session.", StringComparison.Ordinal))
                {
                    so.AddSessionConfigEntry(kv.Key, kv.Value);
                }
            }
            AppendProvider(so, device, options.Settings);
            return so;
        }
        catch (OnnxRuntimeException e)
        {
            so.Dispose();
            throw new BackendException(Name, $"{device.Id}: {FirstLine(e.Message)}", e);
        }
        catch
        {
            so.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    public ICompiledPartition Compile(Device device, Model partition, CompileOptions options)
    {
        CheckDevice(device);
        partition.Graph.CheckNames(partition.Label);
        foreach (var node in partition.Graph.Nodes)
        {
            if (OmittedVariadicInput(node) is { } omitted) throw new BackendException(Name, $"{partition.Label}: {omitted}");
        }
        if (partition.Graph.FirstNonTensorInputOrOutput() is { } io)
        {
            throw new BackendException(Name, $"{partition.Label}: value '{io.Name}' is a {io.Type}; AccelSdk sessions exchange dense tensors only");
        }
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var runTimeout = RunTimeout(options);
        var usesCustomOps = partition.Graph.Nodes.Any(n => n.Domain == OrtCustomOps.Domain);
        // Custom-op models are not cached: the ORT format keeps no reference to the custom-op library.
        var log = options.Logger ?? _logger;
        var artifact = options is { ArtifactCacheDirectory: { } dir, ArtifactIndex: not null } && !usesCustomOps ? Path.Combine(dir, $"ort-{ArtifactKey(device, partition, options)}.ort") : null;
        if (artifact is not null && TryLoadArtifact(device, partition, options, artifact, watch, runTimeout) is { } cached) return cached;
        var bytes = OnnxExporter.ToBytes(RunnableOpset(partition));
        using var so = CreateSessionOptions(device, options);
        if (so.GraphOptimizationLevel > GraphOptimizationLevel.ORT_ENABLE_BASIC && partition.Graph.Nodes.Any(OmitsLayerNormalizationBias))
        {
            so.GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_BASIC;
        }
        string? temporary = null;
        if (artifact is not null && TryCreateDirectory(log, Path.GetDirectoryName(artifact)!))
        {
            temporary = $"{artifact}.{Environment.ProcessId}.{Environment.CurrentManagedThreadId}.tmp";
            so.OptimizedModelFilePath = temporary;
            so.AddSessionConfigEntry("session.save_model_format", "ORT");
        }
        InferenceSession session;
        try
        {
            // The custom-op library is loaded only for partitions that use its domain.
            if (usesCustomOps) so.RegisterCustomOpLibrary(OrtCustomOps.LibraryPath);
            session = new InferenceSession(bytes, so);
        }
        catch (OnnxRuntimeException e)
        {
            if (temporary is not null) File.Delete(temporary);
            throw new BackendException(Name, $"{partition.Label} on {device.Id}: {FirstLine(e.Message)}", e);
        }
        if (FirstUnusableValue(session, partition) is { } value)
        {
            // A value declared without a type (or not declared) can still be a sequence or optional to ONNX Runtime;
            // handing such outputs back crashed the process (SIGSEGV) for an If returning an empty optional.
            session.Dispose();
            if (temporary is not null) TryDelete(log, temporary);
            throw new BackendException(Name, $"{partition.Label} on {device.Id}: {value}; AccelSdk sessions exchange dense tensors only");
        }
        if (temporary is not null) PublishArtifact(log, temporary, artifact!, options.ArtifactIndex!);
        return new OrtPartition(device, session, partition, watch.Elapsed, runTimeout: runTimeout, deviceMemory: DeviceMemoryOf(device), deviceAllocator: () => AllocatorOf(device));
    }

    /// <summary>
    /// ONNX Runtime has no kernels before opset 7: an older partition is handed over upgraded to opset 7 (a copy, op by
    /// op); one that cannot be upgraded is a <see cref="BackendException"/> naming the node.
    /// </summary>
    internal Model RunnableOpset(Model partition)
    {
        if (partition.OpsetOf("") is not { } opset || opset >= OpsetUpgrader.OnnxRuntimeMinimum) return partition;
        try
        {
            return OpsetUpgrader.Upgraded(partition, OpsetUpgrader.OnnxRuntimeMinimum);
        }
        catch (OpsetUpgradeException e)
        {
            throw new BackendException(Name, $"ONNX Runtime runs opset {OpsetUpgrader.OnnxRuntimeMinimum} and later; {e.Message}", e);
        }
    }

    private TimeSpan? RunTimeout(CompileOptions options)
    {
        if (!options.Settings.TryGetValue(RunTimeoutSetting, out var text)) return null;
        return long.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var ms) && ms > 0
            ? TimeSpan.FromMilliseconds(ms)
            : throw new BackendException(Name, $"{RunTimeoutSetting}='{text}' is not a positive number of milliseconds");
    }

    private static string? FirstUnusableValue(InferenceSession session, Model partition)
    {
        // ONNX Runtime keeps names as C strings: one with a NUL in it (a hostile .tflite's garbled tensor name) comes
        // back cut short, and the declared output could not be found among the session's.
        foreach (var output in partition.Graph.Outputs)
        {
            if (!session.OutputMetadata.ContainsKey(output.Name)) return $"output '{output.Name.ReplaceLineEndings(" ")}' is not among the session's outputs (a name ONNX Runtime cannot keep as it is)";
        }
        foreach (var (name, meta) in session.InputMetadata)
        {
            if (!meta.IsTensor) return $"input '{name}' is a {meta.OnnxValueType} to ONNX Runtime";
        }
        foreach (var (name, meta) in session.OutputMetadata)
        {
            if (!meta.IsTensor) return $"output '{name}' is a {meta.OnnxValueType} to ONNX Runtime";
        }
        return null;
    }

    /// <summary>
    /// The artefact key: the partition's content digest, the ONNX Runtime version, the device, and the settings that
    /// change the optimised graph (thread counts, spinning and the run time limit only change how it runs, so they are left out).
    /// </summary>
    private string ArtifactKey(Device device, Model partition, CompileOptions options)
    {
        var settings = string.Join(";", options.Settings.Where(kv => kv.Key != SpinningKey && kv.Key != RunTimeoutSetting).OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => kv.Key + "=" + kv.Value));
        var text = $"{ModelDigest.Of(partition)}|ort {Version}|{device.Id}|{settings}";
        return Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text)))[..32];
    }

    /// <summary>
    /// Loads a saved optimised model: graph optimisations were applied when it was saved, so they are off here, and
    /// ONNX Runtime reads the model straight from a pinned buffer the partition keeps alive (initializers are still
    /// copied into its own aligned buffers and pre-packed). Only a file whose bytes hash to what the index recorded when
    /// it was saved is loaded: ONNX Runtime loads a file with overwritten weights without complaint and computes wrong
    /// answers from it. A file not recorded, modified or unloadable is deleted with a warning and the partition is
    /// compiled afresh.
    /// </summary>
    private OrtPartition? TryLoadArtifact(Device device, Model partition, CompileOptions options, string artifact, System.Diagnostics.Stopwatch watch, TimeSpan? runTimeout)
    {
        var log = options.Logger ?? _logger;
        var index = options.ArtifactIndex!;
        var fileName = Path.GetFileName(artifact);
        if (index.Find(fileName) is not { } recorded)
        {
            if (File.Exists(artifact)) DiscardArtifact(log, artifact, index, $"is not recorded in the cache index (no content hash to check it against); it is deleted and {partition.Label} compiled afresh");
            return null;
        }
        byte[] bytes;
        string contentHash;
        try
        {
            (bytes, contentHash) = ArtifactBytes.Read(artifact);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            index.Forget(fileName);
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            DiscardArtifact(log, artifact, index, $"is unreadable ({e.Message}); it is deleted and {partition.Label} compiled afresh");
            return null;
        }
        if (contentHash != recorded.ContentHash || bytes.LongLength != recorded.Bytes)
        {
            DiscardArtifact(log, artifact, index, $"has content hash {contentHash} ({bytes.LongLength} bytes), not the {recorded.ContentHash} ({recorded.Bytes} bytes) " +
                $"recorded when it was saved: it was modified since; it is deleted and {partition.Label} compiled afresh");
            return null;
        }
        using var so = CreateSessionOptions(device, options);
        so.GraphOptimizationLevel = GraphOptimizationLevel.ORT_DISABLE_ALL;
        so.AddSessionConfigEntry("session.load_model_format", "ORT");
        so.AddSessionConfigEntry("session.use_ort_model_bytes_directly", "1");
        // Not session.use_ort_model_bytes_for_initializers: it would save ~25 ms more on ResNet18's load, but sessions
        // made with it ran 5-19% slower than freshly compiled ones (bench -- reselect, interleaved runs).
        try
        {
            var session = new InferenceSession(bytes, so);
            return new OrtPartition(device, session, partition, watch.Elapsed, bytes, runTimeout, DeviceMemoryOf(device), () => AllocatorOf(device));
        }
        catch (OnnxRuntimeException e)
        {
            DiscardArtifact(log, artifact, index, $"is not a loadable ORT model ({FirstLine(e.Message)}); it is deleted and {partition.Label} compiled afresh");
            return null;
        }
    }

    private static void DiscardArtifact(ILogger log, string artifact, IArtifactIndex index, string problem)
    {
        log.LogWarning("{Warning}", $"compiled-model cache {artifact} {problem}");
        ArtifactBytes.Forget(artifact);
        index.Forget(Path.GetFileName(artifact));
        TryDelete(log, artifact);
    }

    /// <summary>Moves ONNX Runtime's saved model into place and records its content hash in the index.</summary>
    private static void PublishArtifact(ILogger log, string temporary, string artifact, IArtifactIndex index)
    {
        try
        {
            if (!File.Exists(temporary)) return;
            var record = new ArtifactRecord(ArtifactBytes.ContentHashOfFile(temporary), new FileInfo(temporary).Length);
            File.Move(temporary, artifact, overwrite: true);
            index.Record(Path.GetFileName(artifact), record);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            log.LogWarning("{Warning}", $"compiled-model cache {artifact} could not be written: {e.Message}");
            TryDelete(log, temporary);
        }
    }

    private static bool TryCreateDirectory(ILogger log, string directory)
    {
        try
        {
            Directory.CreateDirectory(directory);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            log.LogWarning("{Warning}", $"compiled-model cache directory {directory} cannot be created ({e.Message}); compiling without it");
            return false;
        }
    }

    private static void TryDelete(ILogger log, string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            log.LogWarning("{Warning}", $"could not delete {path}: {e.Message}");
        }
    }

    /// <inheritdoc />
    public DeviceTensor Upload(Device device, AccelTensor host)
    {
        CheckDevice(device);
        return device.MemorySpace.IsHost ? new HostTensor(host) : UploadToDevice(device, host);
    }

    /// <inheritdoc />
    public AccelTensor Download(DeviceTensor tensor) => tensor switch
    {
        HostTensor h => h.Value,
        OrtDeviceTensor d => DownloadFromDevice(d),
        _ => throw new BackendException(Name, $"tensor on {tensor.Device.Id} is not an ONNX Runtime tensor"),
    };

    private void CheckDevice(Device device)
    {
        if (device.Backend != Name || Array.IndexOf(_devices, device) < 0)
        {
            throw new BackendException(Name, $"device {device.Id} does not belong to ONNX Runtime");
        }
        if (!device.IsAvailable) throw new BackendException(Name, $"device {device.Id} is unavailable: {device.UnavailableReason}");
    }

    /// <inheritdoc />
    public void Dispose()
    {
    }
}
