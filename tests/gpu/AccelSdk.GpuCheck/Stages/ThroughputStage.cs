using System.Diagnostics;
using System.Text.Json.Nodes;
using AccelSdk.Autotune;
using AccelSdk.Backends;
using AccelSdk.Execution;
using AccelSdk.Ir;

namespace AccelSdk.GpuCheck.Stages;

/// <summary>
/// <c>RunMany</c>'s pipelined mode across a GPU and a CPU partition against each device alone: each tuned model is cut
/// into a prefix on the device under test and a suffix on ort-cpu where the autotuner's per-node medians balance the
/// two stages, the split's outputs are checked against ort-cpu, and items/s are measured in interleaved rounds.
/// </summary>
internal static class ThroughputStage
{
    private const int Rounds = 3;

    public static void Run(CheckContext context, StageReport report)
    {
        if (context.Tunings.Count == 0)
        {
            report.Skip("needs the autotune stage's per-node times (it did not run)");
            return;
        }
        var (backend, device) = context.Device;
        var (refBackend, refDevice) = context.Reference;
        var rows = new List<IReadOnlyList<string>>();
        foreach (var (path, tuning) in context.Tunings)
        {
            var model = tuning.Model;
            var measuredRatio = context.WholeModelMs.TryGetValue(path, out var whole) ? whole.DeviceMs / whole.CpuMs : (double?)null;
            var (onDevice, onCpu, estimated) = CompletedNodeTimes(tuning, device.Id, refDevice.Id, measuredRatio);
            var cut = BalancedCut(onDevice, onCpu);
            if (cut is null)
            {
                report.Line($"- {model.Label}: no split: nodes without a time on {device.Id} or {refDevice.Id} and no whole-plan time to estimate them from.");
                continue;
            }
            var (k, prefixMs, suffixMs) = cut.Value;
            context.Log($"throughput: {model.Label}: nodes 0..{k - 1} on {device.Id} ({Format.F(prefixMs, 3)} ms), {k}.. on {refDevice.Id} ({Format.F(suffixMs, 3)} ms)");
            var placements = model.Graph.Nodes.Select((_, i) => i < k ? new Placement(backend, device) : new Placement(refBackend, refDevice)).ToArray();
            var inputs = SampleInputs.Random(model, seed: 7);
            using var split = new AccelSession(GraphPartitioner.FromPlacements(model, placements));
            using var alone = new AccelSession(GraphPartitioner.WholeModel(model, backend, device));
            using var cpu = new AccelSession(GraphPartitioner.WholeModel(model, refBackend, refDevice));
            CheckOutputs(report, model, split.Run(inputs), cpu.Run(inputs));
            var stream = Enumerable.Repeat((IReadOnlyDictionary<string, AccelTensor>)inputs, context.Options.StreamItems).ToArray();
            var modes = new (string Label, Action Run)[]
            {
                ($"split {device.Id} -> {refDevice.Id}, pipelined", () => split.RunMany(stream, mode: StreamExecution.Pipelined)),
                ($"split {device.Id} -> {refDevice.Id}, sequential", () => split.RunMany(stream, mode: StreamExecution.Sequential)),
                ($"{device.Id} alone, sequential", () => alone.RunMany(stream, mode: StreamExecution.Sequential)),
                ($"{refDevice.Id} alone, sequential", () => cpu.RunMany(stream, mode: StreamExecution.Sequential)),
                ($"{refDevice.Id} alone, concurrent", () => cpu.RunMany(stream, mode: StreamExecution.Concurrent)),
            };
            var rates = ItemsPerSecond(modes.Select(m => m.Run).ToArray(), stream.Length);
            var bestAlone = rates.Skip(2).Max();
            var json = new JsonObject { ["cut_after_node"] = k, ["prefix_ms"] = prefixMs, ["suffix_ms"] = suffixMs, ["partitions"] = split.Plan.Partitions.Count, ["transfers"] = split.Plan.Transfers.Count };
            for (var m = 0; m < modes.Length; m++)
            {
                json[modes[m].Label] = rates[m];
                rows.Add(new[] { model.Label, modes[m].Label, Format.F(rates[m], 1), Format.F(rates[m] / bestAlone) + "x" });
            }
            report.Json[model.Label] = json;
            report.Line($"- {model.Label}: nodes 0..{k - 1} of {model.Graph.Nodes.Count} on {device.Id} (autotuner's node medians sum to {Format.F(prefixMs, 3)} ms" +
                        (estimated > 0 ? $"; {estimated} node time(s) the tuning skipped or abandoned estimated from the whole-model ratio" : "") + "), " +
                        $"the rest on {refDevice.Id} ({Format.F(suffixMs, 3)} ms); {split.Plan.Partitions.Count} partitions, {split.Plan.Transfers.Count} transfers; outputs checked against {refDevice.Id}.");
        }
        report.Line("");
        report.Line($"Items/s: median of {Rounds} interleaved rounds of a {context.Options.StreamItems}-item RunMany stream (one warm-up round); 'vs best alone' divides by the fastest single-device row.");
        report.Line("");
        report.Table(new[] { "model", "plan, stream mode", "items/s", "vs best alone" }, rows);
    }

