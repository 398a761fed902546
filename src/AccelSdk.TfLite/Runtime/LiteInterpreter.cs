using System.Runtime.InteropServices;
using AccelSdk.Ir;
using AccelSdk.TfLite.Native;

namespace AccelSdk.TfLite;

/// <summary>
/// A TFLite interpreter over a <see cref="LiteModel"/>: feeds inputs (resizing them when their shape changes), invokes,
/// and returns outputs as IR tensors. A failed TFLite status throws a <see cref="BackendException"/> with the message
/// TFLite reported through the installed error reporter. Calls are serialized (one run at a time), so it may be shared
/// between threads. <see cref="Dispose"/> waits for a call in progress, then releases the native interpreter; any call
/// after that throws <see cref="ObjectDisposedException"/>, so native memory is never freed under a running call.
/// </summary>
public sealed unsafe partial class LiteInterpreter : IDisposable
{
    private readonly LiteModel _model;
    private readonly ErrorReporter _reporter = new();
    private readonly TfLiteInterpreterOptionsHandle _options;
    private readonly TfLiteInterpreterHandle _handle;
    private readonly object _gate = new();
    private readonly LiteOpProfiler? _profiler;
    private readonly TfLiteXnnPackDelegateHandle? _xnnPack;
    private bool _allocated;
    private bool _xnnPackPending;
    private bool _disposed;
    private volatile bool _disposeRequested;

    /// <summary>Creates the interpreter and allocates its tensors.</summary>
    public LiteInterpreter(LiteModel model, LiteInterpreterOptions? options = null)
    {
        TfLiteLibrary.Require();
        options ??= new LiteInterpreterOptions();
        _model = model;
        if (options.UseXnnPack && !TfLiteLibrary.HasXnnPack)
        {
            _reporter.Dispose();
            throw new BackendException("tflite", $"XNNPACK was requested but the loaded TFLite library ({TfLiteLibrary.LoadedFrom}) has no XNNPACK delegate (Debian's own build has XNNPACK off; scripts/build-tflite.sh builds it in)");
        }
        _options = TfLiteInterpreterOptionsHandle.Create();
        TfLiteNative.TfLiteInterpreterOptionsSetNumThreads(_options.Pointer, options.Threads > 0 ? options.Threads : -1);
        // The delegate is not added to the options: TFLite would apply it while creating the interpreter, at the
        // declared input shapes, where a model with dynamic input dims cannot prepare (see ApplyXnnPack).
        if (options.UseXnnPack) _xnnPack = TfLiteXnnPackDelegateHandle.Create(options.Threads);
        TfLiteNative.TfLiteInterpreterOptionsSetErrorReporter(_options.Pointer, ErrorReporter.Callback, _reporter.UserData);
        if (options.ProfileOps)
        {
            _profiler = new LiteOpProfiler();
            TfLiteNative.TfLiteInterpreterOptionsSetTelemetryProfiler(_options.Pointer, _profiler.Native);
        }
        if (options.MediaPipeCustomOps)
        {
            TfLiteNative.TfLiteInterpreterOptionsAddCustomOp(_options.Pointer, MediaPipeOps.TransposeConvBiasName, MediaPipeOps.TransposeConvBias, 1, 1);
        }
        TfLiteInterpreter* interpreter;
        try
        {
            interpreter = CreateNative(model, _options);
        }
        catch (ObjectDisposedException)
        {
            _options.Dispose();
            _xnnPack?.Dispose();
            _reporter.Dispose();
            _profiler?.Dispose();
            throw;
        }
        if (interpreter == null)
        {
            var why = _reporter.TakeMessages();
            _options.Dispose();
            _xnnPack?.Dispose();
            _reporter.Dispose();
            _profiler?.Dispose();
            throw new BackendException("tflite", $"{model.Label}: TFLite could not create an interpreter: {why ?? "no reason given"}");
        }
        _handle = TfLiteInterpreterHandle.Wrap(interpreter);
        // Allocate now so that unresolved ops fail here; a model whose inputs have dynamic sizes may only allocate
        // once its inputs are resized, so other allocation failures wait for the first run.
        var status = TfLiteNative.TfLiteInterpreterAllocateTensors(Pointer);
        if (status == TfLiteStatus.kTfLiteOk) _allocated = true;
        else if (status == TfLiteStatus.kTfLiteUnresolvedOps)
        {
            var why = _reporter.TakeMessages();
            Dispose();
            throw new BackendException("tflite", $"{model.Label}: the model needs ops this TFLite build does not have: {why ?? status.ToString()}");
        }
        else _reporter.TakeMessages();
        _xnnPackPending = _xnnPack is not null;
        if (_allocated && _xnnPackPending)
        {
            try
            {
                ApplyXnnPack();
            }
            catch
            {
                Dispose();
                throw;
            }
        }
    }

