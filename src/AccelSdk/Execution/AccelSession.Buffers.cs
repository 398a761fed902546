using System.Diagnostics;
using AccelSdk.Backends;
using AccelSdk.Ir;

namespace AccelSdk.Execution;

/// <summary>Runs that write into caller-provided output tensors, and the allocation-free path for one-partition plans.</summary>
public sealed partial class AccelSession
{
    // For a plan of one partition in host memory whose inputs and outputs are the graph's: partition input i is
    // Inputs[_directInputOrder[i]], partition output j is OutputNames[_directOutputOrder[j]]. Null otherwise.
    private readonly int[]? _directInputOrder;
    private readonly int[]? _directOutputOrder;

    // One idle DirectRun reused by the next run; concurrent runs make their own.
    private DirectRun? _idleDirectRun;

    /// <summary>
    /// Runs with inputs in the order of <see cref="Inputs"/> and writes the outputs, in the order of
    /// <see cref="OutputNames"/>, into <paramref name="outputs"/>: caller tensors of each output's element type and
    /// shape (a null entry skips that output). A buffer that does not fit is an <see cref="OutputMismatchException"/>
    /// naming the output, checked against the declared type before the run and against what the run produced after
    /// it. ONNX Runtime writes straight into the buffers; ILGPU and TFLite copy their results into them. On a
    /// one-partition plan with fully declared input shapes, repeated calls with the same tensors allocate no managed
    /// memory (ONNX Runtime keeps the binding of the last call).
    /// </summary>
    public void Run(IReadOnlyList<AccelTensor> inputs, IReadOnlyList<AccelTensor?> outputs) => RunInto(inputs, outputs, CancellationToken.None);

    /// <summary>
    /// <see cref="Run(IReadOnlyList{AccelTensor}, IReadOnlyList{AccelTensor})"/> on the thread pool, stopped by
    /// <paramref name="cancellationToken"/>: see <see cref="RunAsync(IReadOnlyDictionary{string, AccelTensor}, CancellationToken)"/>.
    /// </summary>
    public Task RunAsync(IReadOnlyList<AccelTensor> inputs, IReadOnlyList<AccelTensor?> outputs, CancellationToken cancellationToken = default) =>
        Task.Run(() => RunInto(inputs, outputs, cancellationToken), cancellationToken);

    /// <summary>Runs with inputs in the order of <see cref="Inputs"/> on the thread pool; see <see cref="RunAsync(IReadOnlyDictionary{string, AccelTensor}, CancellationToken)"/>.</summary>
    public Task<RunResult> RunAsync(IReadOnlyList<AccelTensor> inputs, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        return RunAsync(ToNamed(inputs), cancellationToken);
    }

    /// <summary>
    /// Runs on the thread pool. <paramref name="cancellationToken"/> stops the run as early as each backend can: ONNX
    /// Runtime between kernels (the run's <c>RunOptions.Terminate</c>), ILGPU between kernels, TFLite only between
    /// partitions (its C API has no way to stop an invoke); the task then ends in an
    /// <see cref="OperationCanceledException"/> and the session stays usable. <see cref="Dispose"/> waits for it like
    /// for any run.
    /// </summary>
    public Task<RunResult> RunAsync(IReadOnlyDictionary<string, AccelTensor> inputs, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        return Task.Run(() =>
        {
            using var lease = _guard.Enter();
            Validate(inputs);
            CheckLimits(inputs);
            return RunValidated(inputs, cancellationToken);
        }, cancellationToken);
    }

    private void RunInto(IReadOnlyList<AccelTensor> inputs, IReadOnlyList<AccelTensor?> outputs, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(outputs);
        using var lease = _guard.Enter();
        CheckInputCount(inputs.Count);
        for (var i = 0; i < inputs.Count; i++)
        {
            var given = inputs[i] ?? throw new ArgumentNullException(nameof(inputs), $"input #{i} ('{_requiredInputs[i].Name}') is null");
            CheckInput(_requiredInputs[i].Name, _requiredInputs[i], given);
        }
        CheckOutputBuffers(outputs);
        CheckNoOverlap(inputs, outputs);
        if (_directInputOrder is not null && _inputsAreStatic && WithinLimits(inputs))
        {
            RunDirect(inputs, outputs, cancellationToken);
            return;
        }
        var named = ToNamed(inputs);
        CheckLimits(named);
        RunValidated(named, cancellationToken, outputs);
    }

