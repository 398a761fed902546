using System.Diagnostics;
using AccelSdk.Autotune.Placement;
using AccelSdk.Backends;
using AccelSdk.Execution;
using AccelSdk.Ir;
using AccelSdk.Selection;

namespace AccelSdk.Autotune;

public static partial class Autotuner
{
    /// <summary>Cost multiplier for a device of the kind a Prefer* policy avoids: used only where nothing else runs the node.</summary>
    private const double AvoidedKindPenalty = 1000;

    private sealed class PlanCandidate(PlanResult result, ExecutionPlan? plan, int[]? assignment)
    {
        public PlanResult Result { get; set; } = result;
        public ExecutionPlan? Plan { get; } = plan;
        public int[]? Assignment { get; } = assignment;
        public AccelSession? Session { get; set; }
        public List<double> Times { get; } = new();
    }

    /// <summary>
    /// Pairs of memory spaces between which some candidate's backend offers a direct copy path (<see cref="IBackend.TryGetTransfer"/>),
    /// with the fewest memory copies one of them makes.
    /// </summary>
    private static Dictionary<(MemorySpace From, MemorySpace To), int> DirectPaths(List<DeviceTarget> candidates)
    {
        var pairs = new Dictionary<(MemorySpace, MemorySpace), int>();
        foreach (var from in candidates)
        {
            foreach (var to in candidates)
            {
                if (from.Device.MemorySpace == to.Device.MemorySpace) continue;
                if ((to.Backend.TryGetTransfer(from.Device, to.Device) ?? from.Backend.TryGetTransfer(from.Device, to.Device)) is { } path)
                {
                    var key = (from.Device.MemorySpace, to.Device.MemorySpace);
                    pairs[key] = Math.Min(path.Copies, pairs.GetValueOrDefault(key, int.MaxValue));
                }
            }
        }
        return pairs;
    }