    /// <summary>The model.</summary>
    public LiteModel Model => _model;

    /// <summary>Whether XNNPACK runs with a thread pool of its own (more than one thread); false without XNNPACK.</summary>
    internal bool XnnPackThreadPoolExists
    {
        get
        {
            lock (_gate)
            {
                _ = Pointer;
                return _xnnPack is { } xnnPack && TfLiteXnnPackNative.TfLiteXNNPackDelegateGetThreadPool(xnnPack.Pointer) != null;
            }
        }
    }

    /// <summary>The XNNPACK delegate's flags (<c>TFLITE_XNNPACK_DELEGATE_FLAG_*</c>), or null without XNNPACK.</summary>
    internal int? XnnPackFlags
    {
        get
        {
            lock (_gate)
            {
                _ = Pointer;
                return _xnnPack is { } xnnPack ? TfLiteXnnPackNative.TfLiteXNNPackDelegateGetFlags(xnnPack.Pointer) : null;
            }
        }
    }

    /// <summary>The native interpreter; only valid under <see cref="_gate"/>, where Dispose cannot free it.</summary>
    internal TfLiteInterpreter* Pointer
    {
        get
        {
            if (_disposed || _disposeRequested) throw new ObjectDisposedException(nameof(LiteInterpreter), $"{_model.Label}: the TFLite interpreter has been disposed");
            return _handle.Pointer;
        }
    }

    /// <summary>
    /// The model's handle is held for the duration of the create call, so a concurrent model Dispose cannot free it (a
    /// disposed model throws <see cref="ObjectDisposedException"/>). After the call TFLite needs only the model's bytes,
    /// which this interpreter keeps alive through <see cref="_model"/>.
    /// </summary>
    private static TfLiteInterpreter* CreateNative(LiteModel model, TfLiteInterpreterOptionsHandle options)
    {
        var added = false;
        try
        {
            model.Handle.DangerousAddRef(ref added);
            return TfLiteNative.TfLiteInterpreterCreate(model.Handle.Pointer, options.Pointer);
        }
        finally
        {
            if (added) model.Handle.DangerousRelease();
        }
    }

    /// <summary>The inputs, with their current shapes.</summary>
    public IReadOnlyList<LiteTensorInfo> Inputs
    {
        get
        {
            lock (_gate)
            {
                var n = TfLiteNative.TfLiteInterpreterGetInputTensorCount(Pointer);
                var list = new LiteTensorInfo[n];
                for (var i = 0; i < n; i++) list[i] = Describe(TfLiteNative.TfLiteInterpreterGetInputTensor(Pointer, i));
                return list;
            }
        }
    }

    /// <summary>The outputs, with their current shapes.</summary>
    public IReadOnlyList<LiteTensorInfo> Outputs
    {
        get
        {
            lock (_gate)
            {
                var n = TfLiteNative.TfLiteInterpreterGetOutputTensorCount(Pointer);
                var list = new LiteTensorInfo[n];
                for (var i = 0; i < n; i++) list[i] = Describe(TfLiteNative.TfLiteInterpreterGetOutputTensor(Pointer, i));
                return list;
            }
        }
    }