    private void CheckOutputBuffers(IReadOnlyList<AccelTensor?> outputs)
    {
        if (outputs.Count != _outputNames.Length)
        {
            throw new OutputMismatchException(outputs.Count < _outputNames.Length ? _outputNames[outputs.Count] : $"#{outputs.Count}",
                $"{Model.Label} has {_outputNames.Length} output(s) ({string.Join(", ", _outputNames)}), {outputs.Count} buffer(s) given");
        }
        var declared = Model.Graph.Outputs;
        for (var i = 0; i < outputs.Count; i++)
        {
            if (outputs[i] is not { } buffer || declared[i].Type is not TensorType expected) continue;
            if (expected.ElementType != ElementType.Undefined && buffer.ElementType != expected.ElementType)
            {
                throw new OutputMismatchException(_outputNames[i], $"the output is {expected.ElementType.ShortName()}, the buffer {buffer.ElementType.ShortName()}{TensorShape.Format(buffer.Shape)}");
            }
            if (expected.Shape is { } shape && !shape.Accepts(buffer.Shape))
            {
                throw new OutputMismatchException(_outputNames[i], $"the output has shape {shape}, the buffer {TensorShape.Format(buffer.Shape)}");
            }
        }
    }

    /// <summary>
    /// A buffer that shares memory with an input or another buffer would be read and written by the same run (or
    /// written twice): a silent wrong answer, so it is refused.
    /// </summary>
    private void CheckNoOverlap(IReadOnlyList<AccelTensor> inputs, IReadOnlyList<AccelTensor?> outputs)
    {
        for (var j = 0; j < outputs.Count; j++)
        {
            if (outputs[j] is not { IsString: false, ByteLength: > 0 } buffer) continue;
            for (var i = 0; i < inputs.Count; i++)
            {
                if (Overlap(buffer, inputs[i]))
                {
                    throw new OutputMismatchException(_outputNames[j], $"the buffer shares memory with input '{_requiredInputs[i].Name}'");
                }
            }
            for (var k = 0; k < j; k++)
            {
                if (outputs[k] is { } other && Overlap(buffer, other))
                {
                    throw new OutputMismatchException(_outputNames[j], $"the buffer shares memory with the buffer of output '{_outputNames[k]}'");
                }
            }
        }
    }

    private static bool Overlap(AccelTensor a, AccelTensor b)
    {
        if (b.IsString || b.ByteLength == 0) return false;
        var (startA, startB) = (a.DataPointer, b.DataPointer);
        return startA < startB + (nint)b.ByteLength && startB < startA + (nint)a.ByteLength;
    }

    /// <summary>
    /// <see cref="CheckLimits"/> for inputs of the declared static shapes, allocating nothing; false sends the run to
    /// the full check, which names what is over the cap (or computes the estimate the first time).
    /// </summary>
    private bool WithinLimits(IReadOnlyList<AccelTensor> inputs)
    {
        var limits = Limits;
        var estimate = _staticEstimate;
        if (estimate is null) return false;
        long total = 0;
        for (var i = 0; i < inputs.Count; i++)
        {
            var bytes = ResourceLimits.BytesOf(inputs[i].ElementType, inputs[i].Shape);
            if (bytes > limits.MaxTensorBytes) return false;
            total = total > long.MaxValue - bytes ? long.MaxValue : total + bytes;
        }
        return total <= limits.MaxRunBytes && estimate.LargestValueBytes <= limits.MaxTensorBytes && estimate.PeakBytes <= limits.MaxRunBytes;
    }

    private void RunDirect(IReadOnlyList<AccelTensor> inputs, IReadOnlyList<AccelTensor?> outputs, CancellationToken cancellationToken)
    {
        var compiled = _compiled[0];
        var run = Interlocked.Exchange(ref _idleDirectRun, null) ?? new DirectRun(compiled.Inputs.Count, compiled.Outputs.Count);
        using var activity = _telemetry.StartRun();
        var start = Stopwatch.GetTimestamp();
        try
        {
            for (var i = 0; i < run.Inputs.Length; i++) run.SetInput(i, inputs[_directInputOrder![i]], compiled.Inputs[i].Name);
            for (var j = 0; j < run.Buffers.Length; j++)
            {
                run.Buffers[j] = outputs[_directOutputOrder![j]];
                run.Skipped[j] = run.Buffers[j] is null;
            }
            var results = compiled.Run(run.Inputs, new PartitionRunOptions(run.Buffers, cancellationToken) { ReusableOutputs = run.Skipped });
            _telemetry.CountRun();
            try
            {
                for (var j = 0; j < run.Buffers.Length; j++)
                {
                    if (run.Buffers[j] is { } buffer && !(results[j] is HostTensor h && ReferenceEquals(h.Value, buffer)))
                    {
                        FillBuffer(compiled.Outputs[j].Name, ToHost(results[j]), buffer);
                    }
                }
            }
            finally
            {
                for (var j = 0; j < results.Count; j++) results[j].Dispose();
            }
        }
        finally
        {
            Array.Clear(run.Buffers);
            Volatile.Write(ref _idleDirectRun, run);
            _telemetry.RecordRun(start);
        }
    }

