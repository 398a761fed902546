namespace AccelSdk.Cluster.Hosting;

/// <summary>
/// Turns an AccelSdk error raised by a node's grain into a <see cref="NodeException"/> Orleans can carry (the core
/// exception types have no Orleans codec); cluster errors pass as they are.
/// </summary>
internal sealed class NodeErrorFilter(NodeRuntime node) : IIncomingGrainCallFilter
{
    public async Task Invoke(IIncomingGrainCallContext context)
    {
        try
        {
            await context.Invoke();
        }
        catch (AccelSdkException e) when (e is not ClusterException)
        {
            throw new NodeException(node.Name, e.GetType().FullName ?? e.GetType().Name, e.Message);
        }
    }
}
