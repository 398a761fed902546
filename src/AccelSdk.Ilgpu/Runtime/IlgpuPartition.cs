using System.Diagnostics;
using AccelSdk.Backends;
using AccelSdk.Ilgpu.Ops;
using AccelSdk.Ir;

namespace AccelSdk.Ilgpu.Runtime;

/// <summary>
/// A partition compiled for one ILGPU accelerator: initializers uploaded once, every kernel the nodes need compiled
/// up front (so <see cref="CompileTime"/> holds ILGPU's JIT cost), then each run walks the nodes in order keeping all
/// intermediate values in accelerator buffers and returning each to the pool after its last reader.
/// </summary>
internal sealed class IlgpuPartition : ICompiledPartition
{
    private readonly IlgpuDeviceSlot _slot;
    private readonly Model _model;
    private readonly Dictionary<string, IlgpuTensor> _constants = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _lastUse = new(StringComparer.Ordinal);
    private readonly HashSet<string> _outputNames;
    private readonly long _opset;
    private bool _disposed;

    public IlgpuPartition(IlgpuDeviceSlot slot, Model model, CompileOptions options)
    {
        var watch = Stopwatch.StartNew();
        _slot = slot;
        _model = model;
        _opset = model.OpsetOf("") ?? 0;
        MatMul = ChooseMatMul(slot, options);
        var graph = model.Graph;
        Inputs = graph.RequiredInputs.ToArray();
        Outputs = graph.Outputs.ToArray();
        _outputNames = Outputs.Select(o => o.Name).ToHashSet(StringComparer.Ordinal);
        try
        {
            foreach (var init in graph.Initializers) _constants[init.Name!] = slot.Upload(init);
            for (var i = 0; i < graph.Nodes.Count; i++)
            {
                foreach (var input in graph.Nodes[i].Inputs)
                {
                    if (input.Length > 0) _lastUse[input] = i;
                }
            }
            var before = slot.Kernels.TotalCompileTime;
            foreach (var node in graph.Nodes) OpRegistry.Prepare(new OpContext(slot, node, _opset, MatMul));
            if (graph.Nodes.Count > 0 && ShapeInference.Infer(model).Values.Any(t => t is TensorType { ElementType: ElementType.Float16 }))
            {
                OpRegistry.PrepareHalf(new OpContext(slot, graph.Nodes[0], _opset, MatMul));
            }
            KernelCompileTime = slot.Kernels.TotalCompileTime - before;
        }
        catch (Exception e) when (e is not AccelSdkException && e is not OutOfMemoryException)
        {
            foreach (var c in _constants.Values) c.Dispose();
            throw new BackendException(IlgpuBackend.BackendName, $"{model.Label}: compiling kernels for {slot.Device.Id} failed: {e.Message}", e);
        }
        catch
        {
            foreach (var c in _constants.Values) c.Dispose();
            throw;
        }
        CompileTime = watch.Elapsed;
    }

    public Device Device => _slot.Device;

    /// <summary>The MatMul kernel variant of this partition.</summary>
    public MatMulVariant MatMul { get; }

    /// <summary>The setting that selects the MatMul variant; <c>ilgpu.matmul@DEVICE</c> applies to one device and wins.</summary>
    public const string MatMulSetting = "ilgpu.matmul";

    /// <summary>The setting key that selects the MatMul variant on one device only.</summary>
    public static string MatMulSettingFor(Device device) => MatMulSetting + "@" + device.Id;

    /// <summary>The variant a partition gets when no setting names one: tiled on GPUs, packed on ILGPU's CPU accelerator, else blocked.</summary>
    internal static MatMulVariant DefaultMatMul(IlgpuDeviceSlot slot) =>
        !slot.IsCpu ? MatMulVariant.Tiled : slot.IsCpuAccelerator ? MatMulVariant.Packed : MatMulVariant.Blocked;

    /// <summary>Why <paramref name="slot"/> cannot run <paramref name="variant"/>, or null when it can.</summary>
    internal static string? CannotRun(IlgpuDeviceSlot slot, MatMulVariant variant) => variant switch
    {
        MatMulVariant.Packed when !slot.IsCpuAccelerator =>
            $"{slot.Device.Id}: the packed MatMul addresses host memory directly and runs only on ILGPU's CPU accelerator",
        MatMulVariant.Tiled when slot.Accelerator.MaxNumThreadsPerGroup < TiledMatMulThreads =>
            $"{slot.Device.Id}: the tiled MatMul needs groups of {TiledMatMulThreads} threads; this accelerator allows {slot.Accelerator.MaxNumThreadsPerGroup}",
        _ => null,
    };

