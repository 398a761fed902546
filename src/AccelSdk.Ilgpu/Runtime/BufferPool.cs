using ILGPU;
using ILGPU.Runtime;

namespace AccelSdk.Ilgpu.Runtime;

using Accelerator = ILGPU.Runtime.Accelerator;

/// <summary>
/// Reuses accelerator buffers across runs. Sizes are rounded up to a size class so that a run of the same model finds
/// the buffers the previous run released. Pooled bytes are capped; past the cap released buffers are freed at once.
/// </summary>
internal sealed class BufferPool : IDisposable
{
    private const long MaxPooledBytes = 2L << 30;
    private readonly Accelerator _accelerator;
    private readonly Dictionary<long, Stack<MemoryBuffer1D<byte, Stride1D.Dense>>> _free = new();
    private readonly object _gate = new();
    private long _pooledBytes;
    private bool _disposed;

    /// <summary>A pool for <paramref name="accelerator"/> that refuses any buffer larger than <paramref name="capacityBytes"/>.</summary>
    public BufferPool(Accelerator accelerator, string deviceId, long capacityBytes)
    {
        _accelerator = accelerator;
        DeviceId = deviceId;
        CapacityBytes = capacityBytes;
    }

    /// <summary>Waits for the accelerator's queue under its slot's gate (set by the slot): for readers outside ILGPU.</summary>
    public Action? WaitForQueue { get; init; }

    /// <summary>The AccelSdk device this pool belongs to (for error messages).</summary>
    public string DeviceId { get; }

    /// <summary>The largest buffer this pool hands out: the accelerator's memory (host memory for CPU accelerators).</summary>
    public long CapacityBytes { get; }

    /// <summary>
    /// What a pool for <paramref name="accelerator"/> may hand out: its memory size, and for accelerators whose
    /// buffers live in host memory (ILGPU's CPU accelerator reports <c>long.MaxValue</c>) at most the memory this
    /// process may use (physical memory or its cgroup limit).
    /// </summary>
    public static long CapacityOf(Accelerator accelerator)
    {
        var host = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        return accelerator.AcceleratorType == AcceleratorType.CPU ? Math.Min(accelerator.MemorySize, host) : accelerator.MemorySize;
    }

    /// <summary><paramref name="a"/> times <paramref name="b"/> (both non-negative), or null when the product overflows 64 bits.</summary>
    public static long? CheckedProduct(long a, long b)
    {
        try
        {
            return checked(a * b);
        }
        catch (OverflowException)
        {
            return null;
        }
    }

    /// <summary>Buffers handed out and not yet returned.</summary>
    public int Outstanding { get; private set; }

    /// <summary>Allocations that found no pooled buffer.</summary>
    public long Allocations { get; private set; }

    /// <summary>Requests served from the pool.</summary>
    public long Reuses { get; private set; }

    /// <summary>Bytes currently held idle in the pool.</summary>
    public long PooledBytes
    {
        get
        {
            lock (_gate) return _pooledBytes;
        }
    }

    public static long SizeClass(long bytes)
    {
        if (bytes <= 256) return 256;
        if (bytes <= 1 << 20) return (long)System.Numerics.BitOperations.RoundUpToPowerOf2((ulong)bytes);
        const long mb = 1 << 20;
        return (bytes + mb - 1) / mb * mb;
    }