    /// <summary>Copies what the run produced for output <paramref name="name"/> into the caller's buffer and returns the buffer.</summary>
    private static AccelTensor FillBuffer(string name, AccelTensor produced, AccelTensor buffer)
    {
        if (ReferenceEquals(produced, buffer)) return buffer;
        if (produced.ElementType != buffer.ElementType || !produced.Shape.SequenceEqual(buffer.Shape))
        {
            throw new OutputMismatchException(name,
                $"the run produced {produced.ElementType.ShortName()}{TensorShape.Format(produced.Shape)}, the buffer is {buffer.ElementType.ShortName()}{TensorShape.Format(buffer.Shape)}");
        }
        produced.CopyTo(buffer);
        return buffer;
    }

    private Dictionary<string, AccelTensor> BuffersByName(IReadOnlyList<AccelTensor?> outputBuffers)
    {
        var byName = new Dictionary<string, AccelTensor>(StringComparer.Ordinal);
        for (var i = 0; i < outputBuffers.Count; i++)
        {
            if (outputBuffers[i] is { } buffer) byName[_outputNames[i]] = buffer;
        }
        return byName;
    }

    private static AccelTensor?[]? BuffersOf(ICompiledPartition compiled, InFlight item)
    {
        if (item.OutputBuffers is not { Count: > 0 } byName) return null;
        AccelTensor?[]? buffers = null;
        for (var j = 0; j < compiled.Outputs.Count; j++)
        {
            if (byName.TryGetValue(compiled.Outputs[j].Name, out var buffer)) (buffers ??= new AccelTensor?[compiled.Outputs.Count])[j] = buffer;
        }
        return buffers;
    }

    private (int[]? Inputs, int[]? Outputs) DirectOrders()
    {
        if (_compiled.Length != 1 || !_compiled[0].Device.MemorySpace.IsHost) return (null, null);
        var compiled = _compiled[0];
        var inputs = new int[compiled.Inputs.Count];
        for (var i = 0; i < inputs.Length; i++)
        {
            inputs[i] = Array.FindIndex(_requiredInputs, r => r.Name == compiled.Inputs[i].Name);
            if (inputs[i] < 0) return (null, null);
        }
        var outputs = new int[compiled.Outputs.Count];
        for (var j = 0; j < outputs.Length; j++)
        {
            outputs[j] = Array.IndexOf(_outputNames, compiled.Outputs[j].Name);
            if (outputs[j] < 0) return (null, null);
        }
        var covered = inputs.Distinct().Count() == _requiredInputs.Length && outputs.Distinct().Count() == _outputNames.Length;
        return covered ? (inputs, outputs) : (null, null);
    }

    /// <summary>The reusable arrays of one direct run, and the host wrappers of the last inputs it saw.</summary>
    private sealed class DirectRun
    {
        private readonly AccelTensor?[] _sources;

        public DirectRun(int inputs, int outputs)
        {
            _sources = new AccelTensor?[inputs];
            Inputs = new DeviceTensor[inputs];
            Buffers = new AccelTensor?[outputs];
            Skipped = new bool[outputs];
        }

        /// <summary>Per output, whether the caller skipped it: nobody reads it, so the partition may reuse its memory.</summary>
        public bool[] Skipped { get; }

        public DeviceTensor[] Inputs { get; }

        public AccelTensor?[] Buffers { get; }

        public void SetInput(int index, AccelTensor tensor, string name)
        {
            if (ReferenceEquals(_sources[index], tensor)) return;
            _sources[index] = tensor;
            Inputs[index] = new HostTensor(tensor.Name == name ? tensor : tensor.WithName(name));
        }
    }
}