    private static MatMulVariant ChooseMatMul(IlgpuDeviceSlot slot, CompileOptions options)
    {
        if (!options.Settings.TryGetValue(MatMulSettingFor(slot.Device), out var value) && !options.Settings.TryGetValue(MatMulSetting, out value))
        {
            return DefaultMatMul(slot);
        }
        var variant = value switch
        {
            "blocked" => MatMulVariant.Blocked,
            "packed" => MatMulVariant.Packed,
            "tiled" => MatMulVariant.Tiled,
            _ => throw new BackendException(IlgpuBackend.BackendName, $"{MatMulSetting}='{value}' is not a MatMul variant (packed, blocked, tiled)"),
        };
        return CannotRun(slot, variant) is { } why ? throw new BackendException(IlgpuBackend.BackendName, why) : variant;
    }

    private const int TiledMatMulThreads = Kernels.TiledMatMulKernels.Threads * Kernels.TiledMatMulKernels.Threads;

    public IReadOnlyList<ValueInfo> Inputs { get; }

    public IReadOnlyList<ValueInfo> Outputs { get; }

    public TimeSpan CompileTime { get; }

    /// <summary>Part of <see cref="CompileTime"/> spent compiling kernels this accelerator had not compiled before.</summary>
    public TimeSpan KernelCompileTime { get; }

    /// <summary>When set, each run synchronises after every node and records its time here (profiling only).</summary>
    internal List<(Node Node, TimeSpan Time)>? NodeTimes { get; set; }

    public IReadOnlyList<DeviceTensor> Run(IReadOnlyList<DeviceTensor> inputs) => Run(inputs, default);

