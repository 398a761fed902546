using AccelSdk.Cluster.Wire;

namespace AccelSdk.Cluster.Client;

/// <summary>One node's costs for the split planner.</summary>
/// <param name="Node">The node.</param>
/// <param name="LayerMs">Per-layer time in graph order, already scaled to the node's measured whole-model time.</param>
/// <param name="WholeMs">The node's own median of the whole model.</param>
internal sealed record SplitNodeCost(string Node, double[] LayerMs, double WholeMs);

/// <summary>A placement the planner predicts: <paramref name="Front"/> runs layers before <paramref name="Cut"/>,
/// <paramref name="Back"/> the rest (a whole-model placement has Cut = layer count and Back = null).</summary>
internal sealed record PlannedPlacement(string Front, string? Back, int Cut, long CutBytes, double PredictedMs);

/// <summary>
/// Neurosurgeon-style planner over consecutive cuts: for every ordered pair of nodes and every cut, the predicted
/// latency is the client's call to the front node (inputs there, outputs back), the front's layers, the front's call to
/// the back node (the crossing values there, outputs back) and the back's layers, from measured per-layer profiles
/// and measured links. Pure: the client measures the best few end to end before keeping one.
/// <para>Limits: two stages (one cut). One request runs its stages one after the other; a stream pipelines them
/// (<see cref="RankSplitsForThroughput"/> ranks cuts for that).</para>
/// </summary>
internal static class SplitPlanner
{
    /// <summary>Predicted latency of a call over a link carrying <paramref name="request"/> bytes and bringing <paramref name="reply"/> back.</summary>
    public static double CallMs(Func<string, string, LinkFit?> link, string from, string to, long request, long reply)
    {
        var there = link(from, to) ?? throw new ClusterException($"no measured link from {from} to {to}");
        var back = link(to, from) ?? there;
        return there.CallMs(request) + back.MsPerMiB * reply / (1024.0 * 1024.0);
    }

    /// <summary>The whole model on <paramref name="node"/>, called from the client.</summary>
    public static PlannedPlacement Whole(SplitGraph graph, SplitNodeCost node, Func<string, string, LinkFit?> link) =>
        new(node.Node, null, graph.Count, 0, CallMs(link, LinkFit.Client, node.Node, graph.InputBytes, graph.OutputBytes) + node.WholeMs);

    /// <summary>Every split of every ordered pair of nodes with its prediction, best first.</summary>
    public static IReadOnlyList<PlannedPlacement> RankSplits(SplitGraph graph, IReadOnlyList<SplitNodeCost> nodes, Func<string, string, LinkFit?> link) =>
        Rank(graph, nodes, link, static steps => steps.ToClient + steps.Front + steps.Hop + steps.Back);

    /// <summary>
    /// Every split of every ordered pair of nodes ranked for a pipelined stream (the throughput policy), best first: a
    /// pipelined split answers one item per its slowest step, so its <see cref="PlannedPlacement.PredictedMs"/> here is
    /// the time per item of the slowest of the client's call to the front node, the front's layers, the front's call
    /// to the back node and the back's layers. The latency ranking (<see cref="RankSplits"/>) prefers a cut that leaves
    /// little to the back node; this one prefers a cut that gives both about the same work.
    /// </summary>
    public static IReadOnlyList<PlannedPlacement> RankSplitsForThroughput(SplitGraph graph, IReadOnlyList<SplitNodeCost> nodes, Func<string, string, LinkFit?> link) =>
        Rank(graph, nodes, link, static steps => Math.Max(Math.Max(steps.ToClient, steps.Front), Math.Max(steps.Hop, steps.Back)));

    /// <summary>The predicted times of one split's steps: the client's call to the front node, the front's layers, the front's call to the back node, the back's layers.</summary>
    private readonly record struct SplitSteps(double ToClient, double Front, double Hop, double Back);

    private static List<PlannedPlacement> Rank(SplitGraph graph, IReadOnlyList<SplitNodeCost> nodes, Func<string, string, LinkFit?> link, Func<SplitSteps, double> score)
    {
        var result = new List<PlannedPlacement>();
        foreach (var front in nodes)
        {
            var prefix = Prefix(front.LayerMs);
            var toFront = CallMs(link, LinkFit.Client, front.Node, graph.InputBytes, graph.OutputBytes);
            foreach (var back in nodes.Where(b => b.Node != front.Node))
            {
                var backPrefix = Prefix(back.LayerMs);
                for (var k = 1; k < graph.Count; k++)
                {
                    if (graph.CutBytes[k] < 0) continue;
                    var steps = new SplitSteps(toFront, prefix[k], CallMs(link, front.Node, back.Node, graph.CutBytes[k], graph.OutputBytes), backPrefix[graph.Count] - backPrefix[k]);
                    result.Add(new PlannedPlacement(front.Node, back.Node, k, graph.CutBytes[k], score(steps)));
                }
            }
        }
        return result.OrderBy(p => p.PredictedMs).ToList();
    }

    /// <summary>
    /// The best <paramref name="count"/> splits to measure: best predicted first, skipping a cut within a few layers of
    /// one already taken for the same pair (neighbouring cuts predict and measure alike).
    /// </summary>
    public static IReadOnlyList<PlannedPlacement> Shortlist(IReadOnlyList<PlannedPlacement> ranked, int count, int minLayersApart = 3)
    {
        var kept = new List<PlannedPlacement>();
        foreach (var p in ranked)
        {
            if (kept.Count >= count) break;
            if (kept.Any(k => k.Front == p.Front && k.Back == p.Back && Math.Abs(k.Cut - p.Cut) < minLayersApart)) continue;
            kept.Add(p);
        }
        return kept;
    }

    /// <summary>Scales a per-layer profile so that it sums to the node's measured whole-model time (fusion, call overheads).</summary>
    public static double[] Calibrate(double[] layerMs, double wholeMs)
    {
        var sum = layerMs.Sum();
        return sum <= 0 ? layerMs.Select(_ => wholeMs / Math.Max(1, layerMs.Length)).ToArray() : layerMs.Select(ms => ms * wholeMs / sum).ToArray();
    }

    private static double[] Prefix(double[] layerMs)
    {
        var prefix = new double[layerMs.Length + 1];
        for (var i = 0; i < layerMs.Length; i++) prefix[i + 1] = prefix[i] + layerMs[i];
        return prefix;
    }
}
