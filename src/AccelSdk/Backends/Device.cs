namespace AccelSdk.Backends;

/// <summary>What kind of processor a device is.</summary>
public enum DeviceKind
{
    /// <summary>A CPU (or a CPU-side simulator of an accelerator API).</summary>
    Cpu,
    /// <summary>A GPU.</summary>
    Gpu,
    /// <summary>Another accelerator (NPU, DSP, ...).</summary>
    Accelerator,
}

/// <summary>
/// One place a backend can run partitions, e.g. ONNX Runtime's CPU execution provider or an ILGPU CUDA accelerator.
/// </summary>
public sealed record Device
{
    /// <summary>Creates a device whose tensors live in <paramref name="memorySpace"/> (default: <see cref="Backends.MemorySpace.Host"/>).</summary>
    public Device(string backend, string id, string name, DeviceKind kind, MemorySpace? memorySpace = null)
    {
        Backend = backend;
        Id = id;
        Name = name;
        Kind = kind;
        MemorySpace = memorySpace ?? MemorySpace.Host;
    }

    /// <summary>Name of the backend that owns this device (<c>ort</c>, <c>ilgpu</c>, <c>tflite</c>).</summary>
    public string Backend { get; }

    /// <summary>Stable identifier, unique across backends: <c>ort-cpu</c>, <c>ort-cuda:0</c>, <c>ilgpu-cpu</c>.</summary>
    public string Id { get; }

    /// <summary>Human-readable name.</summary>
    public string Name { get; }

    /// <summary>Processor kind.</summary>
    public DeviceKind Kind { get; }

    /// <summary>
    /// Where this device's tensors live. Devices in <see cref="Backends.MemorySpace.Host"/> take and return
    /// <see cref="HostTensor"/>s directly; between different spaces the plan inserts explicit transfers.
    /// </summary>
    public MemorySpace MemorySpace { get; }

    /// <summary>
    /// What computes for this device: partitions on devices of one processor compete for it. Every CPU device is
    /// <c>cpu</c> (<c>ort-cpu</c>, <c>ilgpu-cpu</c> and <c>tflite-cpu</c> share the cores); a CUDA device is its ordinal
    /// (<c>cuda:0</c>, shared by <c>ort-cuda:0</c> and <c>ilgpu-cuda:0</c>); any other device is its memory space, or
    /// its <see cref="Id"/> when it computes in host memory. <see cref="Execution.AccelSession.PartitionOverlap"/> and
    /// the autotuner's placement both schedule by it.
    /// </summary>
    public string Processor => this switch
    {
        { Kind: DeviceKind.Cpu } => "cpu",
        { MemorySpace.Kind: MemorySpaceKind.CudaDevice } => $"cuda:{MemorySpace.Ordinal}",
        _ => MemorySpace.IsHost ? Id : MemorySpace.Name,
    };

    /// <summary>False when the device is present but cannot be used (driver missing, runtime refused it).</summary>
    public bool IsAvailable { get; init; } = true;

    /// <summary>Why the device is unavailable, in the runtime's own words.</summary>
    public string? UnavailableReason { get; init; }

    /// <summary>Facts about the device (vendor, memory, driver, execution provider...).</summary>
    public IReadOnlyDictionary<string, string> Properties { get; init; } = new Dictionary<string, string>();

    /// <summary>The device that stands for host memory in transfers.</summary>
    public static Device Host { get; } = new("host", "host", "host memory", DeviceKind.Cpu);

    /// <inheritdoc />
    public override string ToString() => $"{Id} ({Name})";
}