    /// <summary>
    /// Runs once. The token is checked before each kernel launch (a launched kernel runs to its end; on a GPU a
    /// cancellable run waits for its queue every <see cref="CancellableQueueDepth"/> kernels); outputs with a buffer are
    /// downloaded straight into it. The run waits for the accelerator at its end unless
    /// <see cref="PartitionRunOptions.DeferSynchronization"/> says its outputs stay in the accelerator's queue.
    /// </summary>
    public IReadOnlyList<DeviceTensor> Run(IReadOnlyList<DeviceTensor> inputs, PartitionRunOptions options)
    {
        var cancellationToken = options.CancellationToken;
        ArgumentNullException.ThrowIfNull(inputs);
        if (inputs.Count != Inputs.Count)
        {
            throw new InputMismatchException(inputs.Count < Inputs.Count ? Inputs[inputs.Count].Name : $"#{inputs.Count}",
                $"{_model.Label} on {Device.Id} takes {Inputs.Count} input(s), {inputs.Count} given");
        }
        var values = new Dictionary<string, IlgpuTensor>(StringComparer.Ordinal);
        var owned = new HashSet<IlgpuTensor>();
        var result = new List<DeviceTensor>();
        lock (_slot.Gate)
        {
            // Dispose takes the same lock, so the constants cannot be freed under a run.
            ObjectDisposedException.ThrowIf(_disposed, this);
            for (var i = 0; i < inputs.Count; i++)
            {
                if (inputs[i] is null) throw new ArgumentNullException(nameof(inputs), $"input '{Inputs[i].Name}' is null");
            }
            try
            {
                for (var i = 0; i < inputs.Count; i++) values[Inputs[i].Name] = Adopt(inputs[i], Inputs[i].Name, owned);
                var nodes = _model.Graph.Nodes;
                for (var n = 0; n < nodes.Count; n++)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    var node = nodes[n];
                    var args = new IlgpuTensor?[node.Inputs.Count];
                    for (var i = 0; i < args.Length; i++)
                    {
                        var name = node.Inputs[i];
                        if (name.Length == 0) continue;
                        if (values.TryGetValue(name, out var v) || _constants.TryGetValue(name, out v)) args[i] = v;
                        else throw new InvalidModelException($"{_model.Label}: {node.Describe()} reads '{name}', which nothing before it produces", node.Name, node.OpType);
                    }
                    var started = NodeTimes is null ? 0 : System.Diagnostics.Stopwatch.GetTimestamp();
                    var outs = OpRegistry.Run(new OpContext(_slot, node, _opset, MatMul), args);
                    if (NodeTimes is not null)
                    {
                        _slot.Synchronize();
                        NodeTimes.Add((node, System.Diagnostics.Stopwatch.GetElapsedTime(started)));
                    }
                    else if (cancellationToken.CanBeCanceled && !_slot.IsCpuAccelerator && n % CancellableQueueDepth == CancellableQueueDepth - 1)
                    {
                        // GPU launches queue ahead of the device: a cancellable run lets at most this many pile up, so
                        // a cancellation is seen within that many kernels instead of after the whole queue.
                        _slot.Synchronize();
                    }
                    for (var o = 0; o < node.Outputs.Count; o++)
                    {
                        var name = node.Outputs[o];
                        if (o >= outs.Length || outs[o] is not { } t) continue;
                        if (name.Length == 0)
                        {
                            t.Dispose();
                            continue;
                        }
                        values[name] = t;
                        owned.Add(t);
                        if (!_lastUse.ContainsKey(name) && !_outputNames.Contains(name)) Release(name, values, owned);
                    }
                    foreach (var name in node.Inputs)
                    {
                        if (name.Length > 0 && _lastUse.GetValueOrDefault(name, -1) == n && !_outputNames.Contains(name)) Release(name, values, owned);
                    }
                }
                foreach (var output in Outputs)
                {
                    if (values.TryGetValue(output.Name, out var t))
                    {
                        // A value produced here goes to the caller as is; a passed-through input or constant is aliased.
                        if (owned.Remove(t)) result.Add(t);
                        else result.Add(t.Alias(t.Shape));
                    }
                    else if (_constants.TryGetValue(output.Name, out var c)) result.Add(c.Alias(c.Shape));
                    else throw new InvalidModelException($"{_model.Label}: output '{output.Name}' is produced by no node of the partition");
                }
                // A consumer on this accelerator's queue needs no wait, and every other reader goes through a download
                // or a transfer path, which waits; only a caller that times or reads the run itself needs it here.
                if (!options.DeferSynchronization) _slot.Synchronize();
                return IntoBuffers(result, options);
            }
            catch (Exception e) when (e is not AccelSdkException and not OutOfMemoryException and not OperationCanceledException)
            {
                foreach (var r in result) r.Dispose();
                throw new BackendException(IlgpuBackend.BackendName, $"{_model.Label} on {Device.Id}: {e.Message}", e);
            }
            catch
            {
                foreach (var r in result) r.Dispose();
                throw;
            }
            finally
            {
                foreach (var t in owned) t.Dispose();
            }
        }
    }

    /// <summary>Kernels a cancellable run may queue on a GPU before waiting for them (ILGPU's CPU accelerator runs each launch to its end).</summary>
    private const int CancellableQueueDepth = 32;

    /// <summary>Downloads each output that has a buffer into it (checked against the produced type and shape) and frees its device copy.</summary>
    private List<DeviceTensor> IntoBuffers(List<DeviceTensor> result, PartitionRunOptions options)
    {
        if (options.OutputBuffers is null) return result;
        for (var j = 0; j < result.Count; j++)
        {
            if (options.BufferFor(j) is not { } buffer || result[j] is not IlgpuTensor produced) continue;
            if (produced.ElementType != buffer.ElementType || !produced.Shape.AsSpan().SequenceEqual(buffer.Shape))
            {
                throw new OutputMismatchException(Outputs[j].Name,
                    $"the run produced {produced.ElementType.ShortName()}{TensorShape.Format(produced.Shape)}, the buffer is {buffer.ElementType.ShortName()}{TensorShape.Format(buffer.Shape)}");
            }
            _slot.DownloadInto(produced, buffer);
            produced.Dispose();
            result[j] = new HostTensor(buffer);
        }
        return result;
    }

    private static void Release(string name, Dictionary<string, IlgpuTensor> values, HashSet<IlgpuTensor> owned)
    {
        if (values.Remove(name, out var t) && owned.Remove(t)) t.Dispose();
    }

    private IlgpuTensor Adopt(DeviceTensor input, string name, HashSet<IlgpuTensor> owned)
    {
        switch (input)
        {
            case IlgpuTensor t when t.Device.MemorySpace == Device.MemorySpace:
                return t;
            case HostTensor h:
                var uploaded = _slot.Upload(h.Value);
                owned.Add(uploaded);
                return uploaded;
            default:
                throw new InputMismatchException(name, $"is a {input.GetType().Name} on {input.Device.Id}; {Device.Id} needs it in its own memory space");
        }
    }

    /// <summary>Frees the uploaded constants once no run of this accelerator is in progress; later runs throw <see cref="ObjectDisposedException"/>.</summary>
    public void Dispose()
    {
        lock (_slot.Gate)
        {
            if (_disposed) return;
            _disposed = true;
            foreach (var c in _constants.Values) c.Dispose();
        }
    }
}
