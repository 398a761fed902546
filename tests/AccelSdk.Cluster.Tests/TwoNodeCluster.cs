using AccelSdk.Cluster.Client;
using AccelSdk.Cluster.Hosting;

namespace AccelSdk.Cluster.Tests;

/// <summary>
/// Every cluster test class shares one collection: they start real processes and measure, so they never run at once.
/// </summary>
[CollectionDefinition("cluster", DisableParallelization = true)]
public sealed class ClusterCollection : ICollectionFixture<TwoNodeCluster>;

/// <summary>A real redis-server, two real node processes (a, b) on loopback and a connected client.</summary>
public sealed class TwoNodeCluster : IAsyncLifetime
{
    private RedisServer? _redis;
    private readonly List<NodeProcess> _nodes = new();

    public RedisServer Redis => _redis ?? throw new InvalidOperationException("not started");

    public AccelCluster Client { get; private set; } = null!;

    public IReadOnlyList<NodeProcess> Nodes => _nodes;

    public ClusterConnection Connection => ClusterConnection.Parse(Redis.Connection);

    public async Task InitializeAsync()
    {
        _redis = RedisServer.Start();
        try
        {
            // Started one after the other: two cold .NET starts at once on a 2-core machine only slow each other.
            _nodes.Add(NodeProcess.Start("a", Redis.Connection));
            _nodes.Add(NodeProcess.Start("b", Redis.Connection));
            using var connect = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            Client = await AccelCluster.ConnectAsync(new AccelClusterOptions { Cluster = Connection }, connect.Token);
            await WaitForNodesAsync(Client, new[] { "a", "b" }, TimeSpan.FromSeconds(60));
        }
        catch
        {
            await DisposeAsync();
            throw;
        }
    }

    public async Task DisposeAsync()
    {
        if (Client is not null) await Client.DisposeAsync();
        foreach (var node in _nodes) node.Dispose();
        _redis?.Dispose();
    }

    /// <summary>Waits (bounded) until every named node is an active member as the client sees it.</summary>
    /// <summary>Waits until none of <paramref name="names"/> is an active node any more (membership has declared it dead).</summary>
    public static async Task WaitForNodesGoneAsync(AccelCluster client, IReadOnlyCollection<string> names, TimeSpan timeout)
    {
        using var limit = new CancellationTokenSource(timeout);
        while (true)
        {
            var active = await client.GetActiveNodesAsync(limit.Token);
            if (!names.Any(active.Contains)) return;
            await Task.Delay(200, limit.Token);
        }
    }

    public static async Task WaitForNodesAsync(AccelCluster client, IReadOnlyCollection<string> names, TimeSpan timeout)
    {
        using var limit = new CancellationTokenSource(timeout);
        while (true)
        {
            var active = await client.GetActiveNodesAsync(limit.Token);
            if (names.All(active.Contains)) return;
            await Task.Delay(200, limit.Token);
        }
    }
}
