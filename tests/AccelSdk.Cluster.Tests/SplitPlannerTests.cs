using AccelSdk.Cluster.Client;
using AccelSdk.Cluster.Wire;
using AccelSdk.Execution;
using AccelSdk.Ir;
using AccelSdk.TestSupport;

namespace AccelSdk.Cluster.Tests;

/// <summary>The split planner's own logic (link fits, cut sizes, ranking) on real models and made-up costs; under a second.</summary>
public sealed class SplitPlannerTests
{
    private static LinkFit Link(string from, string to, double latencyMs, double megabits) =>
        new(from, to, latencyMs, megabits <= 0 ? 0 : 1024.0 * 1024.0 * 8 / 1e6 / megabits * 1000.0, [], DateTimeOffset.UtcNow);

    [Fact]
    public void A_link_fit_recovers_latency_and_bandwidth_from_probes()
    {
        // 2 ms + 10 ms per MiB, measured at four sizes.
        var samples = new[] { 1L << 10, 64L << 10, 256L << 10, 1L << 20 }.Select(b => new LinkSample(b, 2 + 10.0 * b / (1 << 20))).ToList();
        var fit = LinkFit.Fit("a", "b", samples);
        Assert.Equal(2, fit.LatencyMs, 6);
        Assert.Equal(10, fit.MsPerMiB, 6);
        Assert.Equal(12, fit.CallMs(1 << 20), 6);
        Assert.False(LinkProbe.Drifted(fit, 256 << 10, 4.6));
        Assert.True(LinkProbe.Drifted(fit, 256 << 10, 40));
    }

    [Fact]
    public void Cut_sizes_of_ResNet18_are_the_tensors_that_cross()
    {
        var model = Model.Load(RepoPaths.ResNet18);
        var sample = SampleInputs.Random(model);
        var graph = SplitGraph.Of(model, sample);
        Assert.Equal(model.Graph.Nodes.Count, graph.Count);
        Assert.Equal(3 * 224 * 224 * 4, graph.InputBytes);
        Assert.Equal(3 * 224 * 224 * 4, graph.CutBytes[0]);
        Assert.Equal(512 * 4, graph.OutputBytes);
        Assert.Equal(0, graph.CutBytes[graph.Count]);
        // Between residual blocks exactly one activation crosses: 64x56x56 after the stem, 512x7x7 before the pooling.
        Assert.Contains(64L * 56 * 56 * 4, graph.CutBytes);
        Assert.Equal(512L * 7 * 7 * 4, graph.CutBytes[graph.Count - 1]);
        Assert.All(Enumerable.Range(1, graph.Count - 1), k => Assert.NotEmpty(graph.Crossing(k)));
    }

    [Fact]
    public void The_planner_sends_work_to_the_strong_node_only_when_the_link_is_fast_enough()
    {
        var model = Model.Load(RepoPaths.ResNet18);
        var graph = SplitGraph.Of(model, SampleInputs.Random(model));
        var layers = graph.Count;
        var weak = new SplitNodeCost("weak", Enumerable.Repeat(200.0 / layers, layers).ToArray(), 200);
        var strong = new SplitNodeCost("strong", Enumerable.Repeat(40.0 / layers, layers).ToArray(), 40);
        foreach (var (megabits, expectStrong) in new[] { (1000.0, true), (5.0, false) })
        {
            var links = new Dictionary<(string, string), LinkFit>
            {
                [(LinkFit.Client, "weak")] = Link(LinkFit.Client, "weak", 0.3, 0),
                [(LinkFit.Client, "strong")] = Link(LinkFit.Client, "strong", 0.5, megabits),
                [("weak", "strong")] = Link("weak", "strong", 0.5, megabits),
                [("strong", "weak")] = Link("strong", "weak", 0.5, megabits),
            };
            LinkFit? Of(string from, string to) => links.GetValueOrDefault((from, to));
            var wholeWeak = SplitPlanner.Whole(graph, weak, Of).PredictedMs;
            var wholeStrong = SplitPlanner.Whole(graph, strong, Of).PredictedMs;
            var ranked = SplitPlanner.RankSplits(graph, [weak, strong], Of);
            var best = ranked[0];
            Assert.Equal(expectStrong, wholeStrong < wholeWeak);
            Assert.Equal(2 * (layers - 1), ranked.Count);
            Assert.True(ranked.Zip(ranked.Skip(1)).All(p => p.First.PredictedMs <= p.Second.PredictedMs), "ranked best first");
            var (front, back) = best.Front == "weak" ? (weak, strong) : (strong, weak);
            var expected = SplitPlanner.CallMs(Of, LinkFit.Client, front.Node, graph.InputBytes, graph.OutputBytes) + front.LayerMs[..best.Cut].Sum() +
                           SplitPlanner.CallMs(Of, front.Node, back.Node, graph.CutBytes[best.Cut], graph.OutputBytes) + back.LayerMs[best.Cut..].Sum();
            Assert.Equal(expected, best.PredictedMs, 6);
            if (!expectStrong)
            {
                // On a slow link the weak node near the client goes first and sends only a small late tensor.
                Assert.Equal("weak", best.Front);
                Assert.True(best.CutBytes <= 512L * 7 * 7 * 4, $"cut after layer {best.Cut} sends {best.CutBytes} bytes");
            }
            var shortlist = SplitPlanner.Shortlist(ranked, 3);
            Assert.Equal(3, shortlist.Count);
            Assert.All(shortlist, p => Assert.InRange(p.Cut, 1, layers - 1));
            Assert.All(shortlist.SelectMany((p, i) => shortlist.Skip(i + 1).Where(q => q.Front == p.Front && q.Back == p.Back), (p, q) => Math.Abs(p.Cut - q.Cut)),
                apart => Assert.True(apart >= 3));
        }
    }

    [Fact]
    public void For_a_stream_the_planner_balances_the_stages_instead_of_minimising_their_sum()
    {
        var model = Model.Load(RepoPaths.ResNet18);
        var graph = SplitGraph.Of(model, SampleInputs.Random(model));
        var layers = graph.Count;
        var one = new SplitNodeCost("one", Enumerable.Repeat(40.0 / layers, layers).ToArray(), 40);
        var two = new SplitNodeCost("two", Enumerable.Repeat(40.0 / layers, layers).ToArray(), 40);
        LinkFit? Of(string from, string to) => Link(from, to, 0.3, 0);
        var ranked = SplitPlanner.RankSplitsForThroughput(graph, [one, two], Of);
        var best = ranked[0];
        Assert.True(ranked.Zip(ranked.Skip(1)).All(p => p.First.PredictedMs <= p.Second.PredictedMs), "ranked best first");
        var (front, back) = (one.LayerMs[..best.Cut].Sum(), one.LayerMs[best.Cut..].Sum());
        Assert.Equal(Math.Max(front, back), best.PredictedMs, 6);
        // Equal nodes, a free link: the best cut halves the work (within the layers a cut may fall between).
        Assert.InRange(best.PredictedMs, 20 - 1e-9, 26);
        // The latency ranking, by contrast, finds nothing better than an unbalanced cut for the same nodes.
        Assert.True(SplitPlanner.RankSplits(graph, [one, two], Of)[0].PredictedMs >= 40);
    }

    [Fact]
    public void Calibration_scales_layer_times_to_the_measured_whole()
    {
        var scaled = SplitPlanner.Calibrate([1, 2, 3, 4], 20);
        Assert.Equal([2.0, 4, 6, 8], scaled);
        Assert.Equal([5.0, 5, 5, 5], SplitPlanner.Calibrate([0, 0, 0, 0], 20));
    }
}
