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
    private readonly List<Task> _retiring = new();
    private readonly CancellationTokenSource _disposing = new();
    private int _stopped;

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
        var entry = (await ReadActiveMembersAsync(cancellationToken)).FirstOrDefault(h => h.SiloName == node);
        if (entry is null || entry.ProxyPort <= 0) return Grains;
        var key = entry.SiloAddress.ToParsableString();
        var gateway = new IPEndPoint(entry.SiloAddress.Endpoint.Address, entry.ProxyPort);
        if (!_direct.TryGetValue(key, out var connection))
        {
            // Opening a client on a gateway nobody listens on would retry until its timeout: a node killed a moment
            // ago (still listed) is told apart at once.
            if (await ProbeGatewayAsync(gateway, cancellationToken) is { } why)
                throw new NodeUnavailableException(node, $"it is listed as active, but its gateway {gateway} {why}: it stopped and membership has not noticed yet");
            connection = _direct.GetOrAdd(key, _ => new DirectConnection(gateway, new Lazy<Task<IHost?>>(() => ConnectDirectAsync(gateway))));
        }
        var host = await connection.Host.Value.WaitAsync(cancellationToken);
        if (host is null)
        {
            // Not reachable now: the next request tries again, this one goes through the shared connection.
            _direct.TryRemove(new KeyValuePair<string, DirectConnection>(key, connection));
            return Grains;
        }
        return host.Services.GetRequiredService<IClusterClient>();
    }

    /// <summary>Why the last direct connection could not be opened (its requests went through the shared connection), or null.</summary>
    internal string? LastDirectConnectFailure { get; private set; }

    private async Task<IHost?> ConnectDirectAsync(IPEndPoint gateway)
    {
        using var limit = new CancellationTokenSource(DirectConnectTimeout);
        try
        {
            return await StartClientAsync(Options, gateway, limit.Token);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Whatever stopped it (refused, timed out, a node going down), the shared connection still reaches the node.
            LastDirectConnectFailure = $"gateway {gateway}: {e.GetType().Name}: {e.Message}";
            return null;
        }
    }

    /// <summary>
    /// Takes out the connections to nodes that are no longer active members (<paramref name="active"/> is the whole
    /// list of active silos) and stops each after twice the response timeout, when every call still waiting on it has
    /// been answered or has timed out (the session retries those elsewhere).
    /// </summary>
    private void RetireDeparted(IEnumerable<MembershipEntry> active)
    {
        var alive = active.Select(h => h.SiloAddress.ToParsableString()).ToHashSet(StringComparer.Ordinal);
        foreach (var (key, connection) in _direct)
        {
            if (alive.Contains(key) || !_direct.TryRemove(new KeyValuePair<string, DirectConnection>(key, connection))) continue;
            lock (_retiring) _retiring.Add(RetireAsync(connection));
        }
    }

    private async Task RetireAsync(DirectConnection connection)
    {
        try
        {
            await Task.Delay(Options.ResponseTimeout * 2, _disposing.Token);
        }
        catch (OperationCanceledException)
        {
            // The cluster is being disposed: stop it now.
        }
        if (await connection.Host.Value is { } host) await StopQuietlyAsync(host);
    }

    private async Task StopDirectConnectionsAsync()
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 1) return;
        await _disposing.CancelAsync();
        Task[] retiring;
        lock (_retiring) retiring = _retiring.ToArray();
        await Task.WhenAll(retiring);
        foreach (var connection in _direct.Values)
        {
            if (await connection.Host.Value is { } host) await StopQuietlyAsync(host);
        }
        _direct.Clear();
        _disposing.Dispose();
    }

    /// <summary>A client connected to one node's gateway (started once, on first use).</summary>
    private sealed record DirectConnection(IPEndPoint Gateway, Lazy<Task<IHost?>> Host);
}
