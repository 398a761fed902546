using System.Diagnostics;
using AccelSdk.Cluster.Grains;
using AccelSdk.Cluster.Wire;

namespace AccelSdk.Cluster.Client;

public sealed partial class AccelCluster
{
    /// <summary>
    /// Places a model on the cluster by measurement: sends it to each node that lacks it (by digest), lets each node
    /// select its local device, measures every node end to end from here, and keeps the placement the policy prefers:
    /// the node with the lowest measured latency, or (throughput policy) data parallel over every node when it measured
    /// more items per second than the best single node.
    /// </summary>
    public async Task<ClusterSession> SelectAsync(string modelPath, ClusterSelectOptions? options = null, IProgress<ClusterProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        options ??= new ClusterSelectOptions();
        if (options.QueueCapacityPerNode < 1) throw new ArgumentOutOfRangeException(nameof(options), "QueueCapacityPerNode must be at least 1");
        var model = await Task.Run(() => ModelFile.Of(modelPath), cancellationToken);
        var sampleInputs = options.SampleInputs ?? LocalRuntime.SampleInputs(model.Path);
        var sample = TensorPayload.FromInputs(sampleInputs);
        var prepare = new PrepareRequest(options.Policy, options.Candidates, options.MeasuredRuns, options.WarmupRuns, sample, options.Autotune);
        var nodes = (await GetActiveNodesAsync(cancellationToken)).Where(n => options.Nodes is null || options.Nodes.Contains(n)).ToList();
        if (nodes.Count == 0)
            throw new ClusterException(options.Nodes is null ? "the cluster has no active node" : $"none of the nodes {string.Join(", ", options.Nodes)} is active");

        var measured = new List<(NodeMeasurement Measurement, IInferenceGrain Grain)>();
        foreach (var node in nodes)
            measured.Add(await MeasureNodeAsync(node, model, prepare, sample, options, progress, cancellationToken));
        var usable = measured.Where(m => m.Measurement.Error is null).ToList();
        if (usable.Count == 0)
            throw new ClusterException($"{model.Path}: no node could run the model: " + string.Join("; ", measured.Select(m => $"{m.Measurement.Node}: {m.Measurement.Error}")));

        var (placement, weights, dataParallel, bestSingle, rows) = await ChoosePlacementAsync(usable, sample, options, progress, cancellationToken);
        SplitOutcome? split = null;
        Runoff? runoff = null;
        if ((options.ConsiderSplits || options.Placement == ClusterPlacement.Split) && placement != ClusterPlacement.DataParallel)
        {
            if (usable.Count < 2) throw new ClusterException($"{model.Path}: a split needs two nodes that can run the model; {usable.Count} can");
            split = await PlanSplitAsync(model, usable, sampleInputs, sample, prepare, options, progress, cancellationToken);
            rows = rows.Select(r => r with { PredictedMs = split.WholePredictedMs.GetValueOrDefault(r.Node) }).ToList();
            if (options.Placement == ClusterPlacement.Split && split.Best is null)
                throw new ClusterException($"{model.Path}: no split could be prepared and run: " + string.Join("; ", split.Splits.Select(x => $"{x.Front}>{x.Back} at {x.Cut}: {x.Error}")));
            var bestWhole = rows.MinBy(r => r.EndToEndMedianMs ?? double.PositiveInfinity)!;
            runoff = await RunoffAsync(split, bestWhole, usable.Single(u => u.Measurement.Node == bestWhole.Node).Grain, sample, options, progress, cancellationToken);
            var splitWins = runoff.SplitMeasuredMs < runoff.WholeMeasuredMs * (1 - Math.Clamp(options.SplitMinGain, 0, 0.9));
            if (split.Best is { } best && (options.Placement == ClusterPlacement.Split || splitWins))
            {
                placement = ClusterPlacement.Split;
                weights = new Dictionary<string, double>(StringComparer.Ordinal) { [best.Front] = 1.0, [best.Back] = 1.0 };
            }
            else
            {
                placement = ClusterPlacement.WholeOnBestNode;
                weights = rows.ToDictionary(r => r.Node, r => r.Node == bestWhole.Node ? 1.0 : 0.0, StringComparer.Ordinal);
            }
        }
        var lanes = new NodeLanes(options.QueueCapacityPerNode);
        foreach (var (m, grain) in usable)
        {
            var standby = placement == ClusterPlacement.Split || (placement == ClusterPlacement.WholeOnBestNode && weights.GetValueOrDefault(m.Node) == 0);
            var weight = placement == ClusterPlacement.Split ? RateOf(m) : weights.GetValueOrDefault(m.Node, RateOf(m));
            lanes.Add(new NodeLane(m.Node, grain, Math.Max(1e-6, weight), standby));
        }
        if (placement == ClusterPlacement.Split)
            lanes.Add(new NodeLane($"{split!.Best!.Front}>{split.Best.Back}", usable[0].Grain, 1.0, standby: false, split.BestRoute));
        var selection = new ClusterSelection(model.Digest, placement, rows.Concat(measured.Select(m => m.Measurement).Where(m => m.Error is not null)).ToList(),
            weights, dataParallel, bestSingle);
        if (split is not null) selection = WithSplit(selection, split, runoff!);
        progress?.Report(new ClusterProgress("placement", null, placement switch
        {
            ClusterPlacement.DataParallel => $"data parallel over {string.Join(", ", weights.Select(w => $"{w.Key} {w.Value:P0}"))}",
            ClusterPlacement.Split => $"split: layers 0-{selection.KeptSplit!.Cut - 1} on {selection.KeptSplit.Front}, the rest on {selection.KeptSplit.Back}",
            _ => $"whole model on {weights.Single(w => w.Value > 0).Key}",
        } + (selection.KeptPredictedMs is { } predicted ? $" (predicted {predicted:F1} ms, measured {selection.KeptMeasuredMs:F1} ms)" : "")));
        return new ClusterSession(this, model, prepare, options, lanes, selection, sampleInputs.Keys.ToList());
    }

