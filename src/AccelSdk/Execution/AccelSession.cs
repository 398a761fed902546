using System.Collections.Concurrent;
using System.Diagnostics;
using AccelSdk.Backends;
using AccelSdk.Ir;

namespace AccelSdk.Execution;

/// <summary>The outputs of one run, in graph output order, also addressable by name.</summary>
public sealed class RunResult : IReadOnlyList<AccelTensor>
{
    private readonly AccelTensor[] _tensors;
    private readonly IReadOnlyList<string> _names;

    internal RunResult(AccelTensor[] tensors, IReadOnlyList<string> names)
    {
        _tensors = tensors;
        _names = names;
    }

    /// <summary>Output names in order.</summary>
    public IReadOnlyList<string> Names => _names;

    /// <inheritdoc />
    public AccelTensor this[int index] => _tensors[index];

    /// <summary>The output called <paramref name="name"/>.</summary>
    public AccelTensor this[string name]
    {
        get
        {
            for (var i = 0; i < _names.Count; i++)
            {
                if (_names[i] == name) return _tensors[i];
            }
            throw new KeyNotFoundException($"no output called '{name}' (outputs: {string.Join(", ", _names)})");
        }
    }

    /// <inheritdoc />
    public int Count => _tensors.Length;

    /// <inheritdoc />
    public IEnumerator<AccelTensor> GetEnumerator() => ((IEnumerable<AccelTensor>)_tensors).GetEnumerator();

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => _tensors.GetEnumerator();
}

/// <summary>How <see cref="AccelSession.RunMany"/> runs a stream of inputs.</summary>
public enum StreamExecution
{
    /// <summary>One input after another, each through every partition.</summary>
    Sequential,
    /// <summary>Several whole runs at once (up to the given concurrency, default the core count).</summary>
    Concurrent,
    /// <summary>One thread per partition: partition <c>p</c> of one input overlaps partition <c>p+1</c> of the previous.</summary>
    Pipelined,
}

/// <summary>
/// Runs a model according to an <see cref="ExecutionPlan"/>: compiles each partition once, then per run feeds
/// inputs, moves values between memory spaces where the plan says so, and returns host tensors.
/// </summary>
public sealed partial class AccelSession : IDisposable
{
    private readonly ICompiledPartition[] _compiled;
    private readonly string[] _outputNames;
    private readonly ValueInfo[] _requiredInputs;
    private readonly Dictionary<string, IBackend> _backendsByName;
    private readonly RunGuard _guard = new(nameof(AccelSession));
    private readonly ConcurrentDictionary<string, RunEstimate> _estimates = new(StringComparer.Ordinal);
    private readonly bool _inputsAreStatic;
    private RunEstimate? _staticEstimate;
    private readonly SessionTelemetry _telemetry;
    // Per partition, the cut edge of each of its inputs by value name; then the edges of model outputs.
    private readonly Dictionary<string, PlannedTransfer>[] _inputEdges;
    private readonly Dictionary<string, PlannedTransfer> _outputEdges;
    // Per partition and output: whether the run alone reads it (not a model output), so the partition may lend memory
    // it reuses; and all true, for runs into caller buffers, where a model output has its buffer or was skipped.
    private readonly bool[][] _runScopedOutputs;
    private readonly bool[][] _allOutputsReusable;