    /// <summary>Resizes input <paramref name="index"/> and reallocates tensors.</summary>
    public void ResizeInput(int index, ReadOnlySpan<int> shape)
    {
        lock (_gate)
        {
            CheckInputIndex(index);
            fixed (int* dims = shape)
            {
                Check(TfLiteNative.TfLiteInterpreterResizeInputTensor(Pointer, index, dims, shape.Length), $"resizing input {index} to [{string.Join(",", shape.ToArray())}]");
            }
            _allocated = false;
            AllocateTensors();
        }
    }

    /// <summary>Runs once with inputs in model order; an input whose shape differs from the current one is resized first.</summary>
    public AccelTensor[] Run(params AccelTensor[] inputs) => Run(inputs, null);

    /// <summary>
    /// Runs once with inputs in model order and copies each output whose entry in <paramref name="outputBuffers"/> is
    /// not null into that tensor (returned in its place); it must have the output's element type and shape, else an
    /// <see cref="OutputMismatchException"/> names the output. Other outputs are copied into new tensors.
    /// </summary>
    public AccelTensor[] Run(AccelTensor[] inputs, IReadOnlyList<AccelTensor?>? outputBuffers)
    {
        if (inputs is null) throw new InputMismatchException("(all)", $"{_model.Label}: the input array is null");
        var missing = Array.FindIndex(inputs, t => t is null);
        if (missing >= 0) throw new InputMismatchException($"#{missing}", $"{_model.Label}: input {missing} is null");
        lock (_gate)
        {
            var count = TfLiteNative.TfLiteInterpreterGetInputTensorCount(Pointer);
            if (inputs.Length != count)
            {
                throw new InputMismatchException(inputs.Length < count ? Describe(TfLiteNative.TfLiteInterpreterGetInputTensor(Pointer, inputs.Length)).Name : $"#{inputs.Length}",
                    $"{_model.Label} takes {count} input(s), {inputs.Length} given");
            }
            for (var i = 0; i < inputs.Length; i++) ResizeIfNeeded(i, inputs[i]);
            if (!_allocated) AllocateTensors();
            for (var i = 0; i < inputs.Length; i++) CopyIn(TfLiteNative.TfLiteInterpreterGetInputTensor(Pointer, i), inputs[i]);
            Check(TfLiteNative.TfLiteInterpreterInvoke(Pointer), "invoke");
            var outputs = new AccelTensor[TfLiteNative.TfLiteInterpreterGetOutputTensorCount(Pointer)];
            for (var i = 0; i < outputs.Length; i++)
            {
                var tensor = TfLiteNative.TfLiteInterpreterGetOutputTensor(Pointer, i);
                outputs[i] = outputBuffers is not null && i < outputBuffers.Count && outputBuffers[i] is { } buffer ? CopyOut(tensor, buffer) : CopyOut(tensor);
            }
            return outputs;
        }
    }

    /// <summary>
    /// Per-operator time over the runs since creation or <see cref="ResetOpTimings"/>; empty unless
    /// <see cref="LiteInterpreterOptions.ProfileOps"/> was set.
    /// </summary>
    public IReadOnlyList<LiteOpTiming> OpTimings
    {
        get
        {
            lock (_gate)
            {
                _ = Pointer;
                return _profiler?.Snapshot() ?? Array.Empty<LiteOpTiming>();
            }
        }
    }

    /// <summary>Clears the per-operator timings.</summary>
    public void ResetOpTimings()
    {
        lock (_gate)
        {
            _ = Pointer;
            _profiler?.Reset();
        }
    }

    /// <summary>Resets variable tensors (the state of streaming models) to their initial values.</summary>
    public void ResetVariables()
    {
        lock (_gate) Check(TfLiteNative.TfLiteInterpreterResetVariableTensors(Pointer), "resetting variable tensors");
    }

