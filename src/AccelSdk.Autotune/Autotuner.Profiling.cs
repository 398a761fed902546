using System.Diagnostics;
using AccelSdk.Autotune.Cache;
using AccelSdk.Autotune.Profiling;
using AccelSdk.Backends;
using AccelSdk.Execution;
using AccelSdk.Ir;

namespace AccelSdk.Autotune;

public static partial class Autotuner
{
    private static readonly long[] TransferSizes = { 4 << 10, 256 << 10, 4 << 20 };

    private static readonly TimingRules QuickRules = new() { WarmupRuns = 2, MinRuns = 5, MaxRuns = 30, BudgetPerCandidate = TimeSpan.FromMilliseconds(60) };

    /// <summary>Consecutive node failures after which a device is excluded from the rest of the tuning.</summary>
    private const int FailuresBeforeExclusion = 3;

    internal static string WholeModelOnlyNote(IBackend backend) => $"not run alone: {backend.Name} compiles only whole source models (measured as a whole-model plan)";

    internal static NodeCandidate FromCache(string deviceId, CachedNodeTiming t) => new(deviceId,
        Enum.TryParse<CandidateStatus>(t.Status, ignoreCase: true, out var s) ? s : CandidateStatus.Failed,
        t.MedianMs, t.CompileMs, t.WarmupMs, t.Runs, t.RelativeSpread, true, t.Note);

    /// <summary>The run time of a one-element Identity partition per device: what one partition call costs beyond its work.</summary>
    private static Dictionary<string, double> MeasureCallOverheads(List<DeviceTarget> candidates, AutotuneOptions options,
        TuningCache? cache, AutotuneResult result)
    {
        var overheads = new Dictionary<string, double>(StringComparer.Ordinal);
        var graph = new Graph { Name = "call_overhead" };
        graph.Inputs.Add(new ValueInfo("x", new TensorType(ElementType.Float32, new TensorShape(1))));
        graph.Outputs.Add(new ValueInfo("y", new TensorType(ElementType.Float32, new TensorShape(1))));
        graph.Nodes.Add(new Node("Identity", new[] { "x" }, new[] { "y" }, "identity"));
        var model = new Model(graph) { IrVersion = 8 };
        model.OpsetImports[""] = 13;
        var context = new NodeContext(model, graph.DeclaredTypes());
        var input = AccelTensor.FromArray(1f).WithName("x");
        foreach (var (backend, device) in candidates)
        {
            if (cache is not null && !options.Retune && cache.Overheads.TryGetValue(device.Id, out var cached))
            {
                overheads[device.Id] = cached;
                continue;
            }
            overheads[device.Id] = 0;
            try
            {
                if (!backend.Supports(device, graph.Nodes[0], context).IsSupported) continue;
                using var compiled = backend.Compile(device, model, options.Compile);
                using var onDevice = device.MemorySpace.IsHost ? new HostTensor(input) : backend.Upload(device, input);
                var timing = Profiling.Timer.Measure(() => DisposeAll(compiled.Run(new[] { onDevice })), QuickRules, cancellationToken: options.Scope!.Token);
                overheads[device.Id] = timing.MedianMs;
                if (cache is not null) cache.Overheads[device.Id] = timing.MedianMs;
            }
            catch (Exception e) when (e is not OutOfMemoryException and not OperationCanceledException)
            {
                options.Scope!.Warn($"{device.Id}: call overhead not measured ({e.Message}); taken as 0");
            }
        }
        return overheads;
    }

