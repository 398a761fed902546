namespace AccelSdk.Cluster;

/// <summary>A cluster operation failed: the message names the node, model digest or request at fault.</summary>
[GenerateSerializer]
public class ClusterException : AccelSdkException
{
    /// <summary>Creates the exception.</summary>
    public ClusterException(string message, Exception? inner = null) : base(message, inner) { }
}

/// <summary>
/// A model upload was refused by the receiving node: its bytes do not match the announced length or SHA-256, the
/// upload is incomplete, or the model parsed from them does not have the announced <see cref="Ir.ModelDigest"/>.
/// Nothing of it is kept on the node.
/// </summary>
[GenerateSerializer]
public sealed class ModelTransferException : ClusterException
{
    /// <summary>Creates the exception.</summary>
    public ModelTransferException(string node, string digest, string problem)
        : base($"node '{node}': model {digest}: {problem}")
    {
        Node = node;
        Digest = digest;
        Problem = problem;
    }

    /// <summary>The node that refused the upload.</summary>
    [Id(0)]
    public string Node { get; }

    /// <summary>The announced model digest.</summary>
    [Id(1)]
    public string Digest { get; }

    /// <summary>What was wrong.</summary>
    [Id(2)]
    public string Problem { get; }
}

/// <summary>A node named by the client is not (or no longer) an active member of the cluster.</summary>
[GenerateSerializer]
public sealed class NodeUnavailableException : ClusterException
{
    /// <summary>Creates the exception.</summary>
    public NodeUnavailableException(string node, string detail)
        : base($"node '{node}' is not available: {detail}")
    {
        Node = node;
    }

    /// <summary>The node.</summary>
    [Id(0)]
    public string Node { get; }
}

/// <summary>A request passed its deadline before a node ran it; the node did not run it.</summary>
[GenerateSerializer]
public sealed class ClusterDeadlineException : ClusterException
{
    /// <summary>Creates the exception.</summary>
    public ClusterDeadlineException(string where, TimeSpan deadline)
        : base($"{where}: deadline of {deadline.TotalMilliseconds:0} ms passed before the request ran")
    {
        Deadline = deadline;
    }

    /// <summary>The deadline the request carried.</summary>
    [Id(0)]
    public TimeSpan Deadline { get; }

    /// <summary>The exception for a request run at <paramref name="where"/> whose deadline (Unix ms; 0: none) has passed, else null.</summary>
    internal static ClusterDeadlineException? IfPassed(long deadlineUnixMs, string where)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        return deadlineUnixMs > 0 && now > deadlineUnixMs ? new ClusterDeadlineException(where, TimeSpan.FromMilliseconds(deadlineUnixMs - now).Duration()) : null;
    }
}

/// <summary>
/// An AccelSdk error raised on a node (the model, an input, a backend or a limit at fault), carried back to the client
/// with its original type name and message. Not retried on another node: the request itself is at fault.
/// </summary>
[GenerateSerializer]
public sealed class NodeException : ClusterException
{
    /// <summary>Creates the exception.</summary>
    public NodeException(string node, string remoteType, string remoteMessage)
        : base($"node '{node}': {remoteMessage}")
    {
        Node = node;
        RemoteType = remoteType;
        RemoteMessage = remoteMessage;
    }

    /// <summary>The node that raised it.</summary>
    [Id(0)]
    public string Node { get; }

    /// <summary>The full name of the exception type raised on the node (for example <c>AccelSdk.InputMismatchException</c>).</summary>
    [Id(1)]
    public string RemoteType { get; }

    /// <summary>Its message.</summary>
    [Id(2)]
    public string RemoteMessage { get; }
}
