using AccelSdk.Backends;
using AccelSdk.Ir;

namespace AccelSdk.Tests.Fakes;

/// <summary>How one device of a <see cref="FakeBackend"/> behaves.</summary>
/// <param name="Id">Device id.</param>
/// <param name="Kind">Device kind.</param>
/// <param name="RunDelayMs">Time each run sleeps, so that the selection has something to rank.</param>
public sealed record FakeDevice(string Id, DeviceKind Kind = DeviceKind.Cpu, int RunDelayMs = 0)
{
    /// <summary>Set: the device is listed unavailable with this reason.</summary>
    public string? UnavailableReason { get; init; }

    /// <summary>Set: compiling for the device fails with this message.</summary>
    public string? CompileFailure { get; init; }

    /// <summary>Set: the device refuses every node with this reason.</summary>
    public string? UnsupportedReason { get; init; }

    /// <summary>Called at the start of every run (tests cancel from here).</summary>
    public Action? OnRun { get; init; }

    /// <summary>Where the device's tensors live; null: host memory. Outside host memory its tensors are <see cref="FakeTensor"/>s.</summary>
    public MemorySpace? Space { get; init; }
}

/// <summary>A tensor "resident" on a fake device outside host memory (its data is a host copy nobody else may read).</summary>
public sealed class FakeTensor(Device device, AccelTensor value) : DeviceTensor(device, value.ElementType, value.ShapeArray)
{
    public AccelTensor Value { get; } = value;
}

/// <summary>
/// A backend without a native runtime, to test the planner, selection and session logic on their own: it runs Relu on
/// float tensors in host memory, and counts the compiled partitions alive so tests can see when losers are disposed.
/// The same logic runs against ONNX Runtime and ILGPU in their own test projects.
/// </summary>
public sealed class FakeBackend : IBackend
{
    private readonly Dictionary<string, FakeDevice> _specs;
    private int _live;
    private int _maxLive;

    public FakeBackend(string name, params FakeDevice[] devices)
    {
        Name = name;
        _specs = devices.ToDictionary(d => d.Id, StringComparer.Ordinal);
        Devices = devices.Select(d => new Device(name, d.Id, "fake " + d.Id, d.Kind, d.Space)
            { IsAvailable = d.UnavailableReason is null, UnavailableReason = d.UnavailableReason }).ToArray();
    }

    public string Name { get; }

    public string Version => "fake-1";

    public IReadOnlyList<Device> Devices { get; }

    public bool IsDisposed { get; private set; }

    /// <summary>Compiled partitions not yet disposed.</summary>
    public int LiveCompiled => Volatile.Read(ref _live);

    /// <summary>The most compiled partitions alive at once.</summary>
    public int MaxLiveCompiled => Volatile.Read(ref _maxLive);

    public int Compiles { get; private set; }

    public NodeSupport Supports(Device device, Node node, NodeContext context) =>
        _specs[device.Id].UnsupportedReason is { } why ? NodeSupport.No(why)
        : node.OpType == "Relu" ? NodeSupport.Yes : NodeSupport.No($"fake backends run Relu only, not {node.OpType}");

    public ICompiledPartition Compile(Device device, Model partition, CompileOptions options)
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        var spec = _specs[device.Id];
        if (spec.CompileFailure is { } failure) throw new BackendException(Name, failure);
        Compiles++;
        var live = Interlocked.Increment(ref _live);
        int seen;
        while (live > (seen = Volatile.Read(ref _maxLive)) && Interlocked.CompareExchange(ref _maxLive, live, seen) != seen)
        {
        }
        return new Compiled(this, device, spec, partition);
    }

    /// <summary>Uploads and downloads so far (copies across the host boundary).</summary>
    public int Uploads => Volatile.Read(ref _uploads);

    public int Downloads => Volatile.Read(ref _downloads);

    private int _uploads;
    private int _downloads;

    public DeviceTensor Upload(Device device, AccelTensor host)
    {
        Interlocked.Increment(ref _uploads);
        return device.MemorySpace.IsHost ? new HostTensor(host) : new FakeTensor(device, AccelTensor.FromBytes(host.ElementType, host.Shape, host.Bytes));
    }

    public AccelTensor Download(DeviceTensor tensor)
    {
        Interlocked.Increment(ref _downloads);
        return tensor switch
        {
            HostTensor h => h.Value,
            FakeTensor f => AccelTensor.FromBytes(f.Value.ElementType, f.Value.Shape, f.Value.Bytes),
            _ => throw new BackendException(Name, $"cannot download a {tensor.GetType().Name} of {tensor.Device.Id}"),
        };
    }

    public void Dispose() => IsDisposed = true;

    private sealed class Compiled(FakeBackend owner, Device device, FakeDevice spec, Model partition) : ICompiledPartition
    {
        private int _disposed;

        public Device Device => device;

        public IReadOnlyList<ValueInfo> Inputs => partition.Graph.Inputs;

        public IReadOnlyList<ValueInfo> Outputs => partition.Graph.Outputs;

        public TimeSpan CompileTime => TimeSpan.FromMilliseconds(1);

        public IReadOnlyList<DeviceTensor> Run(IReadOnlyList<DeviceTensor> inputs)
        {
            spec.OnRun?.Invoke();
            if (spec.RunDelayMs > 0) Thread.Sleep(spec.RunDelayMs);
            var x = inputs[0] switch
            {
                HostTensor h when device.MemorySpace.IsHost => h.Value,
                FakeTensor f when f.Device.MemorySpace == device.MemorySpace => f.Value,
                var other => throw new InputMismatchException(partition.Graph.Inputs[0].Name, $"a {other.GetType().Name} in {other.Device.MemorySpace} reached {device.Id} in {device.MemorySpace}"),
            };
            var y = AccelTensor.Create(x.AsSpan<float>().ToArray().Select(v => Math.Max(0f, v)).ToArray(), x.ShapeArray);
            return new DeviceTensor[] { device.MemorySpace.IsHost ? new HostTensor(y) : new FakeTensor(device, y) };
        }

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0) Interlocked.Decrement(ref owner._live);
        }
    }
}

/// <summary>Hands a prepared <see cref="FakeBackend"/> to a runtime, or throws like a provider whose runtime is broken.</summary>
public sealed class FakeBackendProvider(FakeBackend? backend, string? name = null) : IBackendProvider
{
    public string Name => backend?.Name ?? name ?? "broken";

    public IBackend Create(BackendContext context) => backend ?? throw new InvalidOperationException("the fake runtime library is missing");
}