    /// <summary>Upload and download time at a few sizes per device outside host memory, fitted to a line per direction.</summary>
    private static List<TransferCost> MeasureTransfers(List<DeviceTarget> candidates, AutotuneOptions options,
        TuningCache? cache, AutotuneResult result)
    {
        var costs = new List<TransferCost>();
        var remote = candidates.Where(c => !c.Device.MemorySpace.IsHost).ToList();
        for (var r = 0; r < remote.Count; r++)
        {
            var (backend, device) = remote[r];
            Report(options, "transfers", r, remote.Count, device.Id);
            if (cache is not null && !options.Retune && cache.Transfers.TryGetValue(device.Id, out var c))
            {
                costs.Add(new TransferCost(device.Id, device.MemorySpace.Name, c.UploadFixedMs, c.UploadMsPerMiB, c.DownloadFixedMs, c.DownloadMsPerMiB, true, Array.Empty<TransferSample>()));
                continue;
            }
            try
            {
                var samples = new List<TransferSample>();
                foreach (var bytes in TransferSizes)
                {
                    var host = AccelTensor.Zeros(ElementType.Float32, new[] { bytes / 4 });
                    var up = Profiling.Timer.Measure(() => backend.Upload(device, host).Dispose(), QuickRules, cancellationToken: options.Scope!.Token);
                    using var resident = backend.Upload(device, host);
                    var down = Profiling.Timer.Measure(() => backend.Download(resident), QuickRules, cancellationToken: options.Scope!.Token);
                    samples.Add(new TransferSample("upload", bytes, up.MedianMs));
                    samples.Add(new TransferSample("download", bytes, down.MedianMs));
                }
                var (uf, us) = FitLine(samples.Where(s => s.Direction == "upload"));
                var (df, ds) = FitLine(samples.Where(s => s.Direction == "download"));
                costs.Add(new TransferCost(device.Id, device.MemorySpace.Name, uf, us, df, ds, false, samples));
                if (cache is not null) cache.Transfers[device.Id] = new CachedTransfer(uf, us, df, ds);
            }
            catch (Exception e) when (e is not OutOfMemoryException and not OperationCanceledException)
            {
                Exclude(options, result, device, $"transfers failed: {e.Message}");
            }
        }
        Report(options, "transfers", remote.Count, remote.Count, "done");
        return costs;
    }

    /// <summary>Least squares line through (MiB, ms); negative parts clamped to 0.</summary>
    private static (double FixedMs, double MsPerMiB) FitLine(IEnumerable<TransferSample> samples)
    {
        var points = samples.Select(s => (X: s.Bytes / (1024.0 * 1024.0), Y: s.Ms)).ToArray();
        var mx = points.Average(p => p.X);
        var my = points.Average(p => p.Y);
        var sxx = points.Sum(p => (p.X - mx) * (p.X - mx));
        var slope = sxx > 0 ? points.Sum(p => (p.X - mx) * (p.Y - my)) / sxx : 0;
        slope = Math.Max(0, slope);
        return (Math.Max(0, my - slope * mx), slope);
    }