    private static void ChoosePlan(AutotuneResult result, Model model, List<DeviceTarget> candidates,
        Dictionary<string, Ir.ValueType> types, Dictionary<string, AccelTensor> values, IReadOnlyDictionary<string, AccelTensor> inputs, AutotuneOptions options)
    {
        var nodes = model.Graph.Nodes;
        // Per-node placement uses devices that run single nodes; whole-source-model backends get their whole-model plan only.
        var usable = candidates.Select(c => !result.ExcludedDevices.ContainsKey(c.Device.Id) && !c.Backend.CompilesWholeSourceModelsOnly).ToArray();
        var transfers = result.Transfers.ToDictionary(t => t.MemorySpace, StringComparer.Ordinal);
        var direct = DirectPaths(candidates);
        double TransferMs(MemorySpace from, MemorySpace to, long bytes)
        {
            var download = !from.IsHost && transfers.TryGetValue(from.Name, out var f) ? f.DownloadMs(bytes) : 0;
            var upload = !to.IsHost && transfers.TryGetValue(to.Name, out var t) ? t.UploadMs(bytes) : 0;
            // A backend's direct path makes one copy where staging makes two: charged as the cheaper of the two halves;
            // one that hands the memory over in place (a device pointer wrapped by the other runtime) costs nothing.
            if (!direct.TryGetValue((from, to), out var copies)) return download + upload;
            return copies == 0 ? 0 : Math.Min(download, upload);
        }
        // Model outputs go to the caller, who keeps them: always a download (paths that lend buffers do not apply).
        double OutputMs(MemorySpace from, long bytes) => transfers.TryGetValue(from.Name, out var f) ? f.DownloadMs(bytes) : 0;
        var solverDevices = candidates.Select(c => SolverDeviceOf(c.Device, result.CallOverheadMs.GetValueOrDefault(c.Device.Id), options.PartitionOverlap)).ToArray();
        var producer = new Dictionary<string, int>(StringComparer.Ordinal);
        var solverNodes = new List<SolverNode>();
        for (var i = 0; i < nodes.Count; i++)
        {
            var costs = new double[candidates.Count];
            for (var k = 0; k < candidates.Count; k++)
            {
                var c = result.Nodes[i].Candidates[k];
                costs[k] = !usable[k] || c.MedianMs is null || c.Status is CandidateStatus.Failed or CandidateStatus.Unsupported or CandidateStatus.Skipped
                    ? double.PositiveInfinity
                    : Math.Max(0, c.MedianMs.Value - solverDevices[k].CallOverheadMs);
                if (Avoided(candidates[k].Device.Kind, options.Policy) && !double.IsPositiveInfinity(costs[k])) costs[k] = costs[k] * AvoidedKindPenalty + AvoidedKindPenalty;
            }
            // A node no usable device has a time for (all failed or unprofiled) goes where it is claimed, at no predicted
            // cost, unless nothing was profiled at all (then only whole-model plans are measured).
            if (costs.All(double.IsPositiveInfinity) && result.Nodes.Any(n => n.BestMs is not null))
            {
                for (var k = 0; k < candidates.Count; k++)
                {
                    if (usable[k] && result.Nodes[i].Candidates[k].Status != CandidateStatus.Unsupported) costs[k] = 0;
                }
            }
            var nodeInputs = nodes[i].Inputs.Where(v => v.Length > 0 && (producer.ContainsKey(v) || values.ContainsKey(v)) && model.Graph.FindInitializer(v) is null)
                .Distinct().Select(v => (v, producer.GetValueOrDefault(v, -1), Bytes(values, v))).ToArray();
            solverNodes.Add(new SolverNode(costs, nodeInputs));
            foreach (var o in nodes[i].Outputs)
            {
                if (o.Length > 0) producer[o] = i;
            }
        }
        var graphOutputs = model.Graph.Outputs.Select(o => (producer.GetValueOrDefault(o.Name, -1), Bytes(values, o.Name))).ToArray();
        // A fusion group faster as a unit than its nodes alone: its nodes' costs on that device shrink in proportion,
        // so the placement sees what keeping them together saves (one call overhead instead of several, fused kernels).
        var fusedFactor = new double[nodes.Count, candidates.Count];
        for (var i = 0; i < nodes.Count; i++) for (var k = 0; k < candidates.Count; k++) fusedFactor[i, k] = 1;
        foreach (var group in result.FusedGroups)
        {
            foreach (var gc in group.Candidates)
            {
                var k = candidates.FindIndex(c => c.Device.Id == gc.DeviceId);
                if (k < 0 || group.NodeIndices.Any(i => double.IsPositiveInfinity(solverNodes[i].CostMs[k]))) continue;
                var alone = group.NodeIndices.Sum(i => solverNodes[i].CostMs[k]);
                var together = Math.Max(0, gc.GroupMs - solverDevices[k].CallOverheadMs);
                if (alone <= 0 || together >= alone) continue;
                foreach (var i in group.NodeIndices)
                {
                    fusedFactor[i, k] = together / alone;
                    solverNodes[i].CostMs[k] *= together / alone;
                }
            }
        }

        var plans = new List<PlanCandidate>();
        var caps = Caps(candidates, options.MemoryLimits);
        var typeBytes = MemoryEstimate.FromTypes(types);
        long BytesOf(string v) => values.ContainsKey(v) ? Bytes(values, v) : typeBytes(v);
        var solved = FitCaps(PlacementSolver.Solve(solverNodes, solverDevices, graphOutputs, TransferMs, OutputMs), model, solverNodes,
            () => PlacementSolver.Solve(solverNodes, solverDevices, graphOutputs, TransferMs, OutputMs), candidates, caps, types, BytesOf, out var capError);
        if (solved is { } s)
        {
            var devicesUsed = s.Assignment.Distinct().Select(k => candidates[k].Device.Id).ToArray();
            var predicted = PlacementSolver.Evaluate(solverNodes, solverDevices, graphOutputs, TransferMs, s.Assignment, OutputMs);
            try
            {
                var plan = PlanBuilder.Build(model, s.Assignment.Select(k => new Execution.Placement(candidates[k].Backend, candidates[k].Device)).ToArray(), types);
                plans.Add(new PlanCandidate(new PlanResult("autotuned", devicesUsed.Length == 1 ? candidates[s.Assignment[0]].Backend.Name : null, devicesUsed, Unpenalised(predicted, s.Assignment, candidates, options), null, 0, null, false), plan, s.Assignment));
            }
            catch (AccelSdkException e)
            {
                plans.Add(new PlanCandidate(new PlanResult("autotuned", null, devicesUsed, predicted, null, 0, e.Message, false), null, s.Assignment));
            }
        }
        else
        {
            plans.Add(new PlanCandidate(new PlanResult("autotuned", null, Array.Empty<string>(), null, null, 0, capError ?? "no device has a usable time for some node", false), null, null));
        }
        var capFailures = new List<(string Device, long Needed, long Allowed)>();
        for (var k = 0; k < candidates.Count; k++)
        {
            var (backend, device) = candidates[k];
            var all = Enumerable.Repeat(k, nodes.Count).ToArray();
            var unsupported = result.Nodes.Where(n => n.Candidates[k].Status == CandidateStatus.Unsupported).ToList();
            if (unsupported.Count > 0)
            {
                plans.Add(new PlanCandidate(new PlanResult(device.Id, backend.Name, new[] { device.Id }, null, null, 0,
                    $"{unsupported.Count} node(s) not run by it{(options.Pins is { Count: > 0 } ? " or pinned elsewhere" : "")}, first {unsupported[0].Name} [{unsupported[0].Op}]", false), null, all));
                continue;
            }
            // A device excluded from per-node placement (its nodes failed alone, or its backend compiles only whole
            // source models) is still measured on the whole model, with no prediction for whole-model-only backends.
            // Skipped nodes count as the abandon threshold (a lower bound), so a hopeless device's plan is predicted
            // hopeless; a node that failed alone says nothing about the whole model, so then there is no prediction.
            var lowerBound = false;
            var unknown = backend.CompilesWholeSourceModelsOnly;
            var rawCosts = result.Nodes.Select((n, i) =>
            {
                var c = n.Candidates[k];
                if (c.MedianMs is { } m) return Math.Max(0, m - solverDevices[k].CallOverheadMs) * fusedFactor[i, k];
                if (c.Status != CandidateStatus.Skipped) unknown = true;
                lowerBound = true;
                return (n.BestMs ?? 0) * options.NodeTiming.AbandonFactor;
            }).ToArray();
            var predicted = unknown ? null : PlacementSolver.Evaluate(solverNodes.Select((n, i) => new SolverNode(Enumerable.Range(0, candidates.Count).Select(j => j == k ? rawCosts[i] : double.PositiveInfinity).ToArray(), n.Inputs)).ToArray(),
                solverDevices, graphOutputs, TransferMs, all, OutputMs);
            var single = PlanBuilder.Single(model, backend, device);
            if (caps[k] is { } cap && MemoryEstimate.Of(single, BytesOf).Single().TotalBytes is var needed && needed > cap)
            {
                plans.Add(new PlanCandidate(new PlanResult(device.Id, backend.Name, new[] { device.Id }, predicted, null, 0,
                    $"over the memory cap: needs {needed:N0} bytes, {cap:N0} allowed", false) { PredictedIsLowerBound = lowerBound }, null, all));
                capFailures.Add((device.Id, needed, cap));
                continue;
            }
            plans.Add(new PlanCandidate(new PlanResult(device.Id, backend.Name, new[] { device.Id }, predicted, null, 0, null, false) { PredictedIsLowerBound = lowerBound },
                single, all));
            // Kernel variants the backend offers here are measured as plans of their own (the node timings above used
            // the default, the first); the fastest measured wins like any other plan.
            var variants = backend.CompileVariants(device);
            if (variants.Count > 1)
            {
                plans[^1].Result = plans[^1].Result with { Variant = variants[0] };
                foreach (var variant in variants.Skip(1))
                {
                    plans.Add(new PlanCandidate(new PlanResult($"{device.Id} [{variant.Name}]", backend.Name, new[] { device.Id }, predicted, null, 0, null, false)
                        { PredictedIsLowerBound = lowerBound, Variant = variant }, PlanBuilder.Single(model, backend, device), all));
                }
            }
        }
        // An autotuned plan identical to a single-backend plan is measured once.
        if (plans[0].Assignment is { } a && a.Distinct().Count() == 1)
        {
            var twin = plans.FirstOrDefault(p => p != plans[0] && p.Assignment is { } b && b.SequenceEqual(a) && p.Result.Error is null);
            if (twin is not null && plans[0].Result.Error is null) plans[0] = new PlanCandidate(plans[0].Result with { }, twin.Plan, a);
        }
        try
        {
            MeasurePlans(plans, inputs, options, model);
            if (options.Policy == SelectionPolicy.HighestThroughput) MeasureThroughput(plans, inputs, options);
        }
        catch (OperationCanceledException)
        {
            foreach (var p in plans) p.Session?.Dispose();
            throw;
        }

        var auto = plans[0];
        if (auto.Plan is not null && plans.Skip(1).FirstOrDefault(p => p.Plan == auto.Plan) is { } same)
        {
            auto.Result = auto.Result with
            {
                MeasuredMs = same.Result.MeasuredMs, CompileMs = same.Result.CompileMs, ThroughputPerSecond = same.Result.ThroughputPerSecond,
                StreamExecution = same.Result.StreamExecution, ThroughputByMode = same.Result.ThroughputByMode,
            };
        }
        result.Autotuned = auto.Result;
        result.SingleBackend = plans.Skip(1).Select(p => p.Result).ToArray();
        var measured = plans.Where(p => p.Session is not null && p.Result.MeasuredMs is not null && !p.Result.Abandoned).ToList();
        if (measured.Count == 0)
        {
            foreach (var p in plans) p.Session?.Dispose();
            if (capFailures.Count > 0 && plans.All(p => p.Plan is null))
            {
                var (device, needed, allowed) = capFailures.OrderBy(f => (double)f.Needed / Math.Max(1, f.Allowed)).First();
                throw new MemoryLimitException(model.Label, device, needed, allowed, plans[0].Result.Error is { } why ? "per-node placement: " + why : null);
            }
            throw new AccelSdkException($"{model.Label}: no plan could be run: " + string.Join("; ", plans.Select(p => $"{p.Result.Label}: {p.Result.Error ?? "abandoned"}")));
        }
        // The same rules as whole-model selection (Prefer* keeps a plan of the preferred kind when one ran, then the
        // fastest); single-backend plans come first so that they win ties against the per-node plan.
        var chosen = CandidateRules.Choose(measured.OrderBy(p => p == auto ? 1 : 0),
            p => new MeasuredCandidate(p.Plan!.Devices.Select(d => d.Kind).ToArray(), p.Result.MeasuredMs, p.Result.ThroughputPerSecond), options.Policy)!;
        result.Chosen = chosen.Result;
        result.Plan = chosen.Plan;
        result.Session = chosen.Session;
        var assignment = chosen.Assignment!;
        for (var i = 0; i < nodes.Count; i++)
        {
            result.Nodes[i].Assigned = candidates[assignment[i]].Device.Id;
            if (auto.Assignment is { } aa) result.Nodes[i].Autotuned = candidates[aa[i]].Device.Id;
        }
        result.MemoryFootprint = MemoryEstimate.Of(chosen.Plan!, BytesOf);
        result.TransferBytes = chosen.Plan!.CutEdges.Select(t => t.ValueName).Distinct().ToDictionary(v => v, v => Bytes(values, v), StringComparer.Ordinal);

        // Compare the kept plan's outputs with a single-backend reference (ORT when it ran, else the fastest other).
        var reference = measured.Where(p => p != chosen && p.Result.Backend is not null).OrderBy(p => p.Result.Backend == "ort" ? 0 : 1).ThenBy(p => p.Result.MeasuredMs).FirstOrDefault();
        if (reference is not null && reference.Plan != chosen.Plan)
        {
            var expected = reference.Session!.Run(inputs);
            var actual = chosen.Session!.Run(inputs);
            result.ReferenceDevice = reference.Result.Label;
            result.MaxRelativeDifference = MaxRelativeDifference(actual, expected);
        }
        foreach (var p in plans)
        {
            if (p.Session is not null && p.Session != chosen.Session) p.Session.Dispose();
        }
        Report(options, "plans", plans.Count, plans.Count, "done");
    }