    private static ClusterSelection WithSplit(ClusterSelection selection, SplitOutcome split, Runoff runoff)
    {
        selection = selection with { Links = split.Links, Splits = split.Splits, BestWholeMeasuredMs = runoff.WholeMeasuredMs };
        return selection.Placement == ClusterPlacement.Split
            ? selection with { KeptSplit = split.Best, KeptPredictedMs = runoff.SplitPredictedMs, KeptMeasuredMs = runoff.SplitMeasuredMs }
            : selection with { KeptPredictedMs = runoff.WholePredictedMs, KeptMeasuredMs = runoff.WholeMeasuredMs };
    }

    private async Task<(NodeMeasurement, IInferenceGrain)> MeasureNodeAsync(string node, ModelFile model, PrepareRequest prepare, TensorPayload[] sample,
        ClusterSelectOptions options, IProgress<ClusterProgress>? progress, CancellationToken cancellationToken)
    {
        var grain = Grains.GetGrain<IInferenceGrain>(NodeKeys.Of(node, model.Digest));
        try
        {
            grain = (await GrainsForAsync(node, cancellationToken)).GetGrain<IInferenceGrain>(NodeKeys.Of(node, model.Digest));
            var sent = await EnsureModelAsync(node, model, cancellationToken);
            progress?.Report(new ClusterProgress("upload", node, sent == 0 ? $"has {model.Digest} already" : $"sent {sent:N0} bytes of {model.Digest}"));
            var prepared = await grain.PrepareAsync(prepare, cancellationToken);
            progress?.Report(new ClusterProgress("prepare", node, $"{prepared.Device}: {prepared.NodeMedianMs:F2} ms measured on the node" +
                (prepared.TuningSource is { } source ? $", plan from {source}" : "")));
            var endToEnd = await MedianLatencyAsync(grain, sample, options.WarmupRuns, options.MeasuredRuns, cancellationToken);
            progress?.Report(new ClusterProgress("measure", node, $"{endToEnd:F2} ms end to end"));
            return (new NodeMeasurement(node, prepared.Device, prepared.NodeMedianMs, endToEnd, null, sent, null, prepared.TuningSource), grain);
        }
        catch (Exception e) when (e is AccelSdkException or Orleans.Runtime.OrleansException or TimeoutException)
        {
            progress?.Report(new ClusterProgress("measure", node, "left out: " + e.Message));
            return (new NodeMeasurement(node, null, null, null, null, 0, e.Message), grain);
        }
    }