    private static NodeResult[] ProfileNodes(Model model, List<DeviceTarget> candidates, DeviceTarget?[][] support,
        Dictionary<string, AccelTensor> values, Dictionary<string, Ir.ValueType> types, AutotuneOptions options, TuningCache? cache, AutotuneResult result)
    {
        var nodes = model.Graph.Nodes;
        var rules = options.NodeTiming;
        var results = new NodeResult[nodes.Count];
        var totalByDevice = candidates.ToDictionary(c => c.Device.Id, _ => 0.0, StringComparer.Ordinal);
        var failuresInARow = candidates.ToDictionary(c => c.Device.Id, _ => 0, StringComparer.Ordinal);
        // (device, op) -> the smallest work size at which the device was abandoned: larger nodes of that op are skipped.
        var hopeless = new Dictionary<(string, string), long>();
        // device -> (nodes tried against a best, the smallest slowdown seen): rules out devices slow at everything.
        var slowdown = new Dictionary<string, List<double>>(StringComparer.Ordinal);
        var initializers = model.Graph.Initializers.ToDictionary(t => t.Name!, StringComparer.Ordinal);
        // Smallest nodes first: a slow device shows it cheaply on them, and is then skipped on the large ones.
        var profilingOrder = Enumerable.Range(0, nodes.Count).OrderBy(i => WorkSize(nodes[i], types)).ToArray();
        for (var step = 0; step < profilingOrder.Length; step++)
        {
            var i = profilingOrder[step];
            var node = nodes[i];
            Report(options, "nodes", step, nodes.Count, $"{NodeName(node)} [{node.OpType}]");
            var signature = OperatorSignature.Of(model, node, types);
            var work = WorkSize(node, types);
            var measured = new NodeCandidate?[candidates.Count];
            Model? sub = null;
            string? extractError = null;
            // Fastest devices first, so the best time is known before a slow device is tried and can be abandoned.
            var order = Enumerable.Range(0, candidates.Count).OrderBy(k => totalByDevice[candidates[k].Device.Id])
                .ThenBy(k => candidates[k].Device.MemorySpace.IsHost ? 0 : 1).ToArray();
            double? best = null;
            foreach (var k in order)
            {
                var (backend, device) = candidates[k];
                if (support[i][k] is null)
                {
                    measured[k] = new NodeCandidate(device.Id, CandidateStatus.Unsupported, null, 0, 0, 0, 0, false, "not claimed (or pinned elsewhere)");
                    continue;
                }
                if (backend.CompilesWholeSourceModelsOnly)
                {
                    measured[k] = new NodeCandidate(device.Id, CandidateStatus.Skipped, null, 0, 0, 0, 0, false, WholeModelOnlyNote(backend));
                    continue;
                }
                if (result.ExcludedDevices.TryGetValue(device.Id, out var why))
                {
                    measured[k] = new NodeCandidate(device.Id, CandidateStatus.Failed, null, 0, 0, 0, 0, false, "device excluded: " + why);
                    continue;
                }
                var key = TuningCache.NodeKey(device.Id, signature);
                if (cache is not null && !options.Retune && cache.Nodes.TryGetValue(key, out var hit))
                {
                    measured[k] = FromCache(device.Id, hit);
                }
                else if (best is not null && slowdown.TryGetValue(device.Id, out var slow) && slow.Count >= rules.HopelessAfterNodes && Median(slow) >= rules.HopelessFactor)
                {
                    measured[k] = new NodeCandidate(device.Id, CandidateStatus.Skipped, null, 0, 0, 0, 0, false,
                        $"not run: {device.Id} was {Median(slow):F0}x slower than the best (median over {slow.Count} nodes)");
                }
                else if (best is not null && hopeless.TryGetValue((device.Id, node.OpType), out var size) && work >= size)
                {
                    measured[k] = new NodeCandidate(device.Id, CandidateStatus.Skipped, null, 0, 0, 0, 0, false,
                        $"not run: {device.Id} was over {rules.AbandonFactor}x slower than the best on a smaller {node.OpType}");
                }
                else
                {
                    if (sub is null && extractError is null)
                    {
                        try
                        {
                            sub = GraphPartitioner.Extract(model, new[] { i }, types, null, "node_" + i);
                        }
                        catch (AccelSdkException e)
                        {
                            extractError = e.Message;
                        }
                    }
                    measured[k] = sub is null
                        ? new NodeCandidate(device.Id, CandidateStatus.Failed, null, 0, 0, 0, 0, false, "cannot isolate the node: " + extractError)
                        : ProfileOne(backend, device, sub, values, initializers, rules, best, options.Compile, options.Scope!.Token);
                    if (cache is not null && measured[k]!.Status is CandidateStatus.Measured or CandidateStatus.Abandoned)
                    {
                        var m = measured[k]!;
                        cache.Nodes[key] = new CachedNodeTiming
                        {
                            Status = m.Status.ToString().ToLowerInvariant(), MedianMs = m.MedianMs, CompileMs = m.CompileMs, WarmupMs = m.WarmupMs,
                            Runs = m.Runs, RelativeSpread = m.RelativeSpread, Note = m.Note,
                        };
                    }
                }
                var candidate = measured[k]!;
                if (candidate.Status == CandidateStatus.Abandoned)
                {
                    var prior = hopeless.GetValueOrDefault((device.Id, node.OpType), long.MaxValue);
                    hopeless[(device.Id, node.OpType)] = Math.Min(prior, work);
                }
                if (candidate.Status == CandidateStatus.Failed && !candidate.FromCache)
                {
                    if (++failuresInARow[device.Id] >= FailuresBeforeExclusion) Exclude(options, result, device, $"{FailuresBeforeExclusion} nodes in a row failed, last: {candidate.Note}");
                }
                else if (candidate.Status == CandidateStatus.Measured)
                {
                    failuresInARow[device.Id] = 0;
                }
                if (best is { } bestSoFar && candidate.MedianMs is { } ratioMs && candidate.Status is CandidateStatus.Measured or CandidateStatus.Abandoned && bestSoFar > 0)
                {
                    if (!slowdown.TryGetValue(device.Id, out var ratios)) slowdown[device.Id] = ratios = new List<double>();
                    ratios.Add(ratioMs / bestSoFar);
                }
                if (candidate.MedianMs is { } ms)
                {
                    totalByDevice[device.Id] += ms;
                    if (candidate.Status == CandidateStatus.Measured && (best is null || ms < best)) best = ms;
                }
            }
            results[i] = new NodeResult(i, NodeName(node), OpName(node), signature, measured.Select(m => m!).ToArray());
        }
        Report(options, "nodes", nodes.Count, nodes.Count, "done");
        cache?.Save();
        return results;
    }