    private void ResizeIfNeeded(int index, AccelTensor input)
    {
        var tensor = TfLiteNative.TfLiteInterpreterGetInputTensor(Pointer, index);
        var rank = TfLiteNative.TfLiteTensorNumDims(tensor);
        var same = rank == input.Rank;
        for (var d = 0; same && d < rank; d++) same = TfLiteNative.TfLiteTensorDim(tensor, d) == input.Shape[d];
        if (same) return;
        var dims = new int[input.Rank];
        for (var d = 0; d < dims.Length; d++) dims[d] = checked((int)input.Shape[d]);
        fixed (int* p = dims)
        {
            var status = TfLiteNative.TfLiteInterpreterResizeInputTensor(Pointer, index, p, dims.Length);
            if (status != TfLiteStatus.kTfLiteOk)
            {
                var name = Describe(tensor).Name;
                throw new InputMismatchException(name, $"cannot resize to {TensorShape.Format(input.Shape)}: {_reporter.TakeMessages() ?? status.ToString()}");
            }
        }
        _allocated = false;
    }

    private void AllocateTensors()
    {
        Check(TfLiteNative.TfLiteInterpreterAllocateTensors(Pointer), "allocating tensors");
        _allocated = true;
        if (_xnnPackPending) ApplyXnnPack();
    }

    /// <summary>
    /// Applies XNNPACK once the tensors are allocated at real input shapes: at creation for a model whose declared
    /// shapes allocate, else after the first resize (melspectrogram's length is dynamic and its convolution does not
    /// prepare at the declared shape). XNNPACK supports static shapes only, so TFLite makes the delegated graph
    /// immutable; a later resize undoes the delegation and the next allocation redoes it at the new shapes (TFLite's
    /// Subgraph::ResizeInputTensor / RedoAllDelegates). A failure leaves the interpreter without the delegate and
    /// throws: a run never silently falls back to the builtin kernels.
    /// </summary>
    private void ApplyXnnPack()
    {
        var status = TfLiteNative.TfLiteInterpreterModifyGraphWithDelegate(Pointer, _xnnPack!.Pointer);
        if (status == TfLiteStatus.kTfLiteOk)
        {
            _xnnPackPending = false;
            return;
        }
        _allocated = false;
        var why = _reporter.TakeMessages();
        var shapes = string.Join(", ", Inputs.Select(i => $"'{i.Name}' {TensorShape.Format(i.Shape.Select(d => (long)d).ToArray())}"));
        var reason = status == TfLiteStatus.kTfLiteApplicationError
            ? "the graph has dynamic-sized tensors at these input shapes; XNNPACK takes static shapes only"
            : "TFLite restored the graph without the delegate";
        throw new BackendException("tflite", $"{_model.Label}: applying the XNNPACK delegate at inputs {shapes} failed with {status}: {reason}{(why is null ? "" : $": {why}")}");
    }

    private void CheckInputIndex(int index)
    {
        var count = TfLiteNative.TfLiteInterpreterGetInputTensorCount(Pointer);
        if ((uint)index >= (uint)count) throw new InputMismatchException($"#{index}", $"{_model.Label} has {count} input(s)");
    }

    internal void Check(TfLiteStatus status, string what)
    {
        if (status == TfLiteStatus.kTfLiteOk) return;
        var why = _reporter.TakeMessages();
        throw new BackendException("tflite", $"{_model.Label}: {what} failed with {status}: {why ?? "TFLite gave no message"}");
    }

    internal static LiteTensorInfo Describe(TfLiteTensor* tensor)
    {
        var type = TfLiteNative.TfLiteTensorType(tensor);
        var rank = TfLiteNative.TfLiteTensorNumDims(tensor);
        var shape = new int[Math.Max(rank, 0)];
        for (var d = 0; d < shape.Length; d++) shape[d] = TfLiteNative.TfLiteTensorDim(tensor, d);
        var q = TfLiteNative.TfLiteTensorQuantizationParams(tensor);
        var name = Marshal.PtrToStringUTF8((nint)TfLiteNative.TfLiteTensorName(tensor)) ?? "";
        return new LiteTensorInfo(name, LiteTypes.ToElementType(type), LiteTypes.Describe(type), shape,
            (long)TfLiteNative.TfLiteTensorByteSize(tensor), q.scale, q.zero_point);
    }