    /// <summary>
    /// Node times on both devices; a node the tuning did not time on one device (skipped as hopeless, say) gets its time
    /// on the other device scaled by the ratio of the two devices' whole-model times.
    /// </summary>
    /// <param name="wholeModelRatio">The latency stage's whole-model time ratio (first / second), preferred when known.</param>
    internal static (double?[] First, double?[] Second, int Estimated) CompletedNodeTimes(AutotuneResult tuning, string first, string second, double? wholeModelRatio)
    {
        var ratio = wholeModelRatio ?? PlanMs(tuning, first) / PlanMs(tuning, second);
        return Complete(NodeTimes(tuning, first), NodeTimes(tuning, second), ratio);
    }

    /// <summary>Fills each missing time of one list from the other (times <paramref name="firstOverSecond"/> or its inverse).</summary>
    internal static (double?[] First, double?[] Second, int Estimated) Complete(double?[] first, double?[] second, double? firstOverSecond)
    {
        var a = (double?[])first.Clone();
        var b = (double?[])second.Clone();
        var estimated = 0;
        if (firstOverSecond is not { } r || !double.IsFinite(r) || r <= 0) return (a, b, 0);
        for (var i = 0; i < a.Length; i++)
        {
            if (a[i] is null && b[i] is { } tb)
            {
                a[i] = tb * r;
                estimated++;
            }
            else if (b[i] is null && a[i] is { } ta)
            {
                b[i] = ta / r;
                estimated++;
            }
        }
        return (a, b, estimated);
    }

    private static double? PlanMs(AutotuneResult tuning, string deviceId) =>
        tuning.SingleBackend.FirstOrDefault(p => p.Label == deviceId && p.Error is null)?.MeasuredMs;

    /// <summary>Median time of each node on <paramref name="deviceId"/> from the tuning (the one run of an abandoned candidate counts), null where not run.</summary>
    internal static double?[] NodeTimes(AutotuneResult tuning, string deviceId) =>
        tuning.Nodes.Select(n => n.Candidates.FirstOrDefault(c => c.DeviceId == deviceId && c.Status is CandidateStatus.Measured or CandidateStatus.Abandoned)?.MedianMs).ToArray();

    /// <summary>
    /// The cut k (nodes [0, k) first stage, [k, n) second) that minimises the slower stage of a two-stage pipeline, with
    /// both stages' summed times; null when no cut has a time for every node.
    /// </summary>
    internal static (int K, double FirstMs, double SecondMs)? BalancedCut(IReadOnlyList<double?> first, IReadOnlyList<double?> second)
    {
        (int, double, double)? best = null;
        for (var k = 1; k < first.Count; k++)
        {
            var a = Sum(first, 0, k);
            var b = Sum(second, k, first.Count);
            if (a is null || b is null) continue;
            if (best is null || Math.Max(a.Value, b.Value) < Math.Max(best.Value.Item2, best.Value.Item3)) best = (k, a.Value, b.Value);
        }
        return best;
    }

    private static double? Sum(IReadOnlyList<double?> times, int from, int to)
    {
        double total = 0;
        for (var i = from; i < to; i++)
        {
            if (times[i] is not { } t) return null;
            total += t;
        }
        return total;
    }

    private static void CheckOutputs(StageReport report, Model model, RunResult actual, RunResult expected)
    {
        for (var o = 0; o < expected.Count; o++)
        {
            var (relative, problem) = AgreementStage.RelativeDifference(actual[o], expected[o]);
            if (problem is not null || relative > AgreementStage.Tolerance)
            {
                report.Fail($"{model.Label} split output {expected.Names[o]}: {problem ?? "relative difference " + Format.G(relative)} vs ort-cpu");
            }
        }
    }

    private static double[] ItemsPerSecond(IReadOnlyList<Action> streams, int items)
    {
        foreach (var s in streams) s();
        var rates = streams.Select(_ => new List<double>()).ToArray();
        for (var round = 0; round < Rounds; round++)
        {
            for (var i = 0; i < streams.Count; i++)
            {
                var start = Stopwatch.GetTimestamp();
                streams[i]();
                rates[i].Add(items / Stopwatch.GetElapsedTime(start).TotalSeconds);
            }
        }
        return rates.Select(Interleaved.Median).ToArray();
    }
}