    private static double? Unpenalised(double? predicted, int[] assignment, List<DeviceTarget> candidates, AutotuneOptions options) =>
        assignment.Any(k => Avoided(candidates[k].Device.Kind, options.Policy)) ? null : predicted;

    /// <summary>
    /// The placement's view of <paramref name="device"/>: its processor is what a partition on it holds under
    /// <paramref name="overlap"/> by the session's own rule, so the predicted schedule is the one the session runs.
    /// </summary>
    internal static SolverDevice SolverDeviceOf(Device device, double callOverheadMs, PartitionOverlap overlap) =>
        new(device.MemorySpace, callOverheadMs, overlap.ExclusiveUnitOf(device));

    private static bool Avoided(DeviceKind kind, SelectionPolicy policy) => CandidateRules.Avoided(kind, policy);

    /// <summary>
    /// Compiles each runnable plan, then times them in interleaved rounds (so drift hits all alike) and keeps medians.
    /// Plans predicted or first-run more than the abandon factor slower than the best so far are not timed further.
    /// </summary>
    private static void MeasurePlans(List<PlanCandidate> plans, IReadOnlyDictionary<string, AccelTensor> inputs, AutotuneOptions options, Model model)
    {
        var factor = options.NodeTiming.AbandonFactor;
        var distinct = plans.Where(p => p.Plan is not null && p.Result.Error is null).GroupBy(p => p.Plan).Select(g => g.First())
            .OrderBy(p => p.Result.PredictedMs ?? double.MaxValue).ToList();
        double? best = null;
        var done = 0;
        foreach (var p in distinct)
        {
            Report(options, "plans", done++, distinct.Count, $"compiling and warming up {p.Result.Label}");
            // Only the per-node plan may be skipped on its prediction: a prediction built from per-node times can
            // be far off for a whole model (call overheads, skipped nodes charged as lower bounds), and the promise
            // is that every single-backend plan that can run the model is measured.
            if (best is { } b && p.Result.PredictedMs is { } predicted && predicted > b * factor && !IsSingleBackendPlan(plans, p))
            {
                p.Result = p.Result with { Abandoned = true };
                continue;
            }
            try
            {
                p.Session = new AccelSession(p.Plan!, p.Result.Variant?.ApplyTo(options.Compile) ?? options.Compile) { PartitionOverlap = options.PartitionOverlap };
                options.Scope!.Token.ThrowIfCancellationRequested();
                var start = Stopwatch.GetTimestamp();
                p.Session.Run(inputs);
                var first = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                p.Result = p.Result with { CompileMs = p.Session.CompileTime.TotalMilliseconds };
                // The first run carries one-time costs: only an absurd one ends the plan there; otherwise the timed
                // second run decides whether it is hopeless.
                var hopeless = options.NodeTiming.HopelessFactor;
                if (best is { } b2 && first > b2 * hopeless * 5)
                {
                    Abandon(p, first);
                    continue;
                }
                options.Scope!.Token.ThrowIfCancellationRequested();
                start = Stopwatch.GetTimestamp();
                p.Session.Run(inputs);
                var second = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                if (best is { } b3 && second > b3 * hopeless)
                {
                    Abandon(p, second);
                    continue;
                }
                p.Times.Add(second);
                if (best is null || second < best) best = second;
            }
            catch (Exception e) when (e is not OutOfMemoryException and not OperationCanceledException)
            {
                p.Session?.Dispose();
                p.Session = null;
                p.Result = p.Result with { Error = e.Message.ReplaceLineEndings(" ") };
                options.Scope!.FallBack(FallbackKind.PlanExcluded, p.Result.Label, $"{model.Label}: plan {p.Result.Label} failed and is excluded: {p.Result.Error}");
            }
        }
        var live = distinct.Where(p => p.Session is not null).ToList();
        for (var round = 1; round < Math.Max(3, options.PlanRuns) && live.Count > 0; round++)
        {
            Report(options, "plans", round, options.PlanRuns, "timing " + string.Join(", ", live.Select(p => p.Result.Label)));
            var bestMedian = live.Min(p => Profiling.Timer.Summarise(p.Times).Median);
            foreach (var p in live)
            {
                // Plans several times slower than the best get 3 runs: enough for their median, cheap for the tuning.
                if (p.Times.Count >= 3 && Profiling.Timer.Summarise(p.Times).Median > factor * bestMedian) continue;
                options.Scope!.Token.ThrowIfCancellationRequested();
                var start = Stopwatch.GetTimestamp();
                p.Session!.Run(inputs);
                p.Times.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            }
        }
        foreach (var p in live) p.Result = p.Result with { MeasuredMs = Profiling.Timer.Summarise(p.Times).Median };
        // Plans that share a distinct plan object (autotuned == a single backend) share its numbers.
        foreach (var p in plans.Where(p => p.Plan is not null && !distinct.Contains(p)))
        {
            var twin = distinct.First(d => d.Plan == p.Plan);
            p.Result = p.Result with { MeasuredMs = twin.Result.MeasuredMs, CompileMs = twin.Result.CompileMs, Abandoned = twin.Result.Abandoned, Error = twin.Result.Error };
            p.Session = twin.Session;
        }
    }

