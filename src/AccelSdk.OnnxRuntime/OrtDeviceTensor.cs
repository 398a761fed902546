using AccelSdk.Backends;
using AccelSdk.Ir;
using Microsoft.ML.OnnxRuntime;

namespace AccelSdk.OnnxRuntime;

/// <summary>
/// A tensor in an execution provider's device memory (CUDA, TensorRT), held as an <see cref="OrtValue"/> it owns and
/// releases once, on <see cref="DeviceTensor.Dispose()"/>. Made by <see cref="OrtBackend.Upload"/> and by the outputs of
/// a partition on such a device; read back with <see cref="OrtBackend.Download"/>. Partitions of ORT devices on the
/// same GPU take it as input without a copy.
/// </summary>
internal sealed class OrtDeviceTensor : DeviceTensor, IDeviceAddressable
{
    private OrtValue? _value;

    // A tensor of another runtime whose memory this OrtValue wraps in place: kept alive while this tensor is.
    private readonly object? _wrapped;

    // Set for a tensor its partition lends run after run: Dispose hands it back instead of releasing the OrtValue.
    private readonly Action? _onRelease;

    public OrtDeviceTensor(Device device, OrtValue value, ElementType elementType, long[] shape) : base(device, elementType, shape) => _value = value;

    /// <summary>The OrtValue; the tensor keeps ownership.</summary>
    public OrtValue Value => _value ?? throw new ObjectDisposedException(nameof(OrtDeviceTensor), $"tensor on {Device.Id} was disposed");

    /// <summary>An OrtValue over another runtime's tensor <paramref name="wrapped"/>'s memory (no copy); that tensor must outlive this one.</summary>
    public OrtDeviceTensor(Device device, OrtValue value, ElementType elementType, long[] shape, DeviceTensor wrapped) : this(device, value, elementType, shape) =>
        _wrapped = wrapped;

    /// <summary>The device address of the data, for another runtime on the same memory (<see cref="IDeviceAddressable"/>).</summary>
    public unsafe nint DataAddress
    {
        get
        {
            // A span over device memory is never read here: it only carries the pointer ONNX Runtime returns.
            fixed (byte* data = Value.GetTensorMutableRawData()) return (nint)data;
        }
    }

    /// <summary>Nothing to wait for: ONNX Runtime's run has synchronised its provider's stream before returning the outputs.</summary>
    public void WaitUntilWritten()
    {
    }

    /// <summary>Wraps an OrtValue ONNX Runtime produced, taking ownership of it.</summary>
    public static OrtDeviceTensor Own(Device device, OrtValue value)
    {
        var info = value.GetTensorTypeAndShape();
        return new OrtDeviceTensor(device, value, (ElementType)(int)info.ElementDataType, info.Shape);
    }

    /// <summary>
    /// A tensor over an OrtValue its partition allocated once and lends run after run: disposing it calls
    /// <paramref name="onRelease"/> (the partition takes it back) and keeps the OrtValue, which the partition releases.
    /// </summary>
    public static OrtDeviceTensor Lent(Device device, OrtValue value, ElementType elementType, long[] shape, Action onRelease) =>
        new(device, value, elementType, shape, onRelease);

    private OrtDeviceTensor(Device device, OrtValue value, ElementType elementType, long[] shape, Action onRelease) : this(device, value, elementType, shape) =>
        _onRelease = onRelease;

    protected override void Dispose(bool disposing)
    {
        if (_onRelease is not null) _onRelease();
        else Interlocked.Exchange(ref _value, null)?.Dispose();
        GC.KeepAlive(_wrapped);
    }
}
