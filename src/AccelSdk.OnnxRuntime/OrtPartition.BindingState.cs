using AccelSdk.Backends;
using AccelSdk.Ir;
using Microsoft.ML.OnnxRuntime;

namespace AccelSdk.OnnxRuntime;

/// <summary>One reused binding of an ONNX Runtime partition: what is bound to it, and the outputs it lends (see OrtPartition.Binding.cs).</summary>
internal sealed partial class OrtPartition
{
    private enum OutputMode : byte
    {
        Unbound,
        CallerBuffer,
        Reused,
        Fresh,
        // A dynamic output ONNX Runtime allocates this run; the binding then keeps a tensor of the shape it produced.
        Discover,
    }

    /// <summary>
    /// An <see cref="OrtIoBinding"/> and what is bound to it: it holds the bound tensors, so their memory stays alive and
    /// pinned while the binding may run again, and owns the reused output tensors it allocated.
    /// </summary>
    private sealed class Binding : IDisposable
    {
        private readonly OrtPartition _owner;

        // Inputs: the host tensor (or device OrtValue) bound last, its address, and the OrtValue made over a host tensor.
        private readonly object?[] _inputs;
        private readonly nint[] _inputAddresses;
        private readonly OrtValue?[] _inputValues;

        // Outputs: how each is bound now, the caller buffer or fresh tensor bound, and the OrtValue over it.
        private readonly OutputMode[] _modes;
        private readonly AccelTensor?[] _outputTensors;
        private readonly nint[] _outputAddresses;
        private readonly OrtValue?[] _outputValues;

        // Reused outputs, allocated once: in host memory a tensor (and the OrtValue over it), on a device an OrtValue.
        private readonly AccelTensor?[] _reusedHost;
        private readonly OrtValue?[] _reusedValues;
        private readonly DeviceTensor?[] _reusedResults;
        private readonly DeviceTensor?[] _bufferResults;

        // The input shapes of the last run, and whether this run's repeat them (a dynamic output then keeps its shape).
        private readonly long[]?[] _inputShapes;
        private bool _sameInputShapes;

        // Results lent and not yet handed back: 1 per output in _lent; the binding is idle again at 0 outstanding.
        private readonly int[] _lent;
        private int _outstanding;

        public Binding(OrtPartition owner)
        {
            _owner = owner;
            var (inputs, outputs) = (owner._inputNames.Length, owner._outputNames.Length);
            (_inputs, _inputAddresses, _inputValues) = (new object?[inputs], new nint[inputs], new OrtValue?[inputs]);
            (_modes, _outputTensors, _outputAddresses, _outputValues) = (new OutputMode[outputs], new AccelTensor?[outputs], new nint[outputs], new OrtValue?[outputs]);
            (_reusedHost, _reusedValues, _reusedResults, _bufferResults) = (new AccelTensor?[outputs], new OrtValue?[outputs], new DeviceTensor?[outputs], new DeviceTensor?[outputs]);
            _lent = new int[outputs];
            _inputShapes = new long[]?[inputs];
            Results = new DeviceTensor[outputs];
            IoBinding = owner._session.CreateIoBinding();
        }

        public OrtIoBinding IoBinding { get; }

        /// <summary>The results of the last run, in output order.</summary>
        private DeviceTensor[] Results { get; }

        public bool HasCallerBuffers => Array.IndexOf(_modes, OutputMode.CallerBuffer) >= 0;

        /// <summary>Binds what differs from the last run: new input tensors, other caller buffers, a change of output mode; fresh outputs every time.</summary>
        public void Prepare(IReadOnlyList<DeviceTensor> inputs, PartitionRunOptions options)
        {
            _sameInputShapes = true;
            for (var i = 0; i < inputs.Count; i++)
            {
                PrepareInput(i, inputs[i]);
                var shape = inputs[i].Shape;
                if (ReferenceEquals(_inputShapes[i], shape)) continue;
                if (_inputShapes[i] is not { } last || !last.AsSpan().SequenceEqual(shape)) _sameInputShapes = false;
                _inputShapes[i] = shape;
            }
            for (var j = 0; j < _modes.Length; j++)
            {
                if (options.BufferFor(j) is { } buffer) PrepareBuffer(j, buffer);
                else if (_owner._staticOutputShapes[j] is null) PrepareDynamic(j);
                else if (options.IsReusable(j)) PrepareReused(j);
                else PrepareFresh(j);
            }
        }