    /// <summary>Compiles every partition of <paramref name="plan"/>.</summary>
    public AccelSession(ExecutionPlan plan, CompileOptions? options = null)
    {
        Plan = plan;
        plan.Model.Graph.CheckNames(plan.Model.Label);
        options ??= new CompileOptions();
        if (plan.Partitions.Count > 1) options = options with { SharesCoresWithOtherPartitions = true };
        _compiled = new ICompiledPartition[plan.Partitions.Count];
        var watch = Stopwatch.StartNew();
        try
        {
            for (var i = 0; i < _compiled.Length; i++)
            {
                var p = plan.Partitions[i];
                _compiled[i] = p.Backend.Compile(p.Device, p.SubModel, options);
            }
        }
        catch
        {
            foreach (var c in _compiled) c?.Dispose();
            throw;
        }
        CompileTime = watch.Elapsed;
        StreamExecution = plan.Partitions.Count > 1 ? StreamExecution.Pipelined : StreamExecution.Concurrent;
        _outputNames = plan.Model.Graph.Outputs.Select(o => o.Name).ToArray();
        _requiredInputs = plan.Model.Graph.RequiredInputs.ToArray();
        _inputsAreStatic = _requiredInputs.All(i => i.Type is TensorType { ElementType: not ElementType.Undefined, Shape.IsFullyKnown: true });
        _backendsByName = plan.Partitions.Select(p => p.Backend).Distinct().ToDictionary(b => b.Name, StringComparer.Ordinal);
        _telemetry = new SessionTelemetry(plan);
        _overlap = PartitionSchedule.For(plan);
        _inputEdges = plan.Partitions.Select(p => plan.CutEdges.Where(e => e.BeforePartition == p.Index)
            .GroupBy(e => e.ValueName, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal)).ToArray();
        _outputEdges = plan.CutEdges.Where(e => e.BeforePartition == plan.Partitions.Count)
            .GroupBy(e => e.ValueName, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        (_directInputOrder, _directOutputOrder) = DirectOrders();
        (_runScopedOutputs, _allOutputsReusable) = ReusableOutputsOf(plan);
    }

    /// <summary>The plan this session executes.</summary>
    public ExecutionPlan Plan { get; }

    /// <summary>The model.</summary>
    public Model Model => Plan.Model;

    /// <summary>How the plan was chosen, when it came from <see cref="AccelRuntime.Select(Model, SelectOptions?, IProgress{SelectionProgress}?, CancellationToken)"/>.</summary>
    public SelectionReport? Selection { get; internal set; }

    /// <summary>
    /// Everything that fell back while this session was chosen (unavailable devices, candidates or plans left out,
    /// devices excluded from tuning, nodes moved), with the reasons; each was also logged as a warning.
    /// </summary>
    public IReadOnlyList<Fallback> Fallbacks { get; internal set; } = Array.Empty<Fallback>();

    /// <summary>Time spent compiling all partitions.</summary>
    public TimeSpan CompileTime { get; }

    /// <summary>
    /// How <see cref="RunMany"/> runs a stream: by default pipelined for a multi-partition plan and concurrent for a
    /// one-partition plan; the throughput policy sets the mode it measured fastest.
    /// </summary>
    public StreamExecution StreamExecution { get; set; }

    /// <summary>The compiled partitions, in plan order.</summary>
    public IReadOnlyList<ICompiledPartition> CompiledPartitions => _compiled;

    /// <summary>
    /// What runs moved between memory spaces so far: transfers, direct ones, host round trips, memory copies and bytes,
    /// with the number of runs (the plan's <see cref="ExecutionPlan.CutEdges"/> say which route each value takes).
    /// Copies a partition makes into caller output buffers are the backend's and not counted here.
    /// </summary>
    public TransferStatistics TransferStatistics => _telemetry.Snapshot();

    /// <summary>Sets <see cref="TransferStatistics"/> back to zero (for example after warm-up runs).</summary>
    public void ResetTransferStatistics() => _telemetry.Reset();

    /// <summary>Inputs the caller must feed, in order.</summary>
    public IReadOnlyList<ValueInfo> Inputs => _requiredInputs;

    /// <summary>Output names in order.</summary>
    public IReadOnlyList<string> OutputNames => _outputNames;

    /// <summary>
    /// Caps checked before each run allocates anything (<see cref="ResourceLimits.Default"/> unless set): a run over
    /// them fails with <see cref="ResourceLimitException"/>.
    /// </summary>
    public ResourceLimits Limits { get; set; } = ResourceLimits.Default;

    /// <summary>Runs with inputs given in the order of <see cref="Inputs"/>.</summary>
    public RunResult Run(params AccelTensor[] inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        return Run(ToNamed(inputs));
    }

    private Dictionary<string, AccelTensor> ToNamed(IReadOnlyList<AccelTensor> inputs)
    {
        CheckInputCount(inputs.Count);
        var named = new Dictionary<string, AccelTensor>(inputs.Count, StringComparer.Ordinal);
        for (var i = 0; i < inputs.Count; i++)
        {
            named[_requiredInputs[i].Name] = inputs[i] ?? throw new ArgumentNullException(nameof(inputs), $"input #{i} ('{_requiredInputs[i].Name}') is null");
        }
        return named;
    }

    private void CheckInputCount(int count)
    {
        if (count != _requiredInputs.Length)
        {
            throw new InputMismatchException(count < _requiredInputs.Length ? _requiredInputs[count].Name : $"#{count}",
                $"{Model.Label} takes {_requiredInputs.Length} input(s) ({string.Join(", ", _requiredInputs.Select(i => i.Name))}), {count} given");
        }
    }

    /// <summary>
    /// Runs with inputs by name; inputs that have initializer defaults may be omitted. Safe to call from several
    /// threads at once; <see cref="Dispose"/> waits for runs in progress, and a run begun after it throws
    /// <see cref="ObjectDisposedException"/>.
    /// </summary>
    public RunResult Run(IReadOnlyDictionary<string, AccelTensor> inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        using var lease = _guard.Enter();
        Validate(inputs);
        CheckLimits(inputs);
        return RunValidated(inputs);
    }

    private RunResult RunValidated(IReadOnlyDictionary<string, AccelTensor> inputs, CancellationToken cancellationToken = default,
        IReadOnlyList<AccelTensor?>? outputBuffers = null)
    {
        var item = new InFlight(inputs, outputBuffers is null ? null : BuffersByName(outputBuffers));
        using var activity = _telemetry.StartRun();
        var start = Stopwatch.GetTimestamp();
        try
        {
            var overlap = PartitionOverlap;
            if (_overlap is not null && _overlap.Overlaps(overlap))
            {
                RunOverlapped(item, overlap, cancellationToken);
            }
            else
            {
                for (var p = 0; p < _compiled.Length; p++)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    RunPartition(p, item, cancellationToken);
                }
            }
            return Collect(item);
        }
        finally
        {
            item.Release();
            _telemetry.RecordRun(start);
        }
    }

