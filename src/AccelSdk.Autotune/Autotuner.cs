using System.Diagnostics;
using System.Globalization;
using AccelSdk.Autotune.Cache;
using AccelSdk.Autotune.Placement;
using AccelSdk.Autotune.Profiling;
using AccelSdk.Backends;
using AccelSdk.Execution;
using AccelSdk.Ir;
using AccelSdk.Selection;

namespace AccelSdk.Autotune;

/// <summary>
/// Places each node of a model on the (backend, device) measured fastest for it, counting transfers, then measures
/// that plan against every single-backend plan and keeps the fastest measured one. Results are cached per machine.
/// <code>
/// var result = Autotuner.Tune(Model.Load("model.onnx"));
/// using var session = result.Session!;
/// AutotuneReport.Write(result, "report");
/// </code>
/// </summary>
public static partial class Autotuner
{
    /// <summary>Tunes <paramref name="model"/> on <see cref="AccelRuntime.Default"/>'s devices; see <see cref="Tune(AccelRuntime, Model, AutotuneOptions?, CancellationToken)"/>.</summary>
    public static AutotuneResult Tune(Model model, AutotuneOptions? options = null) => Tune(AccelRuntime.Default, model, options);

    /// <summary>
    /// Tunes <paramref name="model"/> on <paramref name="runtime"/>'s devices (or reuses its cached tuning). When nodes
    /// are unsupported everywhere the result lists them and has no plan or session. Warnings and fallbacks go to the
    /// runtime's logger and to this result only. Cancelling <paramref name="cancellationToken"/> throws
    /// <see cref="OperationCanceledException"/> between runs, releases every session compiled so far and writes nothing more to the cache (node timings saved before stay; each save is atomic).
    /// </summary>
    public static AutotuneResult Tune(AccelRuntime runtime, Model model, AutotuneOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(runtime);
        ArgumentNullException.ThrowIfNull(model);
        options ??= new AutotuneOptions();
        CheckBudget(options);
        var scope = new TuneScope(runtime, options.Progress, cancellationToken);
        var watch = Stopwatch.StartNew();
        using var activity = AccelSdkTelemetryAccess.StartTune(model.Label);
        var result = TuneCore(model, options with { Scope = scope, Compile = options.Compile with { Logger = scope.CompileLogger } });
        result.Warnings.AddRange(scope.Warnings);
        result.Fallbacks = scope.Fallbacks;
        result.TuningSeconds = watch.Elapsed.TotalSeconds;
        return result;
    }

