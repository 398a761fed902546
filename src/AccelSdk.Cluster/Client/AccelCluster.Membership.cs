using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Orleans.Runtime;

namespace AccelSdk.Cluster.Client;

/// <summary>
/// Membership and control reads that tolerate a node that died but is still listed: after a SIGKILL, membership lists
/// the node as active until the others have missed its probes (a few seconds), and Orleans' client keeps its gateway
/// in the list it spreads calls over. A call sent through that gateway is rejected ("Unable to connect") without
/// reaching any node, so it is sent again (the client then picks another gateway), within a bounded time.
/// </summary>
public sealed partial class AccelCluster
{
    private static readonly TimeSpan GatewayProbeTimeout = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan FirstRetryDelay = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan LongestRetryDelay = TimeSpan.FromSeconds(1);

    /// <summary>The silos membership lists as active now (read through any gateway that answers).</summary>
    private async Task<IReadOnlyList<MembershipEntry>> ReadActiveMembersAsync(CancellationToken cancellationToken)
    {
        var hosts = await RetryRejectedAsync(() => Grains.GetGrain<IManagementGrain>(0).GetDetailedHosts(onlyActive: true), cancellationToken,
            (attempts, last) => new ClusterException($"could not read the cluster's membership: {attempts} attempt(s) in {Options.ResponseTimeout.TotalSeconds:0.#} s " +
                                                     $"were all refused, the last with: {last.Message}", last));
        var active = hosts.Where(h => h.Status == SiloStatus.Active).ToList();
        RetireDeparted(active);
        return active;
    }

    /// <summary>
    /// Runs <paramref name="call"/>, sending it again while Orleans rejects it before it reached a node (a gateway or
    /// node that is gone), at most for <see cref="AccelClusterOptions.ResponseTimeout"/>; then throws what
    /// <paramref name="giveUp"/> makes of the attempts and the last rejection. Only rejections are retried: a call that
    /// timed out may have run, and an error of the call itself is the caller's.
    /// </summary>
    internal async Task<T> RetryRejectedAsync<T>(Func<Task<T>> call, CancellationToken cancellationToken, Func<int, OrleansMessageRejectionException, Exception> giveUp)
    {
        var clock = Stopwatch.StartNew();
        var delay = FirstRetryDelay;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await call().WaitAsync(cancellationToken);
            }
            catch (OrleansMessageRejectionException e)
            {
                if (clock.Elapsed + delay > Options.ResponseTimeout) throw giveUp(attempt, e);
                await Task.Delay(delay, cancellationToken);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, LongestRetryDelay.Ticks));
            }
        }
    }

    /// <summary>A retried call (as above) to one node: when it cannot be reached, <see cref="NodeUnavailableException"/> names it.</summary>
    internal Task<T> RetryRejectedAsync<T>(string node, string what, Func<Task<T>> call, CancellationToken cancellationToken) =>
        RetryRejectedAsync(call, cancellationToken, (attempts, last) =>
            new NodeUnavailableException(node, $"{what}: {attempts} attempt(s) in {Options.ResponseTimeout.TotalSeconds:0.#} s were refused, the last with: {last.Message}"));

    /// <inheritdoc cref="RetryRejectedAsync{T}(string, string, Func{Task{T}}, CancellationToken)"/>
    internal Task RetryRejectedAsync(string node, string what, Func<Task> call, CancellationToken cancellationToken) =>
        RetryRejectedAsync(node, what, async () =>
        {
            await call();
            return true;
        }, cancellationToken);

    /// <summary>
    /// Null when something accepts TCP connections at <paramref name="gateway"/> within a short bound; else why not. A
    /// node killed a moment ago is still listed as active, but nothing listens on its gateway any more: its connection
    /// is refused at once (on a dead machine, the connect times out).
    /// </summary>
    private static async Task<string?> ProbeGatewayAsync(IPEndPoint gateway, CancellationToken cancellationToken)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(GatewayProbeTimeout);
        using var socket = new Socket(gateway.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await socket.ConnectAsync(gateway, limit.Token);
            return null;
        }
        catch (SocketException e)
        {
            return $"refused the connection ({e.SocketErrorCode})";
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return $"did not accept a connection within {GatewayProbeTimeout.TotalSeconds:0} s";
        }
    }
}
