using AccelSdk.Backends;
using AccelSdk.Ir;
using Microsoft.ML.OnnxRuntime;

namespace AccelSdk.OnnxRuntime;

/// <summary>
/// Runs through a reused <see cref="OrtIoBinding"/>. Inputs are bound as OrtValues over the host tensors' own memory,
/// or, on a device with its own memory, as the <see cref="OrtDeviceTensor"/>s they are. Each output goes to the caller's
/// buffer, to a tensor the binding allocated once in the partition's memory space and lends run after run (an output
/// the caller reads only while it holds the returned tensor: <see cref="PartitionRunOptions.ReusableOutputs"/>), or to
/// a fresh tensor the caller keeps. Only what changed since the binding's last run is bound again. A binding is out of
/// the idle pool while any tensor it lent is held and goes back when the last is disposed, so steady-state runs
/// allocate nothing, and concurrent or pipelined runs each hold their own.
/// </summary>
internal sealed partial class OrtPartition
{
    private const int IdleBindingSlots = 4;
    private readonly Binding?[] _idleBindings = new Binding?[IdleBindingSlots];
    private int _bindingsCreated;

    // Allocates in the device's own memory (CUDA); null for a device in host memory.
    private readonly Func<OrtAllocator>? _deviceAllocator;

    // False once a bound run found the declared output shapes wrong (or the outputs are not all numeric tensors).
    private volatile bool _bindable;

    /// <summary>Bindings made so far (a steady state makes none): for tests.</summary>
    internal int BindingsCreated => Volatile.Read(ref _bindingsCreated);

    /// <summary>
    /// Every input a dense host tensor (or already in the device's memory); every output static-shaped, with a given
    /// buffer of exactly that shape, or, in host memory, dynamic and reusable (kept at the shape the last run produced
    /// while the input shapes repeat); the options name buffers or reusable outputs (otherwise a plain run is as cheap).
    /// </summary>
    private bool CanBind(IReadOnlyList<DeviceTensor> inputs, PartitionRunOptions options)
    {
        if (!_bindable || (options.OutputBuffers is null && options.ReusableOutputs is null)) return false;
        if (_deviceMemory is not null && _deviceAllocator is null) return false;
        for (var i = 0; i < inputs.Count; i++)
        {
            if (!IsBindable(inputs[i])) return false;
        }
        for (var j = 0; j < _outputNames.Length; j++)
        {
            var buffer = options.BufferFor(j);
            if (_staticOutputShapes[j] is not { } shape)
            {
                if (buffer is not null || !options.IsReusable(j) || _deviceMemory is not null) return false;
                continue;
            }
            if (buffer is not null && (buffer.IsString || buffer.ElementType != _outputTypes[j] || !buffer.Shape.SequenceEqual(shape))) return false;
        }
        return true;
    }

    private bool IsBindable(DeviceTensor? input) => input switch
    {
        HostTensor { Value.IsString: false } => true,
        OrtDeviceTensor d => _deviceMemory is not null && d.Device.MemorySpace.Equals(Device.MemorySpace),
        _ => false,
    };

    /// <summary>The run through a binding, or null when the declared output shapes did not hold (the caller reruns without one).</summary>
    private IReadOnlyList<DeviceTensor>? RunBound(IReadOnlyList<DeviceTensor> inputs, PartitionRunOptions options, RunOptions runOptions, RunControl? control)
    {
        var binding = TakeIdleBinding() ?? NewBinding();
        try
        {
            binding.Prepare(inputs, options);
            _session.RunWithBinding(runOptions, binding.IoBinding);
        }
        catch (OnnxRuntimeException) when (!_guard.IsDisposed && control?.Fired != true && !binding.HasCallerBuffers)
        {
            // The declared output shapes did not hold at run time (metadata looser than the data), or a dynamic output's
            // shape depends on the data, not only on the input shapes: let ONNX Runtime allocate outputs from now on.
            binding.Dispose();
            _bindable = false;
            return null;
        }
        catch
        {
            binding.Dispose();
            throw;
        }
        try
        {
            binding.AdoptDiscoveredOutputs();
        }
        catch
        {
            binding.Dispose();
            throw;
        }
        return binding.Lend();
    }

    private Binding NewBinding()
    {
        Interlocked.Increment(ref _bindingsCreated);
        return new Binding(this);
    }

    private Binding? TakeIdleBinding()
    {
        for (var i = 0; i < _idleBindings.Length; i++)
        {
            if (Interlocked.Exchange(ref _idleBindings[i], null) is { } binding) return binding;
        }
        return null;
    }

    private void ReturnIdleBinding(Binding binding)
    {
        if (!_guard.IsDisposed)
        {
            for (var i = 0; i < _idleBindings.Length; i++)
            {
                if (Interlocked.CompareExchange(ref _idleBindings[i], binding, null) is null)
                {
                    // Dispose may have emptied the pool in between: take it back out and release it.
                    if (_guard.IsDisposed && Interlocked.CompareExchange(ref _idleBindings[i], null, binding) == binding) binding.Dispose();
                    return;
                }
            }
        }
        binding.Dispose();
    }

    private void DisposeIdleBindings()
    {
        for (var i = 0; i < _idleBindings.Length; i++) Interlocked.Exchange(ref _idleBindings[i], null)?.Dispose();
    }

    private void Bind(OrtIoBinding binding, int input, OrtValue value) => binding.BindInput(_inputNames[input], value);

    /// <summary>An output tensor of its declared static shape in the device's own memory, allocated by its provider.</summary>
    private OrtValue AllocateOnDevice(int output) =>
        OrtValue.CreateAllocatedTensorValue(_deviceAllocator!(), (Microsoft.ML.OnnxRuntime.Tensors.TensorElementType)(int)_outputTypes[output], _staticOutputShapes[output]!);
}
