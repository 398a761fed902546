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
