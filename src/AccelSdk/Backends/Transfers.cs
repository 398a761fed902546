namespace AccelSdk.Backends;

/// <summary>How a value crosses a cut edge of a plan.</summary>
public enum TransferRoute
{
    /// <summary>Producer and consumer share a memory space: the tensor is handed over as it is.</summary>
    None,
    /// <summary>A backend's own copy path between the two spaces (<see cref="ITransferPath"/>): no host staging tensor.</summary>
    Direct,
    /// <summary>
    /// Staged through host memory: the producer's backend downloads into a host tensor (pinned, on the pinned object
    /// heap) and the consumer's backend uploads it; one of the two steps only when one side is host memory.
    /// </summary>
    ViaHost,
}

/// <summary>
/// A copy path a backend offers from one memory space into another (for example between two of its accelerators, or
/// between a CUDA buffer and another runtime's allocation on the same GPU), used instead of staging through host
/// memory. Offered by <see cref="IBackend.TryGetTransfer"/>.
/// </summary>
public interface ITransferPath
{
    /// <summary>Short description for plans and reports (<c>ilgpu: accelerator to accelerator</c>).</summary>
    string Description { get; }

    /// <summary>Memory copies one transfer makes (1 for a device-to-device copy, 0 where the target reads the source in place).</summary>
    int Copies { get; }

    /// <summary>
    /// Copies <paramref name="source"/> (a tensor of the path's source device) onto <paramref name="target"/>; the caller
    /// owns the result. Any wait the copy needs (the source's queue) is the path's business.
    /// </summary>
    DeviceTensor Copy(DeviceTensor source, Device target);
}

/// <summary>
/// A device tensor whose data is one dense block at an address that another runtime on the same physical memory can
/// use as it is (a CUDA device pointer on CUDA device <see cref="MemorySpace.Ordinal"/>, see
/// <see cref="MemorySpace.SharesPhysicalMemoryWith"/>): what a direct path between two runtimes on one GPU hands over.
/// </summary>
public interface IDeviceAddressable
{
    /// <summary>The address of the first byte in the tensor's memory space; valid until the tensor is disposed.</summary>
    nint DataAddress { get; }

    /// <summary>Waits until the work that writes the data (its runtime's queue) has finished, so another runtime may read it.</summary>
    void WaitUntilWritten();
}