    /// <summary>
    /// Items per second of every live plan over a stream of inputs through <see cref="AccelSession.RunMany"/>, in each
    /// stream mode that applies (sequential, and pipelined partitions for a multi-partition plan or concurrent runs
    /// for a one-partition plan), in interleaved rounds; each plan keeps its best mode by median round.
    /// </summary>
    private static void MeasureThroughput(List<PlanCandidate> plans, IReadOnlyDictionary<string, AccelTensor> inputs, AutotuneOptions options)
    {
        var live = plans.Where(p => p.Session is not null && !p.Result.Abandoned && p.Result.MeasuredMs is not null).DistinctBy(p => p.Plan).ToList();
        var rates = new Dictionary<(PlanCandidate, StreamExecution), List<double>>();
        StreamExecution[] Modes(PlanCandidate p) => p.Plan!.Partitions.Count > 1
            ? new[] { StreamExecution.Sequential, StreamExecution.Pipelined }
            : new[] { StreamExecution.Sequential, StreamExecution.Concurrent };
        const int Rounds = 3;
        for (var round = 0; round < Rounds; round++)
        {
            Report(options, "throughput", round, Rounds, "streaming " + string.Join(", ", live.Select(p => p.Result.Label)));
            foreach (var p in live)
            {
                foreach (var mode in Modes(p))
                {
                    options.Scope!.Token.ThrowIfCancellationRequested();
                    var items = Math.Max(8, 4 * p.Plan!.Partitions.Count);
                    var stream = Enumerable.Repeat(inputs, items).ToArray();
                    var start = Stopwatch.GetTimestamp();
                    p.Session!.RunMany(stream, mode: mode);
                    var rate = items / Stopwatch.GetElapsedTime(start).TotalSeconds;
                    if (!rates.TryGetValue((p, mode), out var list)) rates[(p, mode)] = list = new List<double>();
                    list.Add(rate);
                }
            }
        }
        foreach (var p in live)
        {
            var (best, rate) = Modes(p).Select(m => (m, Profiling.Timer.Summarise(rates[(p, m)]).Median)).MaxBy(x => x.Median);
            p.Session!.StreamExecution = best;
            p.Result = p.Result with
            {
                ThroughputPerSecond = rate,
                StreamExecution = best,
                ThroughputByMode = Modes(p).ToDictionary(m => m, m => Profiling.Timer.Summarise(rates[(p, m)]).Median),
            };
        }
        foreach (var p in plans.Where(p => p.Plan is not null && !live.Contains(p)))
        {
            if (live.FirstOrDefault(l => l.Plan == p.Plan) is { } twin)
            {
                p.Result = p.Result with { ThroughputPerSecond = twin.Result.ThroughputPerSecond, StreamExecution = twin.Result.StreamExecution, ThroughputByMode = twin.Result.ThroughputByMode };
            }
        }
        Report(options, "throughput", Rounds, Rounds, "done");
    }