    /// <summary>
    /// Runs a stream of inputs for throughput, as <see cref="StreamExecution"/> (or <paramref name="mode"/>) says;
    /// results come back in input order. Pipelined: one thread per partition, so partition <c>p</c> of one item
    /// overlaps partition <c>p+1</c> of the previous (each partition still runs one item at a time; a one-partition
    /// plan runs sequentially). Concurrent: up to <paramref name="concurrency"/> whole runs at once (default: the core
    /// count).
    /// </summary>
    public IReadOnlyList<RunResult> RunMany(IReadOnlyList<IReadOnlyDictionary<string, AccelTensor>> inputs, int concurrency = 0, StreamExecution? mode = null)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        using var lease = _guard.Enter();
        for (var i = 0; i < inputs.Count; i++)
        {
            var item = inputs[i] ?? throw new ArgumentNullException(nameof(inputs), $"input set #{i} is null");
            Validate(item);
            CheckLimits(item);
        }
        var results = new RunResult[inputs.Count];
        if (inputs.Count == 0) return results;
        switch (mode ?? StreamExecution)
        {
            case StreamExecution.Concurrent:
                var workers = concurrency > 0 ? concurrency : Math.Max(2, Environment.ProcessorCount);
                Parallel.For(0, inputs.Count, new ParallelOptions { MaxDegreeOfParallelism = workers }, i => results[i] = RunValidated(inputs[i]));
                return results;
            case StreamExecution.Pipelined when _compiled.Length > 1:
                return RunPipelined(inputs, results);
            default:
                for (var i = 0; i < inputs.Count; i++) results[i] = RunValidated(inputs[i]);
                return results;
        }
    }

    private RunResult[] RunPipelined(IReadOnlyList<IReadOnlyDictionary<string, AccelTensor>> inputs, RunResult[] results)
    {
        // Stage p takes items from queues[p] and hands them to queues[p + 1]; two items may wait between stages.
        var queues = Enumerable.Range(0, _compiled.Length + 1).Select(_ => new System.Collections.Concurrent.BlockingCollection<(int Index, InFlight Item)>(2)).ToArray();
        using var cancel = new CancellationTokenSource();
        Exception? failure = null;
        var stages = new Thread[_compiled.Length];
        for (var p = 0; p < stages.Length; p++)
        {
            var stage = p;
            stages[p] = new Thread(() =>
            {
                try
                {
                    foreach (var (index, item) in queues[stage].GetConsumingEnumerable(cancel.Token))
                    {
                        RunPartition(stage, item);
                        queues[stage + 1].Add((index, item), cancel.Token);
                    }
                }
                catch (OperationCanceledException)
                {
                }
                catch (Exception e)
                {
                    Interlocked.CompareExchange(ref failure, e, null);
                    cancel.Cancel();
                }
                finally
                {
                    queues[stage + 1].CompleteAdding();
                }
            }) { IsBackground = true, Name = $"AccelSdk pipeline stage {p} ({_compiled[p].Device.Id})" };
            stages[p].Start();
        }
        var feeder = new Thread(() =>
        {
            try
            {
                for (var i = 0; i < inputs.Count; i++) queues[0].Add((i, new InFlight(inputs[i])), cancel.Token);
            }
            catch (OperationCanceledException)
            {
            }
            finally
            {
                queues[0].CompleteAdding();
            }
        }) { IsBackground = true, Name = "AccelSdk pipeline feeder" };
        feeder.Start();
        try
        {
            foreach (var (index, item) in queues[^1].GetConsumingEnumerable(cancel.Token))
            {
                try
                {
                    results[index] = Collect(item);
                }
                finally
                {
                    item.Release();
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (Exception e)
        {
            Interlocked.CompareExchange(ref failure, e, null);
            cancel.Cancel();
        }
        feeder.Join();
        foreach (var t in stages) t.Join();
        // Items stranded in queues by a failure still own device tensors.
        foreach (var q in queues)
        {
            while (q.TryTake(out var left)) left.Item.Release();
            q.Dispose();
        }
        if (failure is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(failure).Throw();
        return results;
    }

    /// <summary>One run's values and the device tensors it owns.</summary>
    private sealed class InFlight
    {
        public InFlight(IReadOnlyDictionary<string, AccelTensor> inputs, Dictionary<string, AccelTensor>? outputBuffers = null)
        {
            foreach (var kv in inputs) Values[kv.Key] = new HostTensor(kv.Value.Name == kv.Key ? kv.Value : kv.Value.WithName(kv.Key));
            OutputBuffers = outputBuffers;
        }

        /// <summary>Caller tensors the graph outputs are written into, by output name; null when the run allocates them.</summary>
        public Dictionary<string, AccelTensor>? OutputBuffers { get; }

        // Partitions that overlap (RunOverlapped) read and add values from several threads.
        private readonly object _gate = new();

        public Dictionary<string, DeviceTensor> Values { get; } = new(StringComparer.Ordinal);

        private List<DeviceTensor> Owned { get; } = new();

        public bool TryGetValue(string name, out DeviceTensor value)
        {
            lock (_gate) return Values.TryGetValue(name, out value!);
        }

        /// <summary>Records a value produced by a partition; the run owns it.</summary>
        public void Produce(string name, DeviceTensor value)
        {
            lock (_gate)
            {
                Values[name] = value;
                Owned.Add(value);
            }
        }

        /// <summary>A tensor made for this run (a transfer's copy) that the run frees at its end.</summary>
        public void Own(DeviceTensor value)
        {
            lock (_gate) Owned.Add(value);
        }

        public void Release()
        {
            lock (_gate)
            {
                foreach (var t in Owned) t.Dispose();
                Owned.Clear();
            }
        }
    }

    private void RunPartition(int p, InFlight item, CancellationToken cancellationToken = default)
    {
        var compiled = _compiled[p];
        using var activity = _telemetry.StartPartition(p, compiled.Device);
        var partitionInputs = new DeviceTensor[compiled.Inputs.Count];
        for (var i = 0; i < partitionInputs.Length; i++)
        {
            var name = compiled.Inputs[i].Name;
            if (!item.TryGetValue(name, out var value))
            {
                throw new InputMismatchException(name, $"required by partition {p} on {compiled.Device.Id} but not given");
            }
            partitionInputs[i] = MoveTo(value, compiled.Device, _inputEdges[p].GetValueOrDefault(name), item);
        }
        var outputs = compiled.Run(partitionInputs, new PartitionRunOptions(BuffersOf(compiled, item), cancellationToken)
        {
            DeferSynchronization = true,
            ReusableOutputs = item.OutputBuffers is null ? _runScopedOutputs[p] : _allOutputsReusable[p],
        });
        for (var i = 0; i < outputs.Count; i++)
        {
            item.Produce(compiled.Outputs[i].Name, outputs[i]);
        }
    }

    private (bool[][] RunScoped, bool[][] All) ReusableOutputsOf(ExecutionPlan plan)
    {
        var modelOutputs = plan.Model.Graph.Outputs.Select(o => o.Name).ToHashSet(StringComparer.Ordinal);
        var runScoped = _compiled.Select(c => c.Outputs.Select(o => !modelOutputs.Contains(o.Name)).ToArray()).ToArray();
        var all = _compiled.Select(c => Enumerable.Repeat(true, c.Outputs.Count).ToArray()).ToArray();
        return (runScoped, all);
    }

    private RunResult Collect(InFlight item)
    {
        var result = new AccelTensor[_outputNames.Length];
        for (var i = 0; i < result.Length; i++)
        {
            var name = _outputNames[i];
            // An output already named so goes back as itself: it owns its storage (native memory past 2 GiB), so the
            // caller's Dispose frees it.
            if (item.Values.TryGetValue(name, out var v)) result[i] = OutputToHost(v, name) is var host && host.Name == name ? host : host.WithName(name);
            else result[i] = Model.Graph.FindInitializer(name)?.WithName(name)
                ?? throw new InvalidModelException($"{Model.Label}: graph output '{name}' is produced by no node");
            if (item.OutputBuffers?.GetValueOrDefault(name) is { } buffer) result[i] = FillBuffer(name, result[i], buffer);
        }
        _telemetry.CountRun();
        return new RunResult(result, _outputNames);
    }

    /// <summary>
    /// Moves <paramref name="value"/> into <paramref name="target"/>'s memory space: as it is within one space, by the
    /// edge's direct path where the plan found one, else staged through host memory.
    /// </summary>
    private DeviceTensor MoveTo(DeviceTensor value, Device target, PlannedTransfer? edge, InFlight owned)
    {
        if (value.Device.MemorySpace == target.MemorySpace) return value;
        // A host-memory producer's outputs are HostTensors of Device.Host: the edge's path applies to whatever is in its space.
        if (edge is { Route: TransferRoute.Direct, Path: { } path } && edge.From.MemorySpace == value.Device.MemorySpace)
        {
            var copied = path.Copy(value, target);
            owned.Own(copied);
            _telemetry.RecordTransfer(value.Device, target, TransferRoute.Direct, path.Copies, value.ByteLength);
            return copied;
        }
        var downloaded = value is not HostTensor;
        var host = value as HostTensor ?? new HostTensor(ToHost(value));
        if (target.MemorySpace.IsHost)
        {
            _telemetry.RecordTransfer(value.Device, target, TransferRoute.ViaHost, downloaded ? 1 : 0, value.ByteLength);
            return host;
        }
        var uploaded = _backendsByName[target.Backend].Upload(target, host.Value);
        owned.Own(uploaded);
        _telemetry.RecordTransfer(value.Device, target, TransferRoute.ViaHost, downloaded ? 2 : 1, value.ByteLength);
        return uploaded;
    }

    /// <summary>A model output in host memory: downloaded (and counted as a transfer) when its partition left it on a device.</summary>
    private AccelTensor OutputToHost(DeviceTensor value, string name)
    {
        if (value is HostTensor h) return h.Value;
        var edge = _outputEdges.GetValueOrDefault(name);
        if (edge is { Route: TransferRoute.Direct, Path: { } path } && edge.From.MemorySpace == value.Device.MemorySpace)
        {
            using var copied = path.Copy(value, Device.Host);
            _telemetry.RecordTransfer(value.Device, Device.Host, TransferRoute.Direct, path.Copies, value.ByteLength);
            return copied is HostTensor host ? host.Value : ToHost(copied);
        }
        _telemetry.RecordTransfer(value.Device, Device.Host, TransferRoute.ViaHost, 1, value.ByteLength);
        return ToHost(value);
    }

    private AccelTensor ToHost(DeviceTensor value) =>
        value is HostTensor h ? h.Value : _backendsByName[value.Device.Backend].Download(value);

    private void Validate(IReadOnlyDictionary<string, AccelTensor> inputs)
    {
        foreach (var kv in inputs)
        {
            if (kv.Value is null) throw new ArgumentNullException(nameof(inputs), $"input '{kv.Key}' is null");
            var declared = Array.Find(_requiredInputs, i => i.Name == kv.Key) ?? Model.Graph.Inputs.Find(i => i.Name == kv.Key);
            if (declared is null)
            {
                throw new InputMismatchException(kv.Key, $"{Model.Label} has no input of that name (inputs: {string.Join(", ", _requiredInputs.Select(i => i.Name))})");
            }
            CheckInput(kv.Key, declared, kv.Value);
        }
        foreach (var required in _requiredInputs)
        {
            if (!inputs.ContainsKey(required.Name)) throw new InputMismatchException(required.Name, "required but not given");
        }
    }

    private static void CheckInput(string name, ValueInfo declared, AccelTensor given)
    {
        if (declared.Type is not TensorType expected) return;
        if (expected.ElementType != ElementType.Undefined && given.ElementType != expected.ElementType)
        {
            throw new InputMismatchException(name, $"expected {expected.ElementType.ShortName()}, got {given.ElementType.ShortName()}");
        }
        if (expected.Shape is { } shape && !shape.Accepts(given.Shape))
        {
            throw new InputMismatchException(name, $"expected shape {shape}, got {TensorShape.Format(given.Shape)}");
        }
    }

    /// <summary>
    /// Checks <see cref="Limits"/> before anything is allocated for a run: each input and the inputs together, then
    /// each value shape inference sizes for these input shapes and the estimated peak of values live at once.
    /// </summary>
    private void CheckLimits(IReadOnlyDictionary<string, AccelTensor> inputs)
    {
        var limits = Limits;
        long total = 0, largestBytes = -1;
        var largest = "";
        foreach (var (name, tensor) in inputs)
        {
            var bytes = ResourceLimits.BytesOf(tensor.ElementType, tensor.Shape, name);
            limits.CheckTensor(name, bytes, $"input {tensor.ElementType.ShortName()}{TensorShape.Format(tensor.Shape)}");
            total = total > long.MaxValue - bytes ? long.MaxValue : total + bytes;
            if (bytes > largestBytes) (largest, largestBytes) = (name, bytes);
        }
        limits.CheckRun(largest, total, $"the largest of {inputs.Count} input(s) together");
        var estimate = EstimateFor(inputs);
        var atLeast = estimate.LargestValueBytes >= SizeClamp ? "at least; " : "";
        limits.CheckTensor(estimate.LargestValue, estimate.LargestValueBytes, $"{atLeast}a value of this run, sized by shape inference for input shapes {estimate.InputShapes}");
        limits.CheckRun(estimate.LargestValue, estimate.PeakBytes, $"the largest value live at the estimated peak of one run with input shapes {estimate.InputShapes}");
    }

    /// <summary>What shape inference says a run with these input shapes holds: its largest value and the peak of values live at once.</summary>
    private sealed record RunEstimate(string InputShapes, string LargestValue, long LargestValueBytes, long PeakBytes);

    private const int MaxCachedEstimates = 64;

    private RunEstimate EstimateFor(IReadOnlyDictionary<string, AccelTensor> inputs)
    {
        // Validate has checked the required inputs against their declarations: fully declared ones fix every shape.
        if (_inputsAreStatic && inputs.Count == _requiredInputs.Length) return _staticEstimate ??= Estimate(inputs, ShapesOf(inputs));
        var key = ShapesOf(inputs);
        if (_estimates.TryGetValue(key, out var cached)) return cached;
        var estimate = Estimate(inputs, key);
        if (_estimates.Count >= MaxCachedEstimates) _estimates.Clear();
        _estimates[key] = estimate;
        return estimate;
    }

    private static string ShapesOf(IReadOnlyDictionary<string, AccelTensor> inputs) =>
        string.Join(", ", inputs.OrderBy(kv => kv.Key, StringComparer.Ordinal)
            .Select(kv => $"{kv.Key}: {kv.Value.ElementType.ShortName()}{TensorShape.Format(kv.Value.Shape)}"));

    private RunEstimate Estimate(IReadOnlyDictionary<string, AccelTensor> inputs, string inputShapes)
    {
        // A file's declared intermediate shapes can be stale (a hostile .tflite declares [1, 2112] where its input makes
        // [65536, 2112], and the runtime allocates the latter): size each value by inference from the inputs alone and by
        // inference with the declarations, and take the larger.
        var inferred = InferWithInputs(inputs, withDeclaredValues: false);
        var declared = InferWithInputs(inputs, withDeclaredValues: true);
        long BytesOf(string name) => Math.Max(SizedBytes(inferred, name), SizedBytes(declared, name));
        var constants = Model.Graph.Initializers.Select(t => t.Name ?? "").ToHashSet(StringComparer.Ordinal);
        var largest = (Name: "", Bytes: 0L);
        foreach (var name in inferred.Keys.Union(declared.Keys))
        {
            var bytes = BytesOf(name);
            if (bytes > largest.Bytes && !constants.Contains(name)) largest = (name, bytes);
        }
        var peak = MemoryEstimate.Of(Plan, BytesOf).Select(f => f.PeakActivationBytes).DefaultIfEmpty(0).Max();
        return new RunEstimate(inputShapes, largest.Name, largest.Bytes, peak);
    }

    private IReadOnlyDictionary<string, Ir.ValueType> InferWithInputs(IReadOnlyDictionary<string, AccelTensor> inputs, bool withDeclaredValues) =>
        ShapeInference.Infer(Model.WithInputShapes(inputs, withDeclaredValues));

    /// <summary>
    /// Bytes of a value whose type inference knows fully, else 0. Sizes are clamped to <see cref="SizeClamp"/> (a
    /// petabyte is over any cap) so that summing the values live at once cannot overflow.
    /// </summary>
    private static long SizedBytes(IReadOnlyDictionary<string, Ir.ValueType> types, string name)
    {
        if (!types.TryGetValue(name, out var type) || type is not TensorType { Shape: { IsFullyKnown: true } shape } tensor) return 0;
        var dims = shape.ToArray();
        if (dims.Any(d => d <= 0)) return 0;
        long bytes = Math.Max(1, tensor.ElementType.SizeInBytes());
        foreach (var d in dims)
        {
            if (bytes > SizeClamp / d) return SizeClamp;
            bytes *= d;
        }
        return bytes;
    }

    private const long SizeClamp = 1L << 50;

    /// <summary>Releases every compiled partition, after waiting for runs in progress on other threads.</summary>
    public void Dispose()
    {
        if (!_guard.BeginDispose()) return;
        foreach (var c in _compiled) c.Dispose();
    }
}
