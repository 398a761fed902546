using AccelSdk.Cluster.Grains;
using AccelSdk.Cluster.Wire;
using AccelSdk.Ir;

namespace AccelSdk.Cluster.Client;

public sealed partial class AccelCluster
{
    /// <summary>What the split planner measured: every shortlisted split, the best measured one and each node's whole-model prediction.</summary>
    private sealed record SplitOutcome(IReadOnlyList<SplitMeasurement> Splits, SplitMeasurement? Best, SplitRoute? BestRoute,
        IReadOnlyDictionary<string, double> WholePredictedMs, IReadOnlyList<LinkFit> Links, SplitGraph Graph);

    /// <summary>The final side-by-side measurement of the best whole node and the best split.</summary>
    private sealed record Runoff(string WholeNode, double WholePredictedMs, double WholeMeasuredMs, double? SplitPredictedMs, double? SplitMeasuredMs);

    /// <summary>
    /// Measures the links, takes each node's per-layer profile, ranks every cut of every ordered node pair by predicted
    /// latency, and measures the shortlisted splits end to end (each stage prepared on its node and measured there too).
    /// </summary>
    private async Task<SplitOutcome> PlanSplitAsync(ModelFile model, IReadOnlyList<(NodeMeasurement Measurement, IInferenceGrain Grain)> usable,
        IReadOnlyDictionary<string, AccelTensor> sampleInputs, TensorPayload[] sample, PrepareRequest prepare, ClusterSelectOptions options,
        IProgress<ClusterProgress>? progress, CancellationToken cancellationToken)
    {
        var nodes = usable.Select(u => u.Measurement.Node).ToList();
        var links = await MeasureLinksAsync(nodes, progress, cancellationToken);
        var costs = new List<SplitNodeCost>();
        foreach (var (m, grain) in usable)
        {
            var profile = await grain.ProfileLayersAsync(cancellationToken);
            var whole = m.NodeMedianMs is > 0 and var median ? median : profile.LayerMs.Sum();
            costs.Add(new SplitNodeCost(m.Node, SplitPlanner.Calibrate(profile.LayerMs, whole), whole));
            progress?.Report(new ClusterProgress("profile", m.Node, $"{profile.LayerMs.Length} layers on {profile.Device} ({profile.Source}): " +
                $"{profile.LayerMs.Sum():F1} ms layer by layer, {whole:F1} ms whole"));
        }
        var parsed = LocalRuntime.Load(model.Path);
        var graph = SplitGraph.Of(parsed, sampleInputs);
        var outputNames = parsed.Graph.Outputs.Select(o => o.Name).ToList();
        var wholePredicted = costs.ToDictionary(c => c.Node, c => SplitPlanner.Whole(graph, c, LinkOf).PredictedMs, StringComparer.Ordinal);
        // A stream pipelines the stages: for the throughput policy the cut is ranked by its slowest step, not by the sum.
        var ranked = options.Policy == SelectionPolicy.HighestThroughput ? SplitPlanner.RankSplitsForThroughput(graph, costs, LinkOf) : SplitPlanner.RankSplits(graph, costs, LinkOf);
        var shortlist = SplitPlanner.Shortlist(ranked, Math.Clamp(options.SplitCandidates, 1, 8));

        var splits = new List<SplitMeasurement>();
        var routes = new List<(SplitMeasurement, SplitRoute)>();
        foreach (var plan in shortlist)
        {
            var (measurement, route) = await MeasureSplitAsync(model, graph, plan, usable, outputNames, sample, prepare, options, cancellationToken);
            splits.Add(measurement);
            if (route is not null) routes.Add((measurement, route));
            progress?.Report(new ClusterProgress("split", $"{plan.Front}>{plan.Back}", measurement.Error is { } error
                ? $"cut after layer {plan.Cut} left out: {error}"
                : $"cut after layer {plan.Cut} ({measurement.CutAfter}, {plan.CutBytes:N0} bytes): predicted {measurement.PredictedMs:F1} ms " +
                  $"(profile {plan.PredictedMs:F1} ms), measured {measurement.MeasuredMs:F1} ms"));
        }
        var best = routes.OrderBy(r => r.Item1.MeasuredMs).Select(r => ((SplitMeasurement, SplitRoute)?)r).FirstOrDefault();
        return new SplitOutcome(splits, best?.Item1, best?.Item2, wholePredicted, links, graph);
    }

    private async Task<(SplitMeasurement, SplitRoute?)> MeasureSplitAsync(ModelFile model, SplitGraph graph, PlannedPlacement plan,
        IReadOnlyList<(NodeMeasurement Measurement, IInferenceGrain Grain)> usable, IReadOnlyList<string> outputNames, TensorPayload[] sample,
        PrepareRequest prepare, ClusterSelectOptions options, CancellationToken cancellationToken)
    {
        var back = plan.Back!;
        var row = new SplitMeasurement(plan.Front, back, plan.Cut, graph.LayerNames[plan.Cut - 1], plan.CutBytes, plan.PredictedMs);
        try
        {
            // A stage runs on one device: the node's chosen one (the first of an autotuned multi-device plan).
            var frontDevice = usable.Single(u => u.Measurement.Node == plan.Front).Measurement.Device!.Split('+')[0];
            var backDevice = usable.Single(u => u.Measurement.Node == back).Measurement.Device!.Split('+')[0];
            var first = Grains.GetGrain<IStageGrain>(NodeKeys.OfStage(plan.Front, model.Digest, 0, plan.Cut));
            var second = Grains.GetGrain<IStageGrain>(NodeKeys.OfStage(back, model.Digest, plan.Cut, graph.Count));
            var frontStage = await first.PrepareAsync(new StageRequest(prepare, 0, plan.Cut, frontDevice), cancellationToken);
            var backStage = await second.PrepareAsync(new StageRequest(prepare, plan.Cut, graph.Count, backDevice), cancellationToken);
            var predicted = SplitPlanner.CallMs(LinkOf, LinkFit.Client, plan.Front, graph.InputBytes, graph.OutputBytes) + frontStage.NodeMedianMs +
                            SplitPlanner.CallMs(LinkOf, plan.Front, back, plan.CutBytes, graph.OutputBytes) + backStage.NodeMedianMs;
            var route = new SplitRoute(first, [new StageHop(back, plan.Cut, graph.Count, graph.Crossing(plan.Cut))], [plan.Front, back], outputNames, [first, second]);
            var measured = await MedianLatencyAsync(() => route.RunAsync(sample, 0, cancellationToken), options.WarmupRuns, options.MeasuredRuns);
            return (row with { FrontStageMs = frontStage.NodeMedianMs, BackStageMs = backStage.NodeMedianMs, PredictedMs = predicted, MeasuredMs = measured }, route);
        }
        catch (Exception e) when (e is AccelSdkException or Orleans.Runtime.OrleansException or TimeoutException)
        {
            return (row with { Error = e.Message }, null);
        }
    }