    /// <summary>Whether <paramref name="p"/> runs the whole model on one device (a single-backend plan, or the per-node plan that coincides with one).</summary>
    private static bool IsSingleBackendPlan(List<PlanCandidate> plans, PlanCandidate p) =>
        plans.Skip(1).Any(q => q.Plan == p.Plan);

    private static void Abandon(PlanCandidate p, double ms)
    {
        p.Result = p.Result with { MeasuredMs = ms, Abandoned = true };
        p.Session!.Dispose();
        p.Session = null;
    }

    private static long Bytes(Dictionary<string, AccelTensor> values, string name) =>
        values.TryGetValue(name, out var t) ? (t.IsString ? t.ElementCount * 16 : t.ByteLength) : 0;

    /// <summary>Largest |a - b| over the largest |b|, per float output, maximised over outputs.</summary>
    internal static double MaxRelativeDifference(IReadOnlyList<AccelTensor> actual, IReadOnlyList<AccelTensor> expected)
    {
        var worst = 0.0;
        for (var o = 0; o < expected.Count; o++)
        {
            var a = actual[o];
            var b = expected[o];
            if (!b.ElementType.IsFloatingPoint() || a.ElementCount != b.ElementCount) continue;
            double diff = 0, scale = 0;
            for (long i = 0; i < b.ElementCount; i++)
            {
                var x = a.GetAsDouble(i);
                var y = b.GetAsDouble(i);
                if (double.IsNaN(x) != double.IsNaN(y)) return double.PositiveInfinity;
                if (double.IsNaN(y)) continue;
                diff = Math.Max(diff, Math.Abs(x - y));
                scale = Math.Max(scale, Math.Abs(y));
            }
            worst = Math.Max(worst, scale > 0 ? diff / scale : diff);
        }
        return worst;
    }
}
