namespace AccelSdk;

/// <summary>Base of every error AccelSdk raises on purpose. The message always names what is at fault.</summary>
public class AccelSdkException : Exception
{
    /// <summary>Creates the exception.</summary>
    public AccelSdkException(string message, Exception? inner = null) : base(message, inner) { }
}

/// <summary>A model file cannot be read: missing, truncated, corrupt, hostile or of an unknown format.</summary>
public sealed class ModelLoadException : AccelSdkException
{
    /// <summary>Creates the exception.</summary>
    public ModelLoadException(string path, string problem, Exception? inner = null)
        : base($"{path}: {problem}", inner)
    {
        Path = path;
        Problem = problem;
    }

    /// <summary>The file at fault.</summary>
    public string Path { get; }

    /// <summary>What is wrong with it.</summary>
    public string Problem { get; }
}

/// <summary>A model is structurally invalid (dangling value, duplicate name, bad attribute).</summary>
public sealed class InvalidModelException : AccelSdkException
{
    /// <summary>Creates the exception.</summary>
    public InvalidModelException(string message, string? nodeName = null, string? opType = null)
        : base(message)
    {
        NodeName = nodeName;
        OpType = opType;
    }

    /// <summary>The node at fault, if any.</summary>
    public string? NodeName { get; }

    /// <summary>The op at fault, if any.</summary>
    public string? OpType { get; }
}

/// <summary>No available backend can run some nodes of a model.</summary>
public sealed class UnsupportedOperatorException : AccelSdkException
{
    /// <summary>Creates the exception.</summary>
    public UnsupportedOperatorException(string modelLabel, IReadOnlyList<UnsupportedNode> unsupported)
        : base($"{modelLabel}: no available backend runs " +
               string.Join("; ", unsupported.Take(5).Select(u => $"{u.Node} [{u.Op}]: {u.Reason}")) +
               (unsupported.Count > 5 ? $" (and {unsupported.Count - 5} more)" : ""))
    {
        Unsupported = unsupported;
    }

    /// <summary>Each unsupported node with its op and the reason backends gave.</summary>
    public IReadOnlyList<UnsupportedNode> Unsupported { get; }
}

/// <summary>A node no candidate device runs.</summary>
/// <param name="Node">The node's name (its first output's when unnamed).</param>
/// <param name="Op">Its op type, with the domain when not the default.</param>
/// <param name="Reason">Why backends refused it.</param>
public sealed record UnsupportedNode(string Node, string Op, string Reason);

/// <summary>An input given to a session does not match the model: unknown name, wrong dtype, wrong shape, missing.</summary>
public sealed class InputMismatchException : AccelSdkException
{
    /// <summary>Creates the exception.</summary>
    public InputMismatchException(string tensorName, string message) : base($"input '{tensorName}': {message}")
    {
        TensorName = tensorName;
    }

    /// <summary>The input at fault.</summary>
    public string TensorName { get; }
}

/// <summary>
/// A caller-provided output buffer does not fit the output: wrong count, element type or shape (declared, or the one
/// the run produced).
/// </summary>
public sealed class OutputMismatchException : AccelSdkException
{
    /// <summary>Creates the exception.</summary>
    public OutputMismatchException(string tensorName, string message) : base($"output '{tensorName}': {message}")
    {
        TensorName = tensorName;
    }

    /// <summary>The output at fault.</summary>
    public string TensorName { get; }
}

/// <summary>A backend failed to compile or run a partition; carries the native runtime's own message.</summary>
public sealed class BackendException : AccelSdkException
{
    /// <summary>Creates the exception.</summary>
    public BackendException(string backend, string message, Exception? inner = null)
        : base($"[{backend}] {message}", inner)
    {
        Backend = backend;
    }

    /// <summary>The backend that failed.</summary>
    public string Backend { get; }
}

