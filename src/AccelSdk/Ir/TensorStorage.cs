using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace AccelSdk.Ir;

/// <summary>Where the dense data of an <see cref="AccelTensor"/> lives and who frees it.</summary>
public enum TensorStorageKind
{
    /// <summary>No dense data (string tensors).</summary>
    None,

    /// <summary>
    /// A 64-byte aligned buffer the SDK allocated on the pinned object heap (at most <see cref="AccelTensor.MaxByteLength"/>
    /// bytes); the garbage collector frees it.
    /// </summary>
    Owned,

    /// <summary>
    /// The caller's memory (an array, a <see cref="Memory{T}"/>, a <c>Tensor&lt;T&gt;</c>), pinned while the tensor
    /// lives; <see cref="AccelTensor.Dispose"/> (or the finalizer) unpins it. Never copied, and not necessarily aligned.
    /// </summary>
    PinnedCallerMemory,

    /// <summary>
    /// 64-byte aligned native memory of any size (over 2 GiB too), freed by <see cref="AccelTensor.Dispose"/> or the
    /// finalizer.
    /// </summary>
    Native,

    /// <summary>
    /// Memory a backend owns (an accelerator buffer the host can address, such as ILGPU's CPU accelerator), lent without
    /// a copy; <see cref="AccelTensor.Dispose"/> (or the finalizer) gives it back. Not necessarily aligned.
    /// </summary>
    BackendMemory,
}

/// <summary>
/// The dense bytes behind one or more <see cref="AccelTensor"/>s (a tensor and its reshaped or renamed views share
/// it). Every kind has a stable address for as long as it is not released, so native runtimes may keep pointers into
/// it across a run.
/// </summary>
internal abstract class TensorStorage
{
    protected TensorStorage(long length) => Length = length;

    public long Length { get; }

    public abstract TensorStorageKind Kind { get; }

    /// <summary>Address of the first byte (0 when empty); <see cref="ObjectDisposedException"/> once released.</summary>
    public abstract nint Pointer { get; }

    /// <summary>The bytes; only for data that a span can address (at most <see cref="int.MaxValue"/> bytes).</summary>
    public virtual unsafe Span<byte> Span(string? tensorName)
    {
        if (Length > int.MaxValue)
        {
            throw new InvalidOperationException(
                $"tensor '{tensorName ?? "?"}' holds {Length:N0} bytes, more than a span can address; use DataPointer or AsTensorSpan<T>()");
        }
        return Length == 0 ? Span<byte>.Empty : new Span<byte>((void*)Pointer, (int)Length);
    }

    /// <summary>Frees or unpins the memory; later uses throw <see cref="ObjectDisposedException"/>. Idempotent.</summary>
    public virtual void Release()
    {
    }
}

/// <summary>A pinned-object-heap array with the offset where 64-byte aligned data starts.</summary>
internal sealed class OwnedStorage : TensorStorage
{
    private readonly byte[] _array;
    private readonly int _offset;

    public OwnedStorage(long length) : base(length)
    {
        if (length == 0)
        {
            _array = Array.Empty<byte>();
            return;
        }
        _array = GC.AllocateArray<byte>((int)length + AccelTensor.Alignment - 1, pinned: true);
        var address = (long)AddressOf(_array);
        _offset = (int)((AccelTensor.Alignment - address % AccelTensor.Alignment) % AccelTensor.Alignment);
    }

    public override TensorStorageKind Kind => TensorStorageKind.Owned;

    public override nint Pointer => Length == 0 ? 0 : AddressOf(_array) + _offset;

    public override Span<byte> Span(string? tensorName) => _array.AsSpan(_offset, (int)Length);

    private static unsafe nint AddressOf(byte[] array) => (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(array));
}

/// <summary>Caller memory pinned through a <see cref="MemoryHandle"/>; the owner object keeps what backs it reachable.</summary>
internal sealed class PinnedCallerStorage : TensorStorage
{
    private readonly object _owner;
    private MemoryHandle _handle;
    private readonly nint _pointer;
    private int _released;

    public PinnedCallerStorage(MemoryHandle handle, nint pointer, long length, object owner) : base(length)
    {
        _handle = handle;
        _pointer = pointer;
        _owner = owner;
    }

    public override TensorStorageKind Kind => TensorStorageKind.PinnedCallerMemory;

    public override nint Pointer
    {
        get
        {
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _released) != 0, this);
            return Length == 0 ? 0 : _pointer;
        }
    }

    public override void Release()
    {
        if (Interlocked.Exchange(ref _released, 1) != 0) return;
        _handle.Dispose();
        GC.KeepAlive(_owner);
        GC.SuppressFinalize(this);
    }

    ~PinnedCallerStorage() => Release();
}

/// <summary>Memory a backend lends in place; disposing the owner gives it back (once).</summary>
internal sealed class BackendStorage : TensorStorage
{
    private readonly nint _pointer;
    private IDisposable? _owner;

    public BackendStorage(nint pointer, long length, IDisposable owner) : base(length)
    {
        _pointer = pointer;
        _owner = owner;
    }

    public override TensorStorageKind Kind => TensorStorageKind.BackendMemory;

    public override nint Pointer
    {
        get
        {
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _owner) is null, this);
            return Length == 0 ? 0 : _pointer;
        }
    }

    public override void Release()
    {
        Interlocked.Exchange(ref _owner, null)?.Dispose();
        GC.SuppressFinalize(this);
    }

    ~BackendStorage() => Release();
}

/// <summary>64-byte aligned native memory, zero-filled, counted as GC memory pressure while it lives.</summary>
internal sealed unsafe class NativeStorage : TensorStorage
{
    private nint _pointer;

    public NativeStorage(long length) : base(length)
    {
        if (length == 0) return;
        _pointer = (nint)NativeMemory.AlignedAlloc((nuint)length, AccelTensor.Alignment);
        NativeMemory.Clear((void*)_pointer, (nuint)length);
        GC.AddMemoryPressure(length);
    }

    public override TensorStorageKind Kind => TensorStorageKind.Native;

    public override nint Pointer
    {
        get
        {
            var pointer = Volatile.Read(ref _pointer);
            ObjectDisposedException.ThrowIf(pointer == 0 && Length > 0, this);
            return pointer;
        }
    }

    public override void Release()
    {
        var pointer = Interlocked.Exchange(ref _pointer, 0);
        if (pointer == 0) return;
        NativeMemory.AlignedFree((void*)pointer);
        GC.RemoveMemoryPressure(Length);
        GC.SuppressFinalize(this);
    }

    ~NativeStorage() => Release();
}
