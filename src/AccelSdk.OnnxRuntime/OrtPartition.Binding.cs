using AccelSdk.Backends;
using AccelSdk.Ir;
using Microsoft.ML.OnnxRuntime;

namespace AccelSdk.OnnxRuntime;

/// <summary>
/// Runs into caller buffers through an <see cref="OrtIoBinding"/>: inputs and outputs are bound as OrtValues over the
/// tensors' own memory, so ONNX Runtime reads and writes them in place. The binding of the last call is kept and reused
/// while the next call passes the same tensors (same objects, same addresses), so steady-state runs allocate nothing.
/// </summary>
internal sealed partial class OrtPartition
{
    private Binding? _idleBinding;

    /// <summary>
    /// Every input a dense host tensor, every output static-shaped and dense, each given buffer of exactly that shape.
    /// An output the caller skips (a null buffer) is bound to a scratch tensor the binding allocates once and reuses.
    /// </summary>
    private bool CanBind(IReadOnlyList<DeviceTensor> inputs, PartitionRunOptions options)
    {
        if (options.OutputBuffers is not { } buffers || buffers.Count != _outputNames.Length) return false;
        for (var i = 0; i < inputs.Count; i++)
        {
            if (inputs[i] is not HostTensor { Value.IsString: false }) return false;
        }
        for (var j = 0; j < buffers.Count; j++)
        {
            if (_staticOutputShapes[j] is not { } shape || _outputTypes[j] == ElementType.String) return false;
            if (buffers[j] is not { } buffer) continue;
            if (buffer.IsString || buffer.ElementType != _outputTypes[j] || !buffer.Shape.SequenceEqual(shape)) return false;
        }
        return true;
    }

    private IReadOnlyList<DeviceTensor> RunBound(IReadOnlyList<DeviceTensor> inputs, PartitionRunOptions options, RunOptions runOptions)
    {
        var buffers = options.OutputBuffers!;
        var binding = Interlocked.Exchange(ref _idleBinding, null);
        if (binding is not null && !binding.Matches(inputs, buffers))
        {
            binding.Dispose();
            binding = null;
        }
        binding ??= new Binding(this, inputs, buffers);
        try
        {
            _session.RunWithBinding(runOptions, binding.IoBinding);
            return binding.Results;
        }
        finally
        {
            Interlocked.Exchange(ref _idleBinding, binding)?.Dispose();
        }
    }

    /// <summary>
    /// An <see cref="OrtIoBinding"/> over a set of host tensors. It holds the tensors, so their memory stays alive and
    /// pinned for as long as the binding may be reused.
    /// </summary>
    private sealed class Binding : IDisposable
    {
        private readonly AccelTensor[] _tensors;
        private readonly nint[] _addresses;
        private readonly OrtValue[] _values;

        // Per output: true where the caller gave the buffer, false where the binding holds its own scratch tensor.
        private readonly bool[] _given;

        public Binding(OrtPartition owner, IReadOnlyList<DeviceTensor> inputs, IReadOnlyList<AccelTensor?> buffers)
        {
            _tensors = new AccelTensor[inputs.Count + buffers.Count];
            for (var i = 0; i < inputs.Count; i++) _tensors[i] = ((HostTensor)inputs[i]).Value;
            for (var j = 0; j < buffers.Count; j++)
            {
                _tensors[inputs.Count + j] = buffers[j] ?? AllocateOutput(owner._outputTypes[j], owner._staticOutputShapes[j]!, owner._outputNames[j]);
            }
            _given = buffers.Select(b => b is not null).ToArray();
            _addresses = new nint[_tensors.Length];
            _values = new OrtValue[_tensors.Length];
            IoBinding = owner._session.CreateIoBinding();
            try
            {
                for (var k = 0; k < _tensors.Length; k++)
                {
                    _addresses[k] = _tensors[k].DataPointer;
                    _values[k] = ToOrtValue(_tensors[k]);
                    if (k < inputs.Count) IoBinding.BindInput(owner._inputNames[k], _values[k]);
                    else IoBinding.BindOutput(owner._outputNames[k - inputs.Count], _values[k]);
                }
            }
            catch
            {
                Dispose();
                throw;
            }
            Results = _tensors.Skip(inputs.Count).Select(b => (DeviceTensor)new HostTensor(b)).ToArray();
        }

        public OrtIoBinding IoBinding { get; }

        /// <summary>The bound outputs as the partition's results: the caller's own buffers (nothing to copy) or the scratch tensors of skipped outputs.</summary>
        public DeviceTensor[] Results { get; }

        /// <summary>True when the call passes the very tensors bound here, none of whose storage was released since.</summary>
        public bool Matches(IReadOnlyList<DeviceTensor> inputs, IReadOnlyList<AccelTensor?> buffers)
        {
            if (inputs.Count + buffers.Count != _tensors.Length) return false;
            for (var k = 0; k < _tensors.Length; k++)
            {
                var tensor = k < inputs.Count ? ((HostTensor)inputs[k]).Value : buffers[k - inputs.Count];
                if (tensor is null && k >= inputs.Count && !_given[k - inputs.Count]) continue; // skipped again: its scratch stays bound
                if (!ReferenceEquals(tensor, _tensors[k]) || AddressOf(tensor) != _addresses[k]) return false;
            }
            return true;
        }

        private static nint AddressOf(AccelTensor tensor)
        {
            try
            {
                return tensor.DataPointer;
            }
            catch (ObjectDisposedException)
            {
                return -1; // released: binding anew reports it to the caller
            }
        }

        public void Dispose()
        {
            IoBinding.Dispose();
            foreach (var v in _values) v?.Dispose();
            var outputs = _tensors.Length - _given.Length;
            for (var j = 0; j < _given.Length; j++)
            {
                if (!_given[j]) _tensors[outputs + j]?.Dispose(); // the scratch tensor this binding allocated
            }
        }
    }
}
