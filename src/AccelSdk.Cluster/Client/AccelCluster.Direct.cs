using System.Collections.Concurrent;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Runtime;

namespace AccelSdk.Cluster.Client;

/// <summary>
/// Direct connections: an Orleans client sends each grain's calls through a gateway picked round-robin, so a request
/// for node A often enters through node B, which takes the message in and sends it on to A. With inputs of hundreds of
/// KiB that costs B's CPU and, where each node has one core of its own, takes it from B's own inference (the cluster
/// bench measures it). Requests and measurements of a node therefore go over a client connected to that node's own
/// gateway, one per node, opened on first use.
/// </summary>
public sealed partial class AccelCluster
{
    private static readonly TimeSpan DirectConnectTimeout = TimeSpan.FromSeconds(20);

    // Keyed by the node's silo address (its generation included), so a node restarted on the same port gets a fresh one.
    private readonly ConcurrentDictionary<string, DirectConnection> _direct = new(StringComparer.Ordinal);

    /// <summary>The node gateways this client holds a direct connection to.</summary>
    internal IReadOnlyList<IPEndPoint> DirectGateways => _direct.Values
        .Where(c => c.Host.IsValueCreated && c.Host.Value.IsCompletedSuccessfully && c.Host.Value.Result is not null)
        .Select(c => c.Gateway)
        .ToList();

    /// <summary>
    /// The grain factory whose calls reach <paramref name="node"/> through its own gateway; the shared connection when
    /// direct connections are off (<see cref="AccelClusterOptions.DirectToNodes"/>), the client was given one
    /// gateway, or the node's gateway cannot be reached from here.
    /// </summary>
    internal async Task<IGrainFactory> GrainsForAsync(string node, CancellationToken cancellationToken)
    {
        if (!Options.DirectToNodes || Options.Gateway is not null) return Grains;
        var hosts = await Grains.GetGrain<IManagementGrain>(0).GetDetailedHosts(onlyActive: true).WaitAsync(cancellationToken);
        var entry = hosts.FirstOrDefault(h => h.SiloName == node && h.Status == SiloStatus.Active);
        if (entry is null || entry.ProxyPort <= 0) return Grains;
        var key = entry.SiloAddress.ToParsableString();
        var gateway = new IPEndPoint(entry.SiloAddress.Endpoint.Address, entry.ProxyPort);
        var connection = _direct.GetOrAdd(key, _ => new DirectConnection(gateway, new Lazy<Task<IHost?>>(() => ConnectDirectAsync(gateway))));
        var host = await connection.Host.Value.WaitAsync(cancellationToken);
        if (host is null)
        {
            // Not reachable now: the next request tries again, this one goes through the shared connection.
            _direct.TryRemove(new KeyValuePair<string, DirectConnection>(key, connection));
            return Grains;
        }
        return host.Services.GetRequiredService<IClusterClient>();
    }

    private async Task<IHost?> ConnectDirectAsync(IPEndPoint gateway)
    {
        using var limit = new CancellationTokenSource(DirectConnectTimeout);
        try
        {
            return await StartClientAsync(Options, gateway, limit.Token);
        }
        catch (Exception e) when (e is OperationCanceledException or OrleansException or System.Net.Sockets.SocketException or IOException)
        {
            return null;
        }
    }

    private async Task StopDirectConnectionsAsync()
    {
        foreach (var connection in _direct.Values)
        {
            if (await connection.Host.Value is { } host) await StopQuietlyAsync(host);
        }
        _direct.Clear();
    }

    /// <summary>A client connected to one node's gateway (started once, on first use).</summary>
    private sealed record DirectConnection(IPEndPoint Gateway, Lazy<Task<IHost?>> Host);
}