    /// <summary>
    /// The best whole node against the best split, side by side. Each round runs each candidate's parts alone on their
    /// nodes (each node or stage timed by itself) and then the candidate end to end, so that the prediction (links +
    /// the parts' medians) and the measurement come from the same moments and a change of machine load between earlier
    /// measurements cannot decide. When the leading candidate's measurement and prediction still disagree by more than
    /// 20%, the load moved during the run-off: it runs again (at most twice more), and the medians are taken over every
    /// round run.
    /// </summary>
    private async Task<Runoff> RunoffAsync(SplitOutcome split, NodeMeasurement bestWhole, IInferenceGrain wholeGrain, TensorPayload[] sample,
        ClusterSelectOptions options, IProgress<ClusterProgress>? progress, CancellationToken cancellationToken)
    {
        var graph = split.Graph;
        var runs = Math.Max(3, options.MeasuredRuns);
        var candidates = new List<RunoffCandidate>
        {
            new(SplitPlanner.CallMs(LinkOf, LinkFit.Client, bestWhole.Node, graph.InputBytes, graph.OutputBytes),
                [ct => wholeGrain.MeasureLocalAsync(1, ct)], () => wholeGrain.RunAsync(sample, 0, cancellationToken)),
        };
        if (split.Best is { } best && split.BestRoute is { } route)
        {
            candidates.Add(new(SplitPlanner.CallMs(LinkOf, LinkFit.Client, best.Front, graph.InputBytes, graph.OutputBytes) +
                               SplitPlanner.CallMs(LinkOf, best.Front, best.Back, best.CutBytes, graph.OutputBytes),
                [ct => route.Stages[0].MeasureLocalAsync(1, ct), ct => route.Stages[1].MeasureLocalAsync(1, ct)], () => route.RunAsync(sample, 0, cancellationToken)));
        }
        foreach (var c in candidates) await c.EndToEnd();
        Runoff? runoff = null;
        var predicted = candidates.Select(_ => new List<double>()).ToArray();
        var measured = candidates.Select(_ => new List<double>()).ToArray();
        for (var attempt = 0; attempt < 3; attempt++)
        {
            for (var i = 0; i < runs; i++)
            {
                for (var c = 0; c < candidates.Count; c++)
                {
                    var prediction = candidates[c].TransferMs;
                    foreach (var part in candidates[c].Parts) prediction += await part(cancellationToken);
                    predicted[c].Add(prediction);
                    var start = System.Diagnostics.Stopwatch.GetTimestamp();
                    await candidates[c].EndToEnd();
                    measured[c].Add(System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalMilliseconds);
                }
            }
            // Every round so far counts: a repeat adds samples instead of replacing them.
            var (p, m) = (predicted.Select(x => Median(x.ToArray())).ToArray(), measured.Select(x => Median(x.ToArray())).ToArray());
            runoff = new Runoff(bestWhole.Node, p[0], m[0], candidates.Count > 1 ? p[1] : null, candidates.Count > 1 ? m[1] : null);
            progress?.Report(new ClusterProgress("runoff", null, $"whole on {runoff.WholeNode}: predicted {runoff.WholePredictedMs:F1} ms, measured {runoff.WholeMeasuredMs:F1} ms" +
                (split.Best is { } b ? $"; split {b.Front}>{b.Back} at {b.Cut}: predicted {runoff.SplitPredictedMs:F1} ms, measured {runoff.SplitMeasuredMs:F1} ms" : "")));
            var lead = m.Length > 1 && m[1] < m[0] ? 1 : 0;
            if (Math.Abs(m[lead] - p[lead]) <= 0.2 * p[lead]) break;
        }
        return runoff!;
    }

    private sealed record RunoffCandidate(double TransferMs, IReadOnlyList<Func<CancellationToken, Task<double>>> Parts, Func<Task> EndToEnd);

    private static double Median(double[] values) => values.Order().ElementAt(values.Length / 2);

    /// <summary>Median time of sequential calls.</summary>
    private static async Task<double> MedianLatencyAsync(Func<Task> call, int warmup, int runs)
    {
        for (var i = 0; i < warmup; i++) await call();
        var times = new double[Math.Max(1, runs)];
        for (var i = 0; i < times.Length; i++)
        {
            var start = System.Diagnostics.Stopwatch.GetTimestamp();
            await call();
            times[i] = System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }
        Array.Sort(times);
        return times[times.Length / 2];
    }
}
