using AccelSdk.Ir;

namespace AccelSdk.Backends;

/// <summary>A tensor resident on a device. The owner disposes it; disposing releases device memory.</summary>
public abstract class DeviceTensor : IDisposable
{
    /// <summary>Creates the tensor description.</summary>
    protected DeviceTensor(Device device, ElementType elementType, long[] shape)
    {
        Device = device;
        ElementType = elementType;
        Shape = shape;
    }

    /// <summary>The device holding the data.</summary>
    public Device Device { get; }

    /// <summary>Element type.</summary>
    public ElementType ElementType { get; }

    /// <summary>Concrete shape.</summary>
    public long[] Shape { get; }

    /// <summary>Size in bytes of the dense data.</summary>
    public long ByteLength => ElementType.SizeInBytes() == 0 ? 0 : AccelTensor.ByteLengthOf(ElementType, Shape);

    /// <summary>Releases device memory.</summary>
    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases resources.</summary>
    protected virtual void Dispose(bool disposing) { }
}

/// <summary>A tensor in host memory, usable by every device of the <see cref="MemorySpace.Host"/> space without a copy.</summary>
public sealed class HostTensor : DeviceTensor
{
    private readonly bool _ownsValue;
    private readonly Action? _onRelease;

    /// <summary>Wraps a host tensor.</summary>
    public HostTensor(AccelTensor value) : base(Device.Host, value.ElementType, value.ShapeArray) => Value = value;

    /// <summary>
    /// Wraps a host tensor that this wrapper owns when <paramref name="ownsValue"/> is true: disposing the wrapper
    /// disposes it (a backend's buffer lent in place, see <see cref="AccelTensor.WrapBackendMemory"/>).
    /// </summary>
    public HostTensor(AccelTensor value, bool ownsValue) : this(value) => _ownsValue = ownsValue;

    /// <summary>
    /// Wraps a host tensor a backend reuses run after run (an output buffer allocated once): disposing the wrapper calls
    /// <paramref name="onRelease"/>, which hands the memory back to the backend, and frees nothing. The backend may hand
    /// out the same wrapper again afterwards, so <paramref name="onRelease"/> must tolerate a second call for one lending.
    /// Only for outputs the caller promised to read no longer than it holds the wrapper
    /// (<see cref="PartitionRunOptions.ReusableOutputs"/>).
    /// </summary>
    public HostTensor(AccelTensor value, Action onRelease) : this(value) => _onRelease = onRelease ?? throw new ArgumentNullException(nameof(onRelease));

    /// <summary>The host data.</summary>
    public AccelTensor Value { get; }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (!disposing) return;
        if (_onRelease is not null) _onRelease();
        else if (_ownsValue) Value.Dispose();
    }
}
