using System.Numerics.Tensors;
using System.Runtime.CompilerServices;

namespace AccelSdk.Ir;

/// <summary>Wrapping caller memory without copying, native storage, and views as System.Numerics.Tensors types.</summary>
public sealed partial class AccelTensor
{
    /// <summary>Where the dense data lives and who frees it.</summary>
    public TensorStorageKind StorageKind => _storage?.Kind ?? TensorStorageKind.None;

    /// <summary>True when the dense data starts on a <see cref="Alignment"/>-byte boundary (always, except for wrapped caller memory).</summary>
    public bool IsAligned => _storage is { } s && (s.Length == 0 || s.Pointer % Alignment == 0);

    /// <summary>
    /// Wraps <paramref name="data"/> without copying: the tensor reads and writes the array itself, which stays pinned
    /// until the tensor is disposed (or collected). The array must hold exactly the shape's element count.
    /// </summary>
    public static AccelTensor Wrap<T>(T[] data, params long[] shape) where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(data);
        return Wrap(data.AsMemory(), shape);
    }

    /// <summary>
    /// Wraps <paramref name="data"/> without copying; it is pinned until the tensor is disposed (or collected). The
    /// memory must hold exactly the shape's element count; it need not be 64-byte aligned (<see cref="IsAligned"/>).
    /// </summary>
    public static unsafe AccelTensor Wrap<T>(Memory<T> data, params long[] shape) where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(shape);
        var type = ElementTypeInfo.Of<T>();
        CheckLength(data.Length, shape);
        var handle = data.Pin();
        var storage = new PinnedCallerStorage(handle, (nint)handle.Pointer, (long)data.Length * sizeof(T), data);
        return new AccelTensor(type, (long[])shape.Clone(), storage, null, null, ownsStorage: true);
    }

    /// <summary>
    /// Wraps a dense <see cref="Tensor{T}"/> without copying (same data, same shape); its memory is pinned until this
    /// tensor is disposed (or collected). A non-dense tensor (a strided slice) cannot be wrapped: copy it with
    /// <see cref="Create{T}(ReadOnlyTensorSpan{T})"/>.
    /// </summary>
    public static unsafe AccelTensor Wrap<T>(Tensor<T> tensor) where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(tensor);
        var type = ElementTypeInfo.Of<T>();
        if (!tensor.IsDense)
        {
            throw new InvalidTensorException(null, $"a Tensor<{typeof(T).Name}> of shape {FormatLengths(tensor.Lengths)} with strides {FormatLengths(tensor.Strides)} is not dense; only dense tensors are wrapped without a copy");
        }
        var shape = ToShape(tensor.Lengths);
        var handle = tensor.GetPinnedHandle();
        var pointer = tensor.FlattenedLength == 0 ? 0 : (nint)Unsafe.AsPointer(ref tensor.GetPinnableReference());
        var storage = new PinnedCallerStorage(handle, pointer, checked((long)tensor.FlattenedLength * sizeof(T)), tensor);
        return new AccelTensor(type, shape, storage, null, null, ownsStorage: true);
    }

    /// <summary>Creates a tensor by copying a (possibly strided) tensor span; a span cannot be kept, so it is always copied.</summary>
    public static AccelTensor Create<T>(ReadOnlyTensorSpan<T> data) where T : unmanaged
    {
        var tensor = Zeros(ElementTypeInfo.Of<T>(), ToShape(data.Lengths));
        data.FlattenTo(tensor.AsSpan<T>());
        return tensor;
    }

    /// <summary>
    /// Allocates a zero-filled tensor in 64-byte aligned native memory, of any size (past the 2 GiB of
    /// <see cref="MaxByteLength"/> too); <see cref="Dispose"/> frees it. Only backends that take a pointer run such
    /// tensors over 2 GiB (ONNX Runtime); <see cref="Bytes"/> and <see cref="AsSpan{T}"/> serve at most 2 GiB.
    /// </summary>
    public static AccelTensor AllocateNative(ElementType type, ReadOnlySpan<long> shape, string? name = null)
    {
        var bytes = ByteLengthOf(type, shape, name);
        return new AccelTensor(type, shape.ToArray(), new NativeStorage(bytes), null, name, ownsStorage: true);
    }

    /// <summary>
    /// Lends memory a backend owns as a tensor without copying it (for backends: an accelerator buffer the host can
    /// address, handed to another runtime in place). <paramref name="pointer"/> must stay valid and unchanged until
    /// <paramref name="owner"/> is disposed, which <see cref="Dispose"/> (or the finalizer) does once.
    /// </summary>
    public static AccelTensor WrapBackendMemory(ElementType type, ReadOnlySpan<long> shape, nint pointer, IDisposable owner, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(owner);
        var bytes = ByteLengthOf(type, shape, name);
        if (pointer == 0 && bytes > 0) throw new ArgumentException("a null pointer for a non-empty tensor", nameof(pointer));
        return new AccelTensor(type, shape.ToArray(), new BackendStorage(pointer, bytes, owner), null, name, ownsStorage: true);
    }

    /// <summary>A <see cref="TensorSpan{T}"/> over the data, with this tensor's shape (no copy; any size).</summary>
    public unsafe TensorSpan<T> AsTensorSpan<T>() where T : unmanaged
    {
        CheckView<T>();
        return new TensorSpan<T>((T*)DataPointer, checked((nint)ElementCount), ToLengths(_shape));
    }

    /// <summary>A new <see cref="Tensor{T}"/> holding a copy of the data (a <c>Tensor&lt;T&gt;</c> cannot point into SDK storage).</summary>
    public Tensor<T> ToTensor<T>() where T : unmanaged
    {
        var result = Tensor.CreateFromShapeUninitialized<T>(ToLengths(_shape));
        AsTensorSpan<T>().CopyTo(result);
        return result;
    }

    /// <summary>
    /// Copies the data into <paramref name="destination"/>, which must have the same element type and shape (else an
    /// <see cref="InvalidTensorException"/> naming it); any size, any storage.
    /// </summary>
    public unsafe void CopyTo(AccelTensor destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        if (destination.ElementType != ElementType || !destination.Shape.SequenceEqual(Shape))
        {
            throw new InvalidTensorException(destination.Name,
                $"cannot copy {ElementType.ShortName()}{TensorShape.Format(Shape)} into {destination.ElementType.ShortName()}{TensorShape.Format(destination.Shape)}");
        }
        if (ReferenceEquals(destination._storage, _storage) && destination._strings == _strings) return;
        if (IsString)
        {
            _strings!.CopyTo(destination._strings!, 0);
            return;
        }
        if (ByteLength == 0) return;
        Buffer.MemoryCopy((void*)DataPointer, (void*)destination.DataPointer, destination.ByteLength, ByteLength);
        GC.KeepAlive(this);
        GC.KeepAlive(destination);
    }

    /// <summary>
    /// Releases storage this tensor created: unpins wrapped caller memory, frees native memory (views sharing it then
    /// throw <see cref="ObjectDisposedException"/> on access). Nothing for SDK-allocated buffers and for views.
    /// </summary>
    public void Dispose()
    {
        if (_ownsStorage) _storage!.Release();
    }

    private void CheckView<T>() where T : unmanaged
    {
        if (_storage is null) throw new InvalidOperationException("String tensors have no numeric data.");
        if (Unsafe.SizeOf<T>() != ElementType.SizeInBytes())
        {
            throw new InvalidOperationException($"Cannot view {ElementType.ShortName()} data as {typeof(T).Name}.");
        }
    }

    private static long[] ToShape(ReadOnlySpan<nint> lengths)
    {
        var shape = new long[lengths.Length];
        for (var i = 0; i < shape.Length; i++) shape[i] = lengths[i];
        return shape;
    }

    private static nint[] ToLengths(long[] shape)
    {
        var lengths = new nint[shape.Length];
        for (var i = 0; i < shape.Length; i++) lengths[i] = checked((nint)shape[i]);
        return lengths;
    }

    private static string FormatLengths(ReadOnlySpan<nint> lengths) => TensorShape.Format(ToShape(lengths));
}
