using System.Collections.Concurrent;
using AccelSdk.Cluster.Grains;
using AccelSdk.Cluster.Wire;

namespace AccelSdk.Cluster.Client;

public sealed partial class AccelCluster
{
    /// <summary>Size of the check probe that tells whether a known link has drifted.</summary>
    internal const long DriftCheckBytes = 256 << 10;

    private readonly ConcurrentDictionary<(string From, string To), LinkFit> _links = new();
    private long _linkRemeasures;

    /// <summary>The links measured so far (client to each node, and between nodes), the latest fit of each.</summary>
    public IReadOnlyList<LinkFit> Links => _links.Values.OrderBy(l => l.From, StringComparer.Ordinal).ThenBy(l => l.To, StringComparer.Ordinal).ToList();

    /// <summary>Links measured again because a check probe disagreed with their fit (they drifted).</summary>
    public long LinkRemeasures => Interlocked.Read(ref _linkRemeasures);

    /// <summary>
    /// Measures the link from this client to each node and between every ordered pair of <paramref name="nodes"/>, with
    /// probes of several sizes (<see cref="LinkProbe.DefaultSizes"/>). A link measured before is checked with one
    /// probe of <see cref="DriftCheckBytes"/> and kept when the probe agrees with its fit; otherwise it has drifted and is
    /// measured again.
    /// </summary>
    public async Task<IReadOnlyList<LinkFit>> MeasureLinksAsync(IReadOnlyList<string> nodes, IProgress<ClusterProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        const int repeats = 3;
        var sizes = LinkProbe.DefaultSizes;
        var result = new List<LinkFit>();
        foreach (var node in nodes)
        {
            var peer = Grains.GetGrain<ILinkGrain>(node);
            Func<byte[], Task> echo = payload => peer.EchoAsync(payload);
            result.Add(await RefreshLinkAsync(LinkFit.Client, node,
                () => LinkProbe.MeasureAsync(LinkFit.Client, node, echo, sizes, repeats, cancellationToken),
                bytes => LinkProbe.MedianCallMsAsync(echo, bytes, 3, cancellationToken), progress));
        }
        foreach (var from in nodes)
        {
            foreach (var to in nodes.Where(n => n != from))
            {
                var grain = Grains.GetGrain<ILinkGrain>(from);
                result.Add(await RefreshLinkAsync(from, to,
                    () => grain.MeasureToAsync(to, sizes.ToArray(), repeats).WaitAsync(cancellationToken),
                    bytes => grain.ProbeToAsync(to, bytes, 3).WaitAsync(cancellationToken), progress));
            }
        }
        return result;
    }

    /// <summary>The latest fit of the link from <paramref name="from"/> to <paramref name="to"/>, if measured.</summary>
    internal LinkFit? LinkOf(string from, string to) => _links.GetValueOrDefault((from, to));

    private async Task<LinkFit> RefreshLinkAsync(string from, string to, Func<Task<LinkFit>> measure, Func<long, Task<double>> probe, IProgress<ClusterProgress>? progress)
    {
        if (_links.TryGetValue((from, to), out var known))
        {
            var observed = await probe(DriftCheckBytes);
            if (!LinkProbe.Drifted(known, DriftCheckBytes, observed))
            {
                progress?.Report(new ClusterProgress("link", null, $"{from} -> {to}: kept ({observed:F1} ms for {DriftCheckBytes >> 10} KiB, fit says {known.CallMs(DriftCheckBytes):F1} ms)"));
                return known;
            }
            Interlocked.Increment(ref _linkRemeasures);
            progress?.Report(new ClusterProgress("link", null, $"{from} -> {to}: drifted ({observed:F1} ms for {DriftCheckBytes >> 10} KiB, fit says {known.CallMs(DriftCheckBytes):F1} ms): measuring again"));
        }
        var fit = await measure();
        _links[(from, to)] = fit;
        progress?.Report(new ClusterProgress("link", null, $"{from} -> {to}: {fit.LatencyMs:F2} ms + {fit.MsPerMiB:F2} ms/MiB ({Describe(fit)})"));
        return fit;
    }

    private static string Describe(LinkFit fit) => double.IsPositiveInfinity(fit.MegabitsPerSecond) ? "no measurable bandwidth limit" : $"{fit.MegabitsPerSecond:F0} Mbit/s";
}