    /// <summary>
    /// A buffer of at least <paramref name="bytes"/> bytes, pooled or new. Sizes over <see cref="CapacityBytes"/>, and
    /// allocations the accelerator refuses, raise <see cref="DeviceMemoryException"/> naming <paramref name="tensor"/>.
    /// </summary>
    public DeviceBuffer Rent(long bytes, string tensor)
    {
        if (bytes < 0 || bytes > CapacityBytes) throw new DeviceMemoryException(DeviceId, tensor, bytes < 0 ? null : bytes, CapacityBytes);
        var size = SizeClass(bytes);
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            Outstanding++;
            if (_free.TryGetValue(size, out var stack) && stack.Count > 0)
            {
                Reuses++;
                _pooledBytes -= size;
                return new DeviceBuffer(this, stack.Pop(), bytes);
            }
            Allocations++;
        }
        try
        {
            return new DeviceBuffer(this, _accelerator.Allocate1D<byte>(size), bytes);
        }
        catch (Exception e) when (e is OutOfMemoryException or AcceleratorException)
        {
            lock (_gate) Outstanding--;
            throw new DeviceMemoryException(DeviceId, tensor, bytes, CapacityBytes, e);
        }
    }

    internal void Return(MemoryBuffer1D<byte, Stride1D.Dense> buffer)
    {
        lock (_gate)
        {
            Outstanding--;
            if (_disposed || _pooledBytes + buffer.Length > MaxPooledBytes)
            {
                buffer.Dispose();
                return;
            }
            if (!_free.TryGetValue(buffer.Length, out var stack)) _free[buffer.Length] = stack = new();
            stack.Push(buffer);
            _pooledBytes += buffer.Length;
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
            foreach (var stack in _free.Values)
            {
                foreach (var b in stack) b.Dispose();
            }
            _free.Clear();
            _pooledBytes = 0;
        }
    }
}

/// <summary>
/// A reference-counted lease on a pooled buffer: tensors that alias the same data (Reshape, Flatten, Squeeze...) share
/// one lease, and the buffer goes back to the pool when the last of them is disposed.
/// </summary>
internal sealed class DeviceBuffer
{
    private readonly BufferPool? _pool;
    private MemoryBuffer1D<byte, Stride1D.Dense>? _buffer;
    private MemoryBuffer? _wrapped;
    private object? _wrappedOwner;
    private int _references = 1;

    public DeviceBuffer(BufferPool pool, MemoryBuffer1D<byte, Stride1D.Dense> buffer, long byteLength)
    {
        _pool = pool;
        _buffer = buffer;
        ByteLength = byteLength;
    }

    private DeviceBuffer(MemoryBuffer wrapped, long byteLength, object owner)
    {
        _wrapped = wrapped;
        _wrappedOwner = owner;
        ByteLength = byteLength;
    }

    /// <summary>
    /// A lease on host memory a CPU accelerator addresses in place (no copy): <paramref name="owner"/> keeps it alive and
    /// must not free it before the lease is released. Nothing returns to a pool.
    /// </summary>
    public static DeviceBuffer WrapHost(Accelerator accelerator, nint pointer, long byteLength, object owner) =>
        new(ILGPU.Runtime.CPU.CPUMemoryBuffer.Create(accelerator, pointer, Math.Max(byteLength, 1), 1), byteLength, owner);

    public long ByteLength { get; }

    /// <summary>True for a lease on wrapped host memory (<see cref="WrapHost"/>).</summary>
    public bool IsWrappedHostMemory => _wrapped is not null;

    public ArrayView<byte> Bytes
    {
        get
        {
            if (_wrapped is { } w) return w.AsArrayView<byte>(0, Math.Max(ByteLength, 0));
            var b = _buffer ?? throw new ObjectDisposedException(nameof(DeviceBuffer));
            return b.View.SubView(0, Math.Max(ByteLength, 0)).AsContiguous();
        }
    }

    public ArrayView<T> View<T>() where T : unmanaged => Bytes.Cast<T>();

    /// <summary>The address of the first byte in the accelerator's memory (a CUDA device pointer on a CUDA accelerator).</summary>
    public nint Address => ByteLength == 0 ? 0 : Bytes.LoadEffectiveAddressAsPtr();

    /// <summary>Waits until the kernels queued before now have finished; nothing to wait for over wrapped host memory, which kernels only read.</summary>
    public void WaitForWriters() => _pool?.WaitForQueue?.Invoke();

    public DeviceBuffer AddReference()
    {
        if (Interlocked.Increment(ref _references) <= 1) throw new ObjectDisposedException(nameof(DeviceBuffer));
        return this;
    }

    public void Release()
    {
        if (Interlocked.Decrement(ref _references) != 0) return;
        Interlocked.Exchange(ref _wrapped, null)?.Dispose();
        GC.KeepAlive(Interlocked.Exchange(ref _wrappedOwner, null));
        var b = Interlocked.Exchange(ref _buffer, null);
        if (b is not null) _pool!.Return(b);
    }
}
