namespace AccelSdk.Backends;

/// <summary>What kind of memory a <see cref="MemorySpace"/> is.</summary>
public enum MemorySpaceKind
{
    /// <summary>Plain host memory: every device in it reads and writes <see cref="HostTensor"/>s in place.</summary>
    Host,
    /// <summary>The memory of one CUDA device (by ordinal), as one runtime allocates it.</summary>
    CudaDevice,
    /// <summary>Buffers of one OpenCL context.</summary>
    OpenCl,
    /// <summary>Memory only its backend addresses as tensors (ILGPU's CPU accelerator buffers: pinned host memory in its own pool).</summary>
    BackendPrivate,
}

/// <summary>
/// Where a device's tensors live. Two devices in the same space exchange tensors without a copy; between different
/// spaces the plan inserts a transfer (a backend's direct copy path where one exists, else staged through host memory).
/// <see cref="Name"/> is stable: it is what reports, JSON and the machine fingerprint show.
/// </summary>
public sealed record MemorySpace
{
    private MemorySpace(MemorySpaceKind kind, string name, int ordinal, bool hostAddressable)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        Kind = kind;
        Name = name;
        Ordinal = ordinal;
        IsHostAddressable = hostAddressable;
    }

    /// <summary>Plain host memory (<c>host</c>).</summary>
    public static MemorySpace Host { get; } = new(MemorySpaceKind.Host, "host", -1, true);

    /// <summary>
    /// The memory of CUDA device <paramref name="ordinal"/> as allocated by one runtime, named <paramref name="name"/>
    /// (default <c>cuda:N</c>). Spaces of the same ordinal under different names are the same physical memory held by
    /// different runtimes: a backend may copy device to device between them (see <see cref="SharesPhysicalMemoryWith"/>).
    /// </summary>
    public static MemorySpace CudaDevice(int ordinal, string? name = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(ordinal);
        return new(MemorySpaceKind.CudaDevice, name ?? $"cuda:{ordinal}", ordinal, false);
    }

    /// <summary>The buffers of one OpenCL context, named <paramref name="context"/> (for example the device id that owns it).</summary>
    public static MemorySpace OpenCl(string context) => new(MemorySpaceKind.OpenCl, context, -1, false);

    /// <summary>
    /// Memory only the backend named by <paramref name="name"/> addresses as tensors. <paramref name="hostAddressable"/>:
    /// the host can read and write it with a plain memory copy (ILGPU's CPU accelerator), so no bus is crossed.
    /// </summary>
    public static MemorySpace BackendPrivate(string name, bool hostAddressable = false) =>
        new(MemorySpaceKind.BackendPrivate, name, -1, hostAddressable);

    /// <summary>What kind of memory this is.</summary>
    public MemorySpaceKind Kind { get; }

    /// <summary>Stable display name: <c>host</c>, <c>cuda:0</c>, <c>ilgpu-cuda:0</c>, <c>ilgpu-cpu</c>, ...</summary>
    public string Name { get; }

    /// <summary>The CUDA device ordinal for <see cref="MemorySpaceKind.CudaDevice"/>, else -1.</summary>
    public int Ordinal { get; }

    /// <summary>True when the host reads and writes this memory with a plain memory copy (host memory, CPU accelerators).</summary>
    public bool IsHostAddressable { get; }

    /// <summary>True for plain host memory.</summary>
    public bool IsHost => Kind == MemorySpaceKind.Host;

    /// <summary>
    /// True when both spaces are the same physical memory (host memory, or one CUDA device's memory held by two
    /// runtimes), so a backend may move a tensor between them without staging it anywhere else.
    /// </summary>
    public bool SharesPhysicalMemoryWith(MemorySpace other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (Equals(other)) return true;
        if (Kind == MemorySpaceKind.CudaDevice) return other.Kind == MemorySpaceKind.CudaDevice && other.Ordinal == Ordinal;
        return false;
    }

    /// <inheritdoc />
    public override string ToString() => Name;
}