    private static AutotuneResult TuneCore(Model model, AutotuneOptions options)
    {
        var scope = options.Scope!;
        scope.Token.ThrowIfCancellationRequested();
        var candidates = CandidateRules.Candidates(scope.Runtime.Backends, options.Candidates);
        if (candidates.Count == 0)
        {
            throw new AccelSdkException("autotune: no available device" + (options.Candidates is null ? "" : $" among {string.Join(", ", options.Candidates)}") +
                ": " + scope.Runtime.DescribeDevices());
        }
        var fingerprint = MachineFingerprint.Of(candidates);
        var result = new AutotuneResult(model, fingerprint) { Devices = candidates, Policy = options.Policy, PartitionOverlap = options.PartitionOverlap, MemoryLimits = options.MemoryLimits };
        var inputs = options.SampleInputs ?? DefaultInputs(model, scope);
        var types = InferTypes(model, inputs);

        var cache = options.SharedCache ?? (options.NoCache ? null : TuningCache.Open(options.CacheDirectory ?? TuningCache.DefaultDirectory, fingerprint, scope.Warn));
        result.CachePath = cache?.Path;
        // Compiled partitions of kept plans (ONNX Runtime's optimised models) live next to the tuning cache, per machine;
        // the cache records their content hashes.
        var keptCompile = cache is null ? options.Compile : options.Compile with
        {
            ArtifactCacheDirectory = Path.Combine(Path.GetDirectoryName(cache.Path)!, "compiled-" + fingerprint.Hash),
            ArtifactIndex = cache,
        };
        var settings = string.Join(";", $"policy={options.Policy}", "devices=" + string.Join(",", candidates.Select(c => c.Device.Id)),
            "pins=" + string.Join(",", (options.Pins ?? new Dictionary<string, string>()).OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => kv.Key + "=" + kv.Value)),
            "memory=" + string.Join(",", (options.MemoryLimits ?? new Dictionary<string, long>()).OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => kv.Key + "=" + kv.Value)),
            // A plan is predicted and measured with one overlap setting: another setting is another tuning.
            $"overlap={options.PartitionOverlap}")
            + BudgetSettings(options);
        var modelKey = OperatorSignature.ModelKey(model, types, settings);
        if (cache is not null) result.PlanKey = modelKey;

        if (cache is not null && !options.Retune && cache.Plans.TryGetValue(modelKey, out var cachedPlan)
            && (options.AccuracyBudget is null
                ? TryUseCachedPlan(result, model, candidates, types, cachedPlan, cache, keptCompile, options)
                : cachedPlan.Precision is not null && TryUseCachedPrecision(result, model, inputs, candidates, cachedPlan, cache, keptCompile, options)))
        {
            // An artefact found modified and compiled afresh has a new content hash.
            if (cache.ArtifactsChanged) cache.Save();
            return result;
        }
        if (options.CachedPlanOnly) return result;

        var support = SupportMatrix(model, candidates, types, out var unsupported);
        ApplyPins(model, candidates, support, options.Pins);
        if (unsupported.Count > 0)
        {
            result.Unsupported = unsupported;
            result.Nodes = model.Graph.Nodes.Select((n, i) => new NodeResult(i, NodeName(n), OpName(n), "",
                candidates.Select((c, k) => new NodeCandidate(c.Device.Id, support[i][k] is null ? CandidateStatus.Unsupported : CandidateStatus.Measured, null, 0, 0, 0, 0, false, support[i][k] is null ? SupportReason(c, n, model, types) : null)).ToArray())).ToArray();
            return result;
        }

        Report(options, "capture", 0, 1, "running the model once to capture every intermediate value");
        var captured = Capture(model, inputs, candidates, support, types, options);
        Report(options, "capture", 1, 1, "done");
        var values = captured ?? new Dictionary<string, AccelTensor>(inputs, StringComparer.Ordinal);
        var cutTypes = MergeTypes(types, values);

        var overheads = MeasureCallOverheads(candidates, options, cache, result);
        result.CallOverheadMs = overheads;
        result.Transfers = MeasureTransfers(candidates, options, cache, result);
        result.Nodes = captured is null
            ? model.Graph.Nodes.Select((n, i) => new NodeResult(i, NodeName(n), OpName(n), OperatorSignature.Of(model, n, cutTypes),
                candidates.Select((c, k) => new NodeCandidate(c.Device.Id, support[i][k] is null ? CandidateStatus.Unsupported : CandidateStatus.Failed, null, 0, 0, 0, 0, false,
                    support[i][k] is null ? "not claimed" : "not profiled: the sample run failed")).ToArray())).ToArray()
            : ProfileNodes(model, candidates, support, values, cutTypes, options, cache, result);

        if (captured is not null) result.FusedGroups = ProfileGroups(model, candidates, result.Nodes.ToArray(), values, cutTypes, options, cache);
        ChoosePlan(result, model, candidates, cutTypes, values, inputs, options);
        if (captured is not null) ReportMovedNodes(result, scope);
        if (options.AccuracyBudget is not null && result.Session is not null) TuneLowerPrecision(result, model, inputs, options, cache);
        if (cache is not null && result.Plan is not null && result.Chosen is not null)
        {
            cache.Plans[modelKey] = new CachedPlan
            {
                Placements = result.Nodes.Select(n => n.Assigned ?? "").ToArray(),
                Source = result.Chosen.Backend is null ? "autotuned" : "single_backend",
                MeasuredMs = result.Chosen.MeasuredMs ?? 0,
                ThroughputPerSecond = result.Chosen.ThroughputPerSecond,
                StreamExecution = result.Chosen.StreamExecution?.ToString(),
                Settings = result.Chosen.Variant?.Settings,
                TunedAt = result.Date.ToString("O", CultureInfo.InvariantCulture),
                SingleBackend = result.SingleBackend.Select(p => new CachedSingleBackend(p.Devices.Count == 1 ? p.Devices[0] : p.Label, p.Backend ?? "", p.MeasuredMs, p.Abandoned, p.Error)
                    { Label = p.Devices.Count == 1 && p.Label != p.Devices[0] ? p.Label : null }).ToArray(),
                Precision = result.Precision is { } precision ? ToCached(precision) : null,
            };
            // Recompile the kept plan once with the artefact cache on, so that the next Select loads it instead of
            // compiling (the measured session was compiled without, like every other candidate). Saved after it, as the
            // cache records the artefacts' content hashes.
            var measuredSession = result.Session!;
            try
            {
                result.Session = new AccelSession(result.Plan, result.Chosen.Variant?.ApplyTo(keptCompile) ?? keptCompile) { StreamExecution = measuredSession.StreamExecution, PartitionOverlap = measuredSession.PartitionOverlap };
                measuredSession.Dispose();
            }
            catch (AccelSdkException e)
            {
                scope.Warn($"{model.Label}: the kept plan could not be saved compiled ({e.Message}); the next selection compiles it");
            }
            scope.Token.ThrowIfCancellationRequested();
            cache.Save();
        }
        return result;
    }

    /// <summary>
    /// Runs the model once keeping every value: on each device that claims every node in turn (host memory first),
    /// until one runs it; else placed node by node. Devices of backends that compile only whole source models are left out.
    /// </summary>
    private static Dictionary<string, AccelTensor>? Capture(Model model, IReadOnlyDictionary<string, AccelTensor> inputs, List<DeviceTarget> candidates,
        DeviceTarget?[][] support, Dictionary<string, Ir.ValueType> types, AutotuneOptions options)
    {
        var nodes = model.Graph.Nodes;
        // Backends that compile only whole source models cannot expose intermediate values.
        var byPreference = Enumerable.Range(0, candidates.Count).Where(k => !candidates[k].Backend.CompilesWholeSourceModelsOnly)
            .OrderBy(k => candidates[k].Device.MemorySpace.IsHost ? 0 : 1).ToList();
        var failures = new List<string>();
        foreach (var k in byPreference.Where(k => Enumerable.Range(0, nodes.Count).All(i => support[i][k] is not null)))
        {
            try
            {
                return ValueCapture.Run(model, inputs, Enumerable.Repeat(new Execution.Placement(candidates[k].Backend, candidates[k].Device), nodes.Count).ToArray(), types, options.Compile);
            }
            catch (AccelSdkException e) when (e is not InputMismatchException)
            {
                failures.Add($"{candidates[k].Device.Id}: {e.Message}");
            }
        }
        // Devices that failed the whole-model run go last: they may claim nodes yet not run cut partitions.
        var failed = failures.Select(f => f[..f.IndexOf(':')]).ToHashSet(StringComparer.Ordinal);
        if (nodes.Select((_, i) => byPreference.Any(k => support[i][k] is not null)).Contains(false))
        {
            options.Scope!.Warn($"{model.Label}: some nodes are claimed only by backends that run whole source models; nodes are not profiled and only whole-model plans are measured");
            return null;
        }
        var greedy = nodes.Select((_, i) => byPreference.OrderBy(k => failed.Contains(candidates[k].Device.Id) ? 1 : 0).First(k => support[i][k] is not null)).ToArray();
        try
        {
            return ValueCapture.Run(model, inputs, greedy.Select(k => new Execution.Placement(candidates[k].Backend, candidates[k].Device)).ToArray(), types, options.Compile);
        }
        catch (AccelSdkException e) when (e is not InputMismatchException)
        {
            options.Scope!.Warn($"{model.Label}: the sample run that captures intermediate values failed ({string.Join("; ", failures.Append("mixed placement: " + e.Message))}); " +
                "nodes are not profiled and only whole-model plans are measured");
            return null;
        }
    }

    private static bool TryUseCachedPlan(AutotuneResult result, Model model, List<DeviceTarget> candidates,
        Dictionary<string, Ir.ValueType> types, CachedPlan cached, TuningCache cache, CompileOptions compile, AutotuneOptions options)
    {
        var scope = options.Scope!;
        if (cached.Placements.Count != model.Graph.Nodes.Count) return false;
        var byId = candidates.ToDictionary(c => c.Device.Id, StringComparer.Ordinal);
        var placements = new List<Execution.Placement>();
        foreach (var id in cached.Placements)
        {
            if (!byId.TryGetValue(id, out var c)) return false;
            placements.Add(new Execution.Placement(c.Backend, c.Device));
        }
        try
        {
            var plan = PlanBuilder.Build(model, placements, types);
            result.Session = new AccelSession(plan, cached.Settings is { } settings ? new CompileVariant("cached", settings).ApplyTo(compile) : compile)
            {
                PartitionOverlap = options.PartitionOverlap,
            };
            result.Plan = plan;
            result.MemoryFootprint = MemoryEstimate.Of(plan, MemoryEstimate.FromTypes(types));
        }
        catch (AccelSdkException e)
        {
            scope.Warn($"cached plan for {model.Label} could not be used and is re-tuned: {e.Message}");
            return false;
        }
        result.FromCache = true;
        result.Nodes = model.Graph.Nodes.Select((node, i) =>
        {
            var signature = OperatorSignature.Of(model, node, types);
            var profile = candidates.Select(c => c.Backend.CompilesWholeSourceModelsOnly
                ? new NodeCandidate(c.Device.Id, CandidateStatus.Skipped, null, 0, 0, 0, 0, true, WholeModelOnlyNote(c.Backend))
                : cache.Nodes.TryGetValue(TuningCache.NodeKey(c.Device.Id, signature), out var t)
                ? FromCache(c.Device.Id, t)
                : new NodeCandidate(c.Device.Id, CandidateStatus.Skipped, null, 0, 0, 0, 0, true, "not in the cache")).ToArray();
            return new NodeResult(i, NodeName(node), OpName(node), signature, profile) { Assigned = cached.Placements[i], Autotuned = cached.Placements[i] };
        }).ToArray();
        result.CallOverheadMs = candidates.Where(c => cache.Overheads.ContainsKey(c.Device.Id)).ToDictionary(c => c.Device.Id, c => cache.Overheads[c.Device.Id]);
        var devices = result.Plan.Devices.Select(d => d.Id).ToArray();
        result.Chosen = new PlanResult(cached.Source == "autotuned" ? "autotuned" : devices[0], cached.Source == "autotuned" ? null : result.Plan.Partitions[0].Backend.Name,
            devices, null, cached.MeasuredMs, result.Session.CompileTime.TotalMilliseconds, null, false)
        {
            ThroughputPerSecond = cached.ThroughputPerSecond,
            StreamExecution = Enum.TryParse<StreamExecution>(cached.StreamExecution, out var mode) ? mode : null,
        };
        if (result.Chosen.StreamExecution is { } chosenMode) result.Session.StreamExecution = chosenMode;
        result.SingleBackend = cached.SingleBackend.Select(p => new PlanResult(p.Label ?? p.Device, p.Backend, new[] { p.Device }, null, p.MeasuredMs, 0, p.Error, p.Abandoned)).ToArray();
        return true;
    }

    /// <summary>A node that a device claimed but failed to run alone, placed elsewhere: a fallback of the session.</summary>
    private static void ReportMovedNodes(AutotuneResult result, TuneScope scope)
    {
        foreach (var node in result.Nodes)
        {
            foreach (var failed in node.Candidates.Where(c => c.Status == CandidateStatus.Failed && c.DeviceId != node.Assigned))
            {
                scope.FallBack(FallbackKind.NodeMoved, node.Name, $"{node.Name} [{node.Op}] failed on {failed.DeviceId} ({failed.Note}) and runs on {node.Assigned}");
            }
        }
    }

    internal static string NodeName(Node node) => node.Name.Length > 0 ? node.Name : node.Outputs.FirstOrDefault(o => o.Length > 0) ?? "?";

    internal static string OpName(Node node) => node.Domain.Length > 0 && node.Domain != "ai.onnx" ? node.Domain + "::" + node.OpType : node.OpType;

    /// <summary>Reports progress; throws <see cref="OperationCanceledException"/> once the tuning is cancelled.</summary>
    private static void Report(AutotuneOptions options, string stage, int done, int total, string detail) =>
        options.Scope!.Report(stage, done, total, detail);

    private static Dictionary<string, AccelTensor> DefaultInputs(Model model, TuneScope scope)
    {
        foreach (var input in model.Graph.RequiredInputs)
        {
            if (input.TensorType?.Shape is { IsFullyKnown: false } shape)
            {
                scope.Warn($"{model.Label}: input '{input.Name}' has shape {shape}; tuning with 1 for each unknown dimension. " +
                    "Give sample inputs with the real shapes (accelsdk autotune --input FILE.pb, or AutotuneOptions.SampleInputs)");
            }
        }
        return SampleInputs.Random(model);
    }

    /// <summary>Shape inference with the graph inputs declared at the sample inputs' concrete shapes.</summary>
    private static Dictionary<string, Ir.ValueType> InferTypes(Model model, IReadOnlyDictionary<string, AccelTensor> inputs) =>
        ShapeInference.Infer(model.WithInputShapes(inputs));

    /// <summary>Inferred types, with captured concrete types where inference left the shape unknown.</summary>
    private static Dictionary<string, Ir.ValueType> MergeTypes(Dictionary<string, Ir.ValueType> inferred, Dictionary<string, AccelTensor> values)
    {
        var merged = new Dictionary<string, Ir.ValueType>(inferred, StringComparer.Ordinal);
        foreach (var (name, value) in values)
        {
            if (merged.GetValueOrDefault(name) is not TensorType { Shape.IsFullyKnown: true })
            {
                merged[name] = new TensorType(value.ElementType, new TensorShape(value.ShapeArray));
            }
        }
        return merged;
    }

    /// <summary>[node][candidate]: the candidate when it claims the node, else null.</summary>
    private static DeviceTarget?[][] SupportMatrix(Model model, List<DeviceTarget> candidates,
        Dictionary<string, Ir.ValueType> types, out List<UnsupportedNode> unsupported)
    {
        var context = new NodeContext(model, types);
        var nodes = model.Graph.Nodes;
        var matrix = new DeviceTarget?[nodes.Count][];
        unsupported = new List<UnsupportedNode>();
        for (var i = 0; i < nodes.Count; i++)
        {
            matrix[i] = new DeviceTarget?[candidates.Count];
            var reasons = new List<string>();
            for (var k = 0; k < candidates.Count; k++)
            {
                var (backend, device) = candidates[k];
                NodeSupport s;
                try
                {
                    s = backend.Supports(device, nodes[i], context);
                }
                catch (Exception e) when (e is not OutOfMemoryException and not OperationCanceledException)
                {
                    s = NodeSupport.No($"capability check failed: {e.Message}");
                }
                if (s.IsSupported) matrix[i][k] = candidates[k];
                else reasons.Add($"{device.Id}: {s.Reason}");
            }
            if (matrix[i].All(m => m is null)) unsupported.Add(new UnsupportedNode(NodeName(nodes[i]), OpName(nodes[i]), string.Join("; ", reasons)));
        }
        return matrix;
    }

    private static string? SupportReason(DeviceTarget c, Node node, Model model, Dictionary<string, Ir.ValueType> types)
    {
        try
        {
            return c.Backend.Supports(c.Device, node, new NodeContext(model, types)).Reason;
        }
        catch (Exception e) when (e is not OutOfMemoryException and not OperationCanceledException)
        {
            return e.Message;
        }
    }

    /// <summary>Pinned nodes keep only their pinned device (a pin to a device that cannot run the node is an error).</summary>
    private static void ApplyPins(Model model, List<DeviceTarget> candidates, DeviceTarget?[][] support,
        IReadOnlyDictionary<string, string>? pins)
    {
        if (pins is null || pins.Count == 0) return;
        var nodes = model.Graph.Nodes;
        foreach (var (key, target) in pins)
        {
            var k = candidates.FindIndex(c => string.Equals(c.Device.Id, target, StringComparison.OrdinalIgnoreCase));
            if (k < 0) k = candidates.FindIndex(c => string.Equals(c.Backend.Name, target, StringComparison.OrdinalIgnoreCase));
            if (k < 0) throw new AccelSdkException($"pin '{key}' -> '{target}': no candidate device or backend of that name (candidates: {string.Join(", ", candidates.Select(c => c.Device.Id))})");
            var matched = false;
            for (var i = 0; i < nodes.Count; i++)
            {
                if (nodes[i].Name != key && NodeName(nodes[i]) != key && nodes[i].OpType != key) continue;
                matched = true;
                if (support[i][k] is null) throw new AccelSdkException($"pin '{key}' -> '{target}': {candidates[k].Device.Id} does not run {nodes[i].Describe()}");
                if (candidates[k].Backend.CompilesWholeSourceModelsOnly)
                {
                    throw new AccelSdkException($"pin '{key}' -> '{target}': {candidates[k].Backend.Name} compiles only whole source models, so single nodes cannot be pinned to it; " +
                        $"restrict the candidates to it instead (--candidates {candidates[k].Device.Id})");
                }
                for (var j = 0; j < candidates.Count; j++)
                {
                    if (j != k) support[i][j] = null;
                }
            }
            if (!matched) throw new AccelSdkException($"pin '{key}': {model.Label} has no node or op of that name");
        }
    }
}
