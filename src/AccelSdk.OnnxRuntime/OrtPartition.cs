using AccelSdk.Backends;
using AccelSdk.Ir;
using Microsoft.ML.OnnxRuntime;
using TensorElementType = Microsoft.ML.OnnxRuntime.Tensors.TensorElementType;

namespace AccelSdk.OnnxRuntime;

/// <summary>
/// One ONNX Runtime session. Inputs are wrapped in place (the host tensors are pinned, so no copy), and outputs whose
/// shapes are static are pre-allocated as host tensors that ONNX Runtime writes into directly; with caller buffers or
/// reusable outputs a run goes through a reused binding (OrtPartition.Binding.cs). Runs may overlap;
/// <see cref="Dispose"/> asks runs in progress to stop, waits until they have left, and only then frees the session.
/// </summary>
internal sealed partial class OrtPartition : ICompiledPartition
{
    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions = new();
    private readonly string[] _inputNames;
    private readonly string[] _outputNames;
    private readonly ElementType[] _outputTypes;
    private readonly long[]?[] _staticOutputShapes;
    private readonly string _label;
    private readonly RunGuard _guard = new(nameof(OrtPartition));
    private readonly TimeSpan? _runTimeout;
    private volatile bool _preallocate;

    // The pinned ORT-format bytes ONNX Runtime reads the model and initializers from; must outlive the session.
    private readonly byte[]? _modelBytes;

    // The device's own memory (CUDA): outputs stay there as OrtDeviceTensors. Null for a device in host memory.
    private readonly OrtMemoryInfo? _deviceMemory;

    public OrtPartition(Device device, InferenceSession session, Model model, TimeSpan compileTime, byte[]? pinnedModelBytes = null, TimeSpan? runTimeout = null,
        OrtMemoryInfo? deviceMemory = null, Func<OrtAllocator>? deviceAllocator = null)
    {
        _deviceMemory = deviceMemory;
        _deviceAllocator = deviceMemory is null ? null : deviceAllocator;
        _runTimeout = runTimeout;
        _modelBytes = pinnedModelBytes;
        Device = device;
        _session = session;
        CompileTime = compileTime;
        _label = model.Label;
        var declaredInputs = model.Graph.Inputs.ToDictionary(i => i.Name, StringComparer.Ordinal);
        _inputNames = session.InputMetadata.Keys.ToArray();
        Inputs = _inputNames.Select(n => declaredInputs.GetValueOrDefault(n) ?? new ValueInfo(n, null)).ToArray();
        Outputs = model.Graph.Outputs.ToArray();
        _outputNames = Outputs.Select(o => o.Name).ToArray();
        _outputTypes = new ElementType[_outputNames.Length];
        _staticOutputShapes = new long[]?[_outputNames.Length];
        var allStatic = true;
        for (var i = 0; i < _outputNames.Length; i++)
        {
            var meta = session.OutputMetadata[_outputNames[i]];
            _outputTypes[i] = meta.IsTensor ? (ElementType)(int)meta.ElementDataType : ElementType.Undefined;
            var dims = meta.IsTensor ? meta.Dimensions : null;
            var isStatic = dims is not null && dims.All(d => d >= 0) && _outputTypes[i] != ElementType.String && _outputTypes[i].SizeInBytes() > 0;
            _staticOutputShapes[i] = isStatic ? dims!.Select(d => (long)d).ToArray() : null;
            allStatic &= isStatic;
        }
        _preallocate = allStatic && _outputNames.Length > 0;
        _bindable = _outputNames.Length > 0 && _outputTypes.All(t => t != ElementType.String && t.SizeInBytes() > 0);
    }

    public Device Device { get; }

    public IReadOnlyList<ValueInfo> Inputs { get; }

    public IReadOnlyList<ValueInfo> Outputs { get; }

    public TimeSpan CompileTime { get; }

    public bool LoadedFromArtifactCache => _modelBytes is not null;

    public IReadOnlyList<DeviceTensor> Run(IReadOnlyList<DeviceTensor> inputs) => Run(inputs, default);

