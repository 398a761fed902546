using AccelSdk.Backends;
using AccelSdk.Ilgpu;
using AccelSdk.Ilgpu.Ops;
using AccelSdk.Ilgpu.Runtime;
using AccelSdk.Ir;
using ILGPU;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

[assembly: AccelSdk.AccelSdkExtension(typeof(IlgpuBackendProvider))]
// ILGPU's CPU accelerator emits its kernel launchers into a dynamic assembly of this name; kernels and their
// parameter structs stay internal.
[assembly: System.Runtime.CompilerServices.InternalsVisibleTo("ILGPURuntime")]

namespace AccelSdk.Ilgpu;

/// <summary>Creates the <see cref="IlgpuBackend"/>; found through <see cref="AccelSdkExtensionAttribute"/>.</summary>
public sealed class IlgpuBackendProvider : IBackendProvider
{
    /// <inheritdoc />
    public string Name => IlgpuBackend.BackendName;

    /// <inheritdoc />
    public IBackend Create(BackendContext context) => new IlgpuBackend(context.Logger);
}

/// <summary>
/// AccelSdk's own kernel library: each ONNX operator is a C# kernel compiled by ILGPU for the device's accelerator
/// (<c>ilgpu-cpu</c>, <c>ilgpu-cuda:N</c>, and opt-in <c>ilgpu-opencl:N</c>). Tensors stay in accelerator buffers
/// between consecutive nodes; buffers are pooled per accelerator and kernels are compiled once per accelerator.
/// </summary>
public sealed class IlgpuBackend : IBackend
{
    /// <summary>The backend name.</summary>
    public const string BackendName = "ilgpu";

    internal static readonly string IlgpuVersion =
        typeof(Context).Assembly.GetName().Version?.ToString(3) ?? "unknown";

    private readonly List<Context> _contexts = new();
    private readonly Dictionary<string, IlgpuDeviceSlot> _slots = new(StringComparer.Ordinal);
    private bool _disposed;

    /// <summary>Finds the accelerators; accelerators themselves are created on first use.</summary>
    public IlgpuBackend()
        : this(NullLogger.Instance)
    {
    }

    /// <summary>Finds the accelerators, logging to <paramref name="logger"/> why a platform could not be probed.</summary>
    public IlgpuBackend(ILogger logger)
        : this(Environment.GetEnvironmentVariable(DeviceDiscovery.OpenClOptIn), logger)
    {
    }

    /// <summary>
    /// Like the public constructor, with the value of <c>ACCELSDK_ILGPU_OPENCL</c> given instead of read (tests: the
    /// process environment is shared by tests running in parallel).
    /// </summary>
    internal IlgpuBackend(string? openClOptIn, ILogger? logger = null)
    {
        var found = DeviceDiscovery.Discover(_contexts, openClOptIn, logger ?? NullLogger.Instance);
        Devices = found.Select(f => f.Device).ToArray();
        foreach (var (slot, device) in found)
        {
            if (slot is not null) _slots[device.Id] = slot;
        }
    }

    /// <summary>A backend over the given accelerators only (tests use it to run GPU code paths on simulated devices).</summary>
    internal IlgpuBackend(IEnumerable<(IlgpuDeviceSlot Slot, Context Context)> slots)
    {
        var list = slots.ToList();
        Devices = list.Select(s => s.Slot.Device).ToArray();
        foreach (var (slot, context) in list)
        {
            _slots[slot.Device.Id] = slot;
            if (!_contexts.Contains(context)) _contexts.Add(context);
        }
    }

    /// <inheritdoc />
    public string Name => BackendName;

    /// <inheritdoc />
    public string Version => IlgpuVersion;

    /// <inheritdoc />
    public IReadOnlyList<Device> Devices { get; }

    /// <summary>Every operator type this backend claims for some dtype/attribute combination.</summary>
    public static IReadOnlyCollection<string> ClaimedOps => OpRegistry.OpTypes;

    /// <summary>
    /// The MatMul/Gemm/Conv kernel variants this device runs, its default first: on ILGPU's CPU accelerator
    /// <c>packed</c>, <c>blocked</c>; on GPUs <c>tiled</c>, <c>blocked</c>; on CPU-side OpenCL devices <c>blocked</c>,
    /// <c>tiled</c> (tiled only where groups of 256 threads fit).
    /// </summary>
    public IReadOnlyList<CompileVariant> CompileVariants(Device device)
    {
        if (!_slots.TryGetValue(device.Id, out var slot)) return Array.Empty<CompileVariant>();
        try
        {
            var runnable = new[] { MatMulVariant.Packed, MatMulVariant.Tiled, MatMulVariant.Blocked }.Where(v => IlgpuPartition.CannotRun(slot, v) is null)
                .OrderBy(v => v == IlgpuPartition.DefaultMatMul(slot) ? 0 : 1)
                .Select(v => v.ToString().ToLowerInvariant())
                .Select(name => new CompileVariant(name, new Dictionary<string, string> { [IlgpuPartition.MatMulSettingFor(device)] = name }))
                .ToArray();
            return runnable.Length > 1 ? runnable : Array.Empty<CompileVariant>();
        }
        catch (BackendException)
        {
            return Array.Empty<CompileVariant>(); // the accelerator cannot be created: Compile reports why
        }
    }