        /// <summary>
        /// A dynamic reusable output: the tensor kept from an earlier run while the input shapes repeat; otherwise ONNX
        /// Runtime allocates it this run and <see cref="AdoptDiscoveredOutputs"/> keeps a tensor of the shape it produced.
        /// </summary>
        private void PrepareDynamic(int j)
        {
            if (_sameInputShapes && _reusedResults[j] is not null)
            {
                if (_modes[j] == OutputMode.Reused) return;
                ReleaseOutputValue(j);
                IoBinding.BindOutput(_owner._outputNames[j], _reusedValues[j]!);
                (_modes[j], Results[j]) = (OutputMode.Reused, _reusedResults[j]!);
                return;
            }
            ReleaseOutputValue(j);
            IoBinding.BindOutputToDevice(_owner._outputNames[j], OrtMemoryInfo.DefaultInstance);
            _modes[j] = OutputMode.Discover;
        }

        /// <summary>
        /// Copies each output ONNX Runtime allocated this run (<see cref="OutputMode.Discover"/>) into a tensor the binding
        /// keeps and binds for the next runs: one allocation and one copy each time a dynamic output's shape changes.
        /// </summary>
        public unsafe void AdoptDiscoveredOutputs()
        {
            if (Array.IndexOf(_modes, OutputMode.Discover) < 0) return;
            var names = IoBinding.GetOutputNames();
            using var values = IoBinding.GetOutputValues();
            for (var j = 0; j < _modes.Length; j++)
            {
                if (_modes[j] != OutputMode.Discover) continue;
                var value = values[Array.IndexOf(names, _owner._outputNames[j])];
                var shape = value.GetTensorTypeAndShape().Shape;
                _reusedValues[j]?.Dispose();
                _reusedHost[j]?.Dispose();
                var kept = AllocateOutput(_owner._outputTypes[j], shape, _owner._outputNames[j]);
                var bytes = kept.ByteLength;
                if (bytes > 0)
                {
                    fixed (byte* source = value.GetTensorMutableRawData()) System.Buffer.MemoryCopy(source, (void*)kept.DataPointer, bytes, bytes);
                }
                _reusedHost[j] = kept;
                _reusedValues[j] = ToOrtValue(kept);
                _reusedResults[j] = new HostTensor(kept, ReleaseOf(j));
                IoBinding.BindOutput(_owner._outputNames[j], _reusedValues[j]!);
                (_modes[j], Results[j]) = (OutputMode.Reused, _reusedResults[j]!);
            }
        }

        private void PrepareInput(int i, DeviceTensor input)
        {
            if (input is OrtDeviceTensor device)
            {
                var value = device.Value;
                if (ReferenceEquals(_inputs[i], value)) return;
                _owner.Bind(IoBinding, i, value);
                ReplaceInput(i, value, 0, null);
                return;
            }
            var tensor = ((HostTensor)input).Value;
            var address = tensor.DataPointer;
            if (ReferenceEquals(_inputs[i], tensor) && _inputAddresses[i] == address) return;
            var wrapped = ToOrtValue(tensor);
            _owner.Bind(IoBinding, i, wrapped);
            ReplaceInput(i, tensor, address, wrapped);
        }

        private void ReplaceInput(int i, object bound, nint address, OrtValue? wrapped)
        {
            _inputValues[i]?.Dispose();
            (_inputs[i], _inputAddresses[i], _inputValues[i]) = (bound, address, wrapped);
        }

        private void PrepareBuffer(int j, AccelTensor buffer)
        {
            var address = buffer.DataPointer;
            if (_modes[j] == OutputMode.CallerBuffer && ReferenceEquals(_outputTensors[j], buffer) && _outputAddresses[j] == address) return;
            BindOutputTensor(j, buffer, OutputMode.CallerBuffer);
            _bufferResults[j] = new HostTensor(buffer, ReleaseOf(j));
            Results[j] = _bufferResults[j]!;
        }