    internal void CopyIn(TfLiteTensor* tensor, AccelTensor value)
    {
        var info = Describe(tensor);
        if (info.ElementType != value.ElementType)
        {
            throw new InputMismatchException(info.Name, $"{_model.Label} expects {info.TfLiteType}{TensorShape.Format(info.Shape.Select(d => (long)d).ToArray())}, got {value.ElementType.ShortName()}{TensorShape.Format(value.Shape)}");
        }
        if (value.IsString) throw new InputMismatchException(info.Name, "string inputs are not supported by the TFLite backend");
        if (value.ByteLength != info.ByteSize)
        {
            throw new InputMismatchException(info.Name, $"{_model.Label} expects {info.ByteSize} bytes ({info.TfLiteType}{TensorShape.Format(info.Shape.Select(d => (long)d).ToArray())}), got {value.ByteLength} ({value.ElementType.ShortName()}{TensorShape.Format(value.Shape)})");
        }
        fixed (byte* p = value.Bytes)
        {
            Check(TfLiteNative.TfLiteTensorCopyFromBuffer(tensor, p, (nuint)value.ByteLength), $"copying input '{info.Name}'");
        }
    }

    /// <summary>An IR tensor's bytes live in one 64-byte aligned array.</summary>
    private const long MaxOutputBytes = int.MaxValue - 64;

    internal AccelTensor CopyOut(TfLiteTensor* tensor)
    {
        var info = Describe(tensor);
        if (info.ElementType == ElementType.Undefined || info.ElementType == ElementType.String)
        {
            throw new BackendException("tflite", $"{_model.Label}: output '{info.Name}' is of TFLite type {info.TfLiteType}, which has no IR form");
        }
        if (info.ByteSize > MaxOutputBytes)
        {
            throw new BackendException("tflite", $"{_model.Label}: output '{info.Name}' holds {info.ByteSize} bytes, more than the {MaxOutputBytes} one AccelSdk tensor can hold");
        }
        var result = AccelTensor.Zeros(info.ElementType, info.Shape.Select(d => (long)d).ToArray(), info.Name);
        if (result.ByteLength != info.ByteSize)
        {
            throw new BackendException("tflite", $"{_model.Label}: output '{info.Name}' holds {info.ByteSize} bytes, its shape needs {result.ByteLength}");
        }
        fixed (byte* p = result.Bytes)
        {
            Check(TfLiteNative.TfLiteTensorCopyToBuffer(tensor, p, (nuint)result.ByteLength), $"copying output '{info.Name}'");
        }
        return result;
    }

    internal AccelTensor CopyOut(TfLiteTensor* tensor, AccelTensor buffer)
    {
        var info = Describe(tensor);
        if (info.ElementType != buffer.ElementType || !info.Shape.Select(d => (long)d).SequenceEqual(buffer.ShapeArray) || info.ByteSize != buffer.ByteLength)
        {
            throw new OutputMismatchException(info.Name,
                $"{_model.Label} produced {info.TfLiteType}{TensorShape.Format(info.Shape.Select(d => (long)d).ToArray())}, the buffer is {buffer.ElementType.ShortName()}{TensorShape.Format(buffer.Shape)}");
        }
        Check(TfLiteNative.TfLiteTensorCopyToBuffer(tensor, (void*)buffer.DataPointer, (nuint)buffer.ByteLength), $"copying output '{info.Name}'");
        GC.KeepAlive(buffer);
        return buffer;
    }

    /// <summary>
    /// Releases the interpreter (the model stays with its owner) after the call in progress, if any, has returned;
    /// later calls throw <see cref="ObjectDisposedException"/>. Safe to call more than once and from any thread.
    /// </summary>
    public void Dispose()
    {
        // Calls that take the lock from now on fail at once, so Dispose waits for the call in progress only (the lock is
        // not fair: without this, threads running back to back could keep it for seconds).
        _disposeRequested = true;
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            _handle?.Dispose();
            _xnnPack?.Dispose(); // after the interpreter: a delegate must outlive every interpreter it was applied to
            _options.Dispose();
            _reporter.Dispose();
            _profiler?.Dispose();
        }
    }
}