    public IReadOnlyList<DeviceTensor> Run(IReadOnlyList<DeviceTensor> inputs, PartitionRunOptions options)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        using var lease = _guard.Enter();
        if (inputs.Count != _inputNames.Length)
        {
            throw new BackendException(OrtBackend.BackendName, $"{_label}: {inputs.Count} inputs given, the session takes {_inputNames.Length}");
        }
        var cancellationToken = options.CancellationToken;
        cancellationToken.ThrowIfCancellationRequested();
        using var control = _runTimeout is not null || cancellationToken.CanBeCanceled ? RunControl.Start(this, _runTimeout, cancellationToken) : null;
        var runOptions = control?.Options ?? _runOptions;
        try
        {
            if (CanBind(inputs, options) && RunBound(inputs, options, runOptions, control) is { } bound) return bound;
            if (_deviceMemory is not null) return RunOnDevice(inputs, runOptions);
            return RunAllocating(inputs, runOptions, control);
        }
        catch (OnnxRuntimeException e) when (control?.Cancelled == true)
        {
            throw new OperationCanceledException($"{_label} on {Device.Id}: the run was cancelled", e, cancellationToken);
        }
        catch (OnnxRuntimeException e) when (control?.TimedOut == true)
        {
            throw new BackendException(OrtBackend.BackendName,
                $"{_label} on {Device.Id}: the run was stopped after the {OrtBackend.RunTimeoutSetting} limit of {_runTimeout!.Value.TotalMilliseconds:F0} ms", e);
        }
        catch (OnnxRuntimeException e) when (_guard.IsDisposed)
        {
            throw new ObjectDisposedException($"{nameof(OrtPartition)} {_label} on {Device.Id} was disposed during this run", e);
        }
        catch (OnnxRuntimeException e)
        {
            throw new BackendException(OrtBackend.BackendName, $"{_label} on {Device.Id}: {OrtBackend.FirstLine(e.Message)}", e);
        }
    }

    private IReadOnlyList<DeviceTensor> RunAllocating(IReadOnlyList<DeviceTensor> inputs, RunOptions runOptions, RunControl? control)
    {
        var ortInputs = new OrtValue[inputs.Count];
        try
        {
            for (var i = 0; i < ortInputs.Length; i++) ortInputs[i] = ToOrtValue(HostInput(inputs, i).Value);
            if (_preallocate)
            {
                var result = TryRunPreallocated(ortInputs, runOptions, control);
                if (result is not null) return result;
            }
            using var outputs = _session.Run(runOptions, _inputNames, ortInputs, _outputNames);
            var tensors = new DeviceTensor[outputs.Count];
            var i2 = 0;
            foreach (var value in outputs) tensors[i2++] = new HostTensor(FromOrtValue(value, _outputNames[i2 - 1]));
            return tensors;
        }
        finally
        {
            foreach (var v in ortInputs) v?.Dispose();
            // The OrtValues point into the inputs' pinned buffers; pinned arrays can still be collected once
            // unreferenced, so the inputs must outlive the native run.
            GC.KeepAlive(inputs);
        }
    }

    /// <summary>
    /// A run on a device with its own memory: inputs already there (<see cref="OrtDeviceTensor"/>) are bound as they are,
    /// host inputs are bound in place (ONNX Runtime copies them over), and outputs are left on the device.
    /// </summary>
    private IReadOnlyList<DeviceTensor> RunOnDevice(IReadOnlyList<DeviceTensor> inputs, RunOptions runOptions)
    {
        var wrapped = new OrtValue?[inputs.Count];
        try
        {
            using var binding = _session.CreateIoBinding();
            for (var i = 0; i < inputs.Count; i++)
            {
                var value = inputs[i] switch
                {
                    OrtDeviceTensor d when d.Device.MemorySpace.Equals(Device.MemorySpace) => d.Value,
                    null => throw new ArgumentNullException(nameof(inputs), $"input '{_inputNames[i]}' is null"),
                    HostTensor h => wrapped[i] = ToOrtValue(h.Value),
                    var other => throw new BackendException(OrtBackend.BackendName, $"input '{_inputNames[i]}' is on {other.Device.Id} ({other.Device.MemorySpace}), not on {Device.Id} ({Device.MemorySpace}) or in host memory"),
                };
                binding.BindInput(_inputNames[i], value);
            }
            foreach (var name in _outputNames) binding.BindOutputToDevice(name, _deviceMemory!);
            _session.RunWithBinding(runOptions, binding);
            // The collection owns the values; each is handed to one OrtDeviceTensor, which releases it.
            var values = binding.GetOutputValues();
            var result = new DeviceTensor[values.Count];
            for (var j = 0; j < result.Length; j++) result[j] = OrtDeviceTensor.Own(Device, values[j]);
            return result;
        }
        finally
        {
            foreach (var v in wrapped) v?.Dispose();
            GC.KeepAlive(inputs);
        }
    }

    private HostTensor HostInput(IReadOnlyList<DeviceTensor> inputs, int i) => inputs[i] switch
    {
        HostTensor h => h,
        null => throw new ArgumentNullException(nameof(inputs), $"input '{_inputNames[i]}' is null"),
        _ => throw new BackendException(OrtBackend.BackendName, $"input '{_inputNames[i]}' is on {inputs[i].Device.Id}, not in host memory"),
    };

    private DeviceTensor[]? TryRunPreallocated(OrtValue[] ortInputs, RunOptions runOptions, RunControl? control)
    {
        var tensors = new AccelTensor[_outputNames.Length];
        var ortOutputs = new OrtValue[_outputNames.Length];
        try
        {
            for (var i = 0; i < tensors.Length; i++)
            {
                tensors[i] = AllocateOutput(_outputTypes[i], _staticOutputShapes[i]!, _outputNames[i]);
                ortOutputs[i] = ToOrtValue(tensors[i]);
            }
            _session.Run(runOptions, _inputNames, ortInputs, _outputNames, ortOutputs);
            var result = new DeviceTensor[tensors.Length];
            for (var i = 0; i < tensors.Length; i++) result[i] = new HostTensor(tensors[i]);
            return result;
        }
        catch (OnnxRuntimeException) when (!_guard.IsDisposed && control?.Fired != true)
        {
            // The declared output shape did not hold at run time (a model whose metadata is looser than its data):
            // from now on let ONNX Runtime allocate outputs. The caller reruns this call that way.
            _preallocate = false;
            return null;
        }
        finally
        {
            foreach (var v in ortOutputs) v?.Dispose();
            GC.KeepAlive(tensors);
        }
    }

    /// <summary>An output ONNX Runtime writes into: a pinned SDK buffer, or native memory past the 2 GiB such a buffer holds.</summary>
    private static AccelTensor AllocateOutput(ElementType type, long[] shape, string name) =>
        AccelTensor.ByteLengthOf(type, shape, name) > AccelTensor.MaxByteLength
            ? AccelTensor.AllocateNative(type, shape, name)
            : AccelTensor.Zeros(type, shape, name);

    /// <summary>
    /// Wraps a host tensor without copying. The OrtValue points into the tensor's pinned buffer: the caller keeps
    /// the tensor alive (GC.KeepAlive) until the OrtValue is disposed.
    /// </summary>
    internal static OrtValue ToOrtValue(AccelTensor tensor)
    {
        if (tensor.IsString)
        {
            var value = OrtValue.CreateTensorWithEmptyStrings(OrtAllocator.DefaultInstance, tensor.ShapeArray);
            var strings = tensor.Strings;
            for (var i = 0; i < strings.Count; i++) value.StringTensorSetElementAt(strings[i].AsSpan(), i);
            return value;
        }
        return OrtValue.CreateTensorValueWithData(OrtMemoryInfo.DefaultInstance, (TensorElementType)(int)tensor.ElementType,
            tensor.ShapeArray, tensor.DataPointer, tensor.ByteLength);
    }

    internal static AccelTensor FromOrtValue(OrtValue value, string name)
    {
        if (!value.IsTensor)
        {
            throw new BackendException(OrtBackend.BackendName, $"output '{name}' is a {value.OnnxType}, not a tensor; AccelSdk sessions exchange dense tensors only");
        }
        var info = value.GetTensorTypeAndShape();
        var shape = info.Shape;
        if (info.IsString) return AccelTensor.CreateStrings(value.GetStringTensorAsArray(), shape).WithName(name);
        return AccelTensor.FromBytes((ElementType)(int)info.ElementDataType, shape, value.GetTensorMutableRawData(), name);
    }

    public void Dispose()
    {
        // Terminate makes runs in progress return early with an error (reported as ObjectDisposedException).
        if (!_guard.BeginDispose(TerminateAll)) return;
        DisposeIdleBindings();
        _runOptions.Dispose();
        _session.Dispose();
        GC.KeepAlive(_modelBytes);
    }

    private void TerminateAll()
    {
        _runOptions.Terminate = true;
        foreach (var control in _controls.Keys) control.Terminate(RunControl.Reason.Disposed);
    }
}