    private async Task<(ClusterPlacement, Dictionary<string, double>, double?, double?, List<NodeMeasurement>)> ChoosePlacementAsync(
        List<(NodeMeasurement Measurement, IInferenceGrain Grain)> usable, TensorPayload[] sample, ClusterSelectOptions options,
        IProgress<ClusterProgress>? progress, CancellationToken cancellationToken)
    {
        var rows = usable.Select(u => u.Measurement).ToList();
        var wantsThroughput = options.Policy == SelectionPolicy.HighestThroughput || options.Placement == ClusterPlacement.DataParallel;
        if (!wantsThroughput || usable.Count == 1)
        {
            var best = usable.OrderBy(u => u.Measurement.EndToEndMedianMs).First().Measurement.Node;
            var forcedParallel = options.Placement == ClusterPlacement.DataParallel;
            return (forcedParallel ? ClusterPlacement.DataParallel : ClusterPlacement.WholeOnBestNode,
                usable.ToDictionary(u => u.Measurement.Node, u => u.Measurement.Node == best ? 1.0 : 0.0), null, null, rows);
        }
        var items = Math.Max(4, options.MeasuredRuns) * options.QueueCapacityPerNode;
        var rates = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var (m, grain) in usable)
        {
            rates[m.Node] = await ThroughputAsync(new[] { (m.Node, grain, 1.0) }, sample, items, options.QueueCapacityPerNode, cancellationToken);
            progress?.Report(new ClusterProgress("measure", m.Node, $"{rates[m.Node]:F1} items/s alone"));
        }
        rows = rows.Select(r => r with { ItemsPerSecond = rates[r.Node] }).ToList();
        var total = rates.Values.Sum();
        var shares = rates.ToDictionary(kv => kv.Key, kv => kv.Value / total, StringComparer.Ordinal);
        var parallel = await ThroughputAsync(usable.Select(u => (u.Measurement.Node, u.Grain, shares[u.Measurement.Node])).ToArray(), sample,
            items * usable.Count, options.QueueCapacityPerNode, cancellationToken);
        var bestNode = rates.MaxBy(kv => kv.Value);
        progress?.Report(new ClusterProgress("measure", null, $"data parallel {parallel:F1} items/s, best node {bestNode.Key} {bestNode.Value:F1} items/s"));
        var keepParallel = options.Placement == ClusterPlacement.DataParallel || (options.Placement is null && parallel > bestNode.Value);
        return keepParallel
            ? (ClusterPlacement.DataParallel, shares, parallel, bestNode.Value, rows)
            : (ClusterPlacement.WholeOnBestNode, rates.ToDictionary(kv => kv.Key, kv => kv.Key == bestNode.Key ? 1.0 : 0.0, StringComparer.Ordinal), parallel, bestNode.Value, rows);
    }

    /// <summary>Median client-side latency of sequential runs on one grain.</summary>
    internal static async Task<double> MedianLatencyAsync(IInferenceGrain grain, TensorPayload[] sample, int warmup, int runs, CancellationToken cancellationToken)
    {
        for (var i = 0; i < warmup; i++) await grain.RunAsync(sample, 0, cancellationToken);
        var times = new double[Math.Max(1, runs)];
        for (var i = 0; i < times.Length; i++)
        {
            var start = Stopwatch.GetTimestamp();
            await grain.RunAsync(sample, 0, cancellationToken);
            times[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }
        Array.Sort(times);
        return times[times.Length / 2];
    }

    /// <summary>Items per second of <paramref name="items"/> runs spread over grains by share, each with a bounded queue.</summary>
    private static async Task<double> ThroughputAsync((string Node, IInferenceGrain Grain, double Share)[] targets, TensorPayload[] sample, int items,
        int capacity, CancellationToken cancellationToken)
    {
        var lanes = new NodeLanes(capacity);
        foreach (var (node, grain, share) in targets) lanes.Add(new NodeLane(node, grain, share, standby: false));
        var start = Stopwatch.GetTimestamp();
        await Task.WhenAll(Enumerable.Range(0, items).Select(async _ =>
        {
            var lane = await lanes.AcquireAsync(cancellationToken);
            try
            {
                await lane.Grain.RunAsync(sample, 0, cancellationToken);
            }
            finally
            {
                lanes.Release(lane, completed: true);
            }
        }));
        return items / Stopwatch.GetElapsedTime(start).TotalSeconds;
    }

    private static double RateOf(NodeMeasurement m) => 1000.0 / Math.Max(0.01, m.EndToEndMedianMs ?? 1000);
}