        private void PrepareFresh(int j)
        {
            if (_owner._deviceMemory is null)
            {
                var fresh = AllocateOutput(_owner._outputTypes[j], _owner._staticOutputShapes[j]!, _owner._outputNames[j]);
                BindOutputTensor(j, fresh, OutputMode.Fresh);
                Results[j] = new HostTensor(fresh);
                return;
            }
            var value = _owner.AllocateOnDevice(j);
            ReleaseOutputValue(j);
            IoBinding.BindOutput(_owner._outputNames[j], value);
            _modes[j] = OutputMode.Fresh;
            Results[j] = new OrtDeviceTensor(_owner.Device, value, _owner._outputTypes[j], _owner._staticOutputShapes[j]!);
        }

        private void PrepareReused(int j)
        {
            if (_modes[j] == OutputMode.Reused) return;
            if (_reusedResults[j] is null)
            {
                if (_owner._deviceMemory is null)
                {
                    _reusedHost[j] = AllocateOutput(_owner._outputTypes[j], _owner._staticOutputShapes[j]!, _owner._outputNames[j]);
                    _reusedValues[j] = ToOrtValue(_reusedHost[j]!);
                    _reusedResults[j] = new HostTensor(_reusedHost[j]!, ReleaseOf(j));
                }
                else
                {
                    _reusedValues[j] = _owner.AllocateOnDevice(j);
                    _reusedResults[j] = OrtDeviceTensor.Lent(_owner.Device, _reusedValues[j]!, _owner._outputTypes[j], _owner._staticOutputShapes[j]!, ReleaseOf(j));
                }
            }
            ReleaseOutputValue(j);
            IoBinding.BindOutput(_owner._outputNames[j], _reusedValues[j]!);
            _modes[j] = OutputMode.Reused;
            Results[j] = _reusedResults[j]!;
        }

        private void BindOutputTensor(int j, AccelTensor tensor, OutputMode mode)
        {
            var value = ToOrtValue(tensor);
            try
            {
                IoBinding.BindOutput(_owner._outputNames[j], value);
            }
            catch
            {
                value.Dispose();
                throw;
            }
            ReleaseOutputValue(j);
            (_modes[j], _outputTensors[j], _outputAddresses[j], _outputValues[j]) = (mode, tensor, tensor.DataPointer, value);
        }

        private void ReleaseOutputValue(int j)
        {
            _outputValues[j]?.Dispose();
            (_outputTensors[j], _outputValues[j], _outputAddresses[j]) = (null, null, 0);
        }

        /// <summary>
        /// Hands out the results of the run just made. Caller buffers and reused outputs are lent: the binding stays out
        /// of the idle pool until each is disposed. With nothing lent it is idle again at once, so the caller gets a copy
        /// of the results list.
        /// </summary>
        public IReadOnlyList<DeviceTensor> Lend()
        {
            var lent = 0;
            for (var j = 0; j < _modes.Length; j++)
            {
                var isLent = _modes[j] is OutputMode.CallerBuffer or OutputMode.Reused;
                _lent[j] = isLent ? 1 : 0;
                if (isLent) lent++;
                if (_modes[j] == OutputMode.Fresh)
                {
                    // The caller owns a fresh output: the binding keeps no reference to it past this run.
                    if (_owner._deviceMemory is null) ReleaseOutputValue(j);
                    _modes[j] = OutputMode.Unbound;
                }
            }
            if (lent == 0)
            {
                var copy = (DeviceTensor[])Results.Clone();
                _owner.ReturnIdleBinding(this);
                return copy;
            }
            Volatile.Write(ref _outstanding, lent);
            return Results;
        }

        // A separate method: a lambda over j in the Prepare methods would allocate its closure on every call, used or not.
        private Action ReleaseOf(int j) => () => Release(j);

        private void Release(int j)
        {
            if (Interlocked.Exchange(ref _lent[j], 0) == 1 && Interlocked.Decrement(ref _outstanding) == 0) _owner.ReturnIdleBinding(this);
        }

        public void Dispose()
        {
            IoBinding.Dispose();
            foreach (var v in _inputValues) v?.Dispose();
            foreach (var v in _outputValues) v?.Dispose();
            foreach (var v in _reusedValues) v?.Dispose();
            foreach (var t in _reusedHost) t?.Dispose();
        }
    }
}