/// <summary>No plan fits the per-device memory caps of <see cref="SelectOptions.MemoryLimits"/>.</summary>
public sealed class MemoryLimitException : AccelSdkException
{
    /// <summary>Creates the exception for the device whose cap was closest to holding the model.</summary>
    public MemoryLimitException(string modelLabel, string deviceId, long neededBytes, long allowedBytes, string? detail = null)
        : base($"{modelLabel}: no plan fits the memory caps: {deviceId} needs {neededBytes:N0} bytes (estimated weights + peak activations), {allowedBytes:N0} allowed" +
            (detail is null ? "" : $"; {detail}"))
    {
        DeviceId = deviceId;
        NeededBytes = neededBytes;
        AllowedBytes = allowedBytes;
    }

    /// <summary>The device.</summary>
    public string DeviceId { get; }

    /// <summary>The estimated footprint on it.</summary>
    public long NeededBytes { get; }

    /// <summary>Its cap.</summary>
    public long AllowedBytes { get; }
}

/// <summary>
/// A tensor does not fit the memory a device can give it. Raised before allocating: sizes are computed with
/// overflow-checked arithmetic and compared with the device's capacity.
/// </summary>
public sealed class DeviceMemoryException : AccelSdkException
{
    /// <summary>Creates the exception; <paramref name="requestedBytes"/> is null when the size overflows 64 bits.</summary>
    public DeviceMemoryException(string deviceId, string tensor, long? requestedBytes, long availableBytes, Exception? inner = null)
        : base($"{deviceId}: {tensor} needs {(requestedBytes is { } r ? $"{r:N0} bytes" : "more bytes than a 64-bit size holds")}; " +
            $"the device can hold {availableBytes:N0} bytes", inner)
    {
        DeviceId = deviceId;
        Tensor = tensor;
        RequestedBytes = requestedBytes;
        AvailableBytes = availableBytes;
    }

    /// <summary>The device.</summary>
    public string DeviceId { get; }

    /// <summary>The tensor that did not fit (name, node, element type and shape as known).</summary>
    public string Tensor { get; }

    /// <summary>Bytes the tensor needs; null when the size overflows 64 bits.</summary>
    public long? RequestedBytes { get; }

    /// <summary>Bytes the device can hold at most.</summary>
    public long AvailableBytes { get; }
}

/// <summary>
/// A tensor cannot be made as asked: a negative dimension, an element count or byte size that overflows or exceeds
/// what one dense buffer holds, an element type with no dense storage, or data that does not fill the shape.
/// </summary>
public sealed class InvalidTensorException : AccelSdkException
{
    /// <summary>Creates the exception.</summary>
    public InvalidTensorException(string? tensorName, string problem)
        : base(tensorName is null ? problem : $"tensor '{tensorName}': {problem}")
    {
        TensorName = tensorName;
    }

    /// <summary>The tensor at fault, when it has a name.</summary>
    public string? TensorName { get; }
}

/// <summary>
/// A run would exceed a cap of <see cref="Execution.ResourceLimits"/>: one tensor, or one run's inputs and the values
/// it keeps live at once. Raised before anything of that size is allocated.
/// </summary>
public sealed class ResourceLimitException : AccelSdkException
{
    /// <summary>Creates the exception.</summary>
    public ResourceLimitException(string tensorName, string limitName, long requestedBytes, long allowedBytes, string? detail = null)
        : base($"tensor '{tensorName}' needs {requestedBytes:N0} bytes, over the {limitName} cap of {allowedBytes:N0} bytes" +
               (detail is null ? "" : $" ({detail})"))
    {
        TensorName = tensorName;
        LimitName = limitName;
        RequestedBytes = requestedBytes;
        AllowedBytes = allowedBytes;
    }

    /// <summary>The tensor that exceeds the cap (for a run total: the largest tensor that counts towards it).</summary>
    public string TensorName { get; }

    /// <summary>Which cap: <c>MaxTensorBytes</c> or <c>MaxRunBytes</c>.</summary>
    public string LimitName { get; }

    /// <summary>The bytes asked for.</summary>
    public long RequestedBytes { get; }

    /// <summary>The cap.</summary>
    public long AllowedBytes { get; }
}