    private static NodeCandidate ProfileOne(IBackend backend, Device device, Model sub, Dictionary<string, AccelTensor> values,
        Dictionary<string, AccelTensor> initializers, TimingRules rules, double? bestMs, CompileOptions compileOptions, CancellationToken cancellationToken)
    {
        var watch = Stopwatch.StartNew();
        ICompiledPartition? compiled = null;
        var inputs = new List<DeviceTensor>();
        try
        {
            compiled = backend.Compile(device, sub, compileOptions);
            var compileMs = watch.Elapsed.TotalMilliseconds;
            foreach (var info in compiled.Inputs)
            {
                var value = values.GetValueOrDefault(info.Name) ?? initializers.GetValueOrDefault(info.Name)
                    ?? throw new AccelSdkException($"value '{info.Name}' was not produced by the sample run");
                inputs.Add(device.MemorySpace.IsHost ? new HostTensor(value) : backend.Upload(device, value));
            }
            var partition = compiled;
            var timing = Profiling.Timer.Measure(() => DisposeAll(partition.Run(inputs)), rules, bestMs * rules.AbandonFactor, bestMs * rules.HopelessFactor, cancellationToken);
            return new NodeCandidate(device.Id, timing.Abandoned ? CandidateStatus.Abandoned : CandidateStatus.Measured, timing.MedianMs, compileMs,
                timing.WarmupMs, timing.Runs, timing.RelativeSpread, false,
                timing.Abandoned ? $"abandoned after {(timing.Runs == 0 ? "the warm-up run" : "the first run")}: {timing.MedianMs:F3} ms vs best {bestMs:F3} ms" : null);
        }
        catch (Exception e) when (e is not OutOfMemoryException and not OperationCanceledException)
        {
            return new NodeCandidate(device.Id, CandidateStatus.Failed, null, watch.Elapsed.TotalMilliseconds, 0, 0, 0, false, e.Message.ReplaceLineEndings(" "));
        }
        finally
        {
            foreach (var t in inputs) t.Dispose();
            compiled?.Dispose();
        }
    }

    /// <summary>A size proxy for comparing nodes of one op: bytes read (weights included) and written.</summary>
    private static long WorkSize(Node node, Dictionary<string, Ir.ValueType> types)
    {
        long total = 0;
        foreach (var name in node.Inputs.Concat(node.Outputs))
        {
            if (name.Length > 0 && types.GetValueOrDefault(name) is TensorType { Shape.ElementCount: { } n } t) total += n * Math.Max(1, t.ElementType.SizeInBytes());
        }
        return total;
    }

    private static double Median(List<double> values) => Profiling.Timer.Summarise(values).Median;

    private static void DisposeAll(IReadOnlyList<DeviceTensor> tensors)
    {
        foreach (var t in tensors) t.Dispose();
    }

    private static void Exclude(AutotuneOptions options, AutotuneResult result, Device device, string reason)
    {
        if (result.ExcludedDevices.TryAdd(device.Id, reason)) options.Scope!.FallBack(FallbackKind.DeviceExcludedFromTuning, device.Id, $"{device.Id} is excluded from tuning: {reason}");
    }
}