    /// <inheritdoc />
    public NodeSupport Supports(Device device, Node node, NodeContext context)
    {
        if (!_slots.TryGetValue(device.Id, out var slot)) return NodeSupport.No($"device {device.Id} is not an available ILGPU device");
        var unsupportedType = slot.UnsupportedElementType(node, context);
        if (unsupportedType is not null) return NodeSupport.No(unsupportedType);
        return OpRegistry.Supports(node, context);
    }

    /// <inheritdoc />
    public ICompiledPartition Compile(Device device, Model partition, CompileOptions options)
    {
        var slot = SlotOf(device);
        return new IlgpuPartition(slot, partition, options);
    }

    /// <inheritdoc />
    public DeviceTensor Upload(Device device, AccelTensor host) => SlotOf(device).Upload(host);

    /// <inheritdoc />
    public AccelTensor Download(DeviceTensor tensor)
    {
        if (tensor is HostTensor h) return h.Value;
        if (tensor is not IlgpuTensor t || !_slots.TryGetValue(t.Device.Id, out var slot))
        {
            throw new BackendException(BackendName, $"cannot download a {tensor.GetType().Name} of device {tensor.Device.Id}");
        }
        return slot.Download(t);
    }

    /// <summary>
    /// A direct path into an ILGPU device: from host memory into the CPU accelerator, whose kernels then read the host
    /// tensor in place (no copy); between two ILGPU devices in different memory spaces when one of them keeps its
    /// buffers in host-addressable memory (the CPU accelerator), one copy between the accelerators' buffers instead of
    /// a download into a host tensor and an upload; from the CPU accelerator to a host-memory device of another backend,
    /// its buffer lent in place (no copy; model outputs to the caller are still downloaded). Null otherwise (the session
    /// stages through host memory).
    /// </summary>
    public ITransferPath? TryGetTransfer(Device from, Device to)
    {
        if (_disposed) return null;
        if (to.Backend != BackendName)
        {
            return from.Backend == BackendName && _slots.TryGetValue(from.Id, out var producer) ? HostViewTransfer.Into(producer, to) : null;
        }
        if (!_slots.TryGetValue(to.Id, out var target)) return null;
        if (from.Backend != BackendName) return (ITransferPath?)HostWrapTransfer.Into(from, target) ?? PeerCopyTransfer.Into(from, target);
        return _slots.TryGetValue(from.Id, out var source) ? AcceleratorTransfer.Between(source, target) : null;
    }

    /// <summary>
    /// Kernels compiled so far for <paramref name="device"/> with each one's compile time: the warm-up cost a new model
    /// pays on this accelerator for kernels not compiled yet.
    /// </summary>
    public IReadOnlyList<KernelCompileRecord> CompiledKernels(Device device) => SlotOf(device).Kernels.Compiled;

    /// <summary>Buffer pool statistics of <paramref name="device"/>: allocations, reuses, buffers outstanding, idle bytes.</summary>
    public BufferPoolStatistics PoolStatistics(Device device)
    {
        var pool = SlotOf(device).Pool;
        return new BufferPoolStatistics(pool.Allocations, pool.Reuses, pool.Outstanding, pool.PooledBytes);
    }

    internal IlgpuDeviceSlot SlotOf(Device device)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_slots.TryGetValue(device.Id, out var slot)) return slot;
        var known = Devices.FirstOrDefault(d => d.Id == device.Id);
        throw new BackendException(BackendName, known is null
            ? $"unknown device {device.Id}"
            : $"device {device.Id} is unavailable: {known.UnavailableReason}");
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (var slot in _slots.Values) slot.Dispose();
        foreach (var context in _contexts) context.Dispose();
    }
}

/// <summary>A device's buffer pool, as <see cref="IlgpuBackend.PoolStatistics"/> reports it.</summary>
/// <param name="Allocations">Buffers allocated on the device.</param>
/// <param name="Reuses">Requests served from the pool.</param>
/// <param name="Outstanding">Buffers handed out and not yet returned.</param>
/// <param name="PooledBytes">Bytes held idle in the pool.</param>
public sealed record BufferPoolStatistics(long Allocations, long Reuses, int Outstanding, long PooledBytes);
