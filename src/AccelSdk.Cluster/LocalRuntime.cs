using AccelSdk.Autotune;
using AccelSdk.Autotune.Cache;
using AccelSdk.Backends;
using AccelSdk.Cluster.Wire;
using AccelSdk.Execution;
using AccelSdk.Ir;

namespace AccelSdk.Cluster;

/// <summary>
/// Every use of the local (single-process) AccelSdk API by the cluster, in one place: loading and digesting models,
/// selecting a device, running a session and describing the machine, all through the process's
/// <see cref="AccelRuntime.Default"/>.
/// </summary>
internal static class LocalRuntime
{
    /// <summary>The content digest of the model file at <paramref name="path"/>.</summary>
    public static string DigestOf(string path) => ModelDigest.Of(Model.Load(path));

    /// <summary>Selects where the model file runs best on this machine, on a worker thread.</summary>
    public static Task<AccelSession> SelectAsync(string path, SelectOptions options, CancellationToken cancellationToken) =>
        AccelRuntime.Default.SelectAsync(path, options, progress: null, cancellationToken);

    /// <summary>
    /// Autotunes the model file with the tuning cache in <paramref name="cacheDirectory"/>, on a worker thread; with
    /// <paramref name="cachedOnly"/> it only takes a plan already cached (no profiling; Session null on a miss).
    /// </summary>
    public static Task<AutotuneResult> TuneAsync(string path, SelectOptions options, string cacheDirectory, bool cachedOnly, CancellationToken cancellationToken) =>
        Task.Run(() => Autotuner.Tune(AccelRuntime.Default, Model.Load(path), AutotuneOptions.From(options) with { CacheDirectory = cacheDirectory, CachedPlanOnly = cachedOnly },
            cancellationToken), cancellationToken);

    /// <summary>
    /// The fleet's tuning cache file (<paramref name="fleetBytes"/>; null when there is none yet) with every entry of
    /// the node's own cache file at <paramref name="ownPath"/> merged in (plans, node timings, transfer costs and call
    /// overheads; the node's entries win), as the bytes of a cache file; and the plan keys of the node's own file.
    /// Both files are checked as a whole by <see cref="TuningCache.Open"/> on this machine's
    /// <paramref name="fingerprint"/>: an invalid fleet file is replaced by the node's. Works in a scratch folder under
    /// <paramref name="scratchDirectory"/>, removed afterwards; compiled artefacts are the node's own and not merged.
    /// </summary>
    public static (byte[] Bytes, IReadOnlyList<string> OwnPlans) MergeTuningCaches(byte[]? fleetBytes, string ownPath, MachineFingerprint fingerprint,
        string scratchDirectory)
    {
        var scratch = Path.Combine(scratchDirectory, $".merge-{Guid.NewGuid():N}");
        Directory.CreateDirectory(scratch);
        try
        {
            if (fleetBytes is not null) File.WriteAllBytes(Path.Combine(scratch, Path.GetFileName(ownPath)), fleetBytes);
            var merged = TuningCache.Open(scratch, fingerprint);
            var own = TuningCache.Open(Path.GetDirectoryName(ownPath)!, fingerprint);
            foreach (var (key, timing) in own.Nodes) merged.Nodes[key] = timing;
            foreach (var (key, cost) in own.Transfers) merged.Transfers[key] = cost;
            foreach (var (key, overhead) in own.Overheads) merged.Overheads[key] = overhead;
            foreach (var (key, plan) in own.Plans) merged.Plans[key] = plan;
            merged.Save();
            return (File.ReadAllBytes(merged.Path), own.Plans.Keys.ToList());
        }
        finally
        {
            Directory.Delete(scratch, recursive: true);
        }
    }

    /// <summary>The model file at <paramref name="path"/>, parsed.</summary>
    public static Model Load(string path) => Model.Load(path);

    /// <summary>
    /// Extracts layers <see cref="StageRequest.From"/> to <see cref="StageRequest.To"/> of the model file as a sub-model
    /// (at the shapes of the request's sample inputs) and selects its session among <paramref name="candidates"/>,
    /// measured with random inputs of the stage's types, compiled with <paramref name="compile"/>. Returns the session and the whole model's output names.
    /// </summary>
    public static async Task<(AccelSession Session, HashSet<string> ModelOutputs)> SelectStageAsync(string path, StageRequest request,
        IReadOnlyList<string>? candidates, CompileOptions compile, CancellationToken cancellationToken)
    {
        var model = Model.Load(path);
        var count = model.Graph.Nodes.Count;
        if (request.From < 0 || request.To > count || request.From >= request.To)
            throw new ClusterException($"{model.Label}: stage {request.From}-{request.To} is outside its {count} layers");
        var sample = request.Base.SampleInputs is { } samples ? TensorPayload.ToInputs(samples) : Execution.SampleInputs.Random(model);
        var shaped = model.WithInputShapes(sample);
        var types = ShapeInference.Infer(shaped);
        var later = Enumerable.Range(request.To, count - request.To).ToHashSet();
        var stage = GraphPartitioner.Extract(shaped, Enumerable.Range(request.From, request.To - request.From).ToArray(), types, later, $"stage_{request.From}_{request.To}");
        var options = new SelectOptions
        {
            Policy = request.Base.Policy,
            Candidates = candidates,
            MeasuredRuns = Math.Clamp(request.Base.MeasuredRuns, 1, 1000),
            WarmupRuns = Math.Clamp(request.Base.WarmupRuns, 0, 100),
            SampleInputs = Execution.SampleInputs.Random(stage),
            Compile = compile,
        };
        var session = await AccelRuntime.Default.SelectAsync(stage, options, progress: null, cancellationToken);
        return (session, model.Graph.Outputs.Select(o => o.Name).ToHashSet(StringComparer.Ordinal));
    }

    /// <summary>
    /// Per-layer median times of the model file on <paramref name="device"/>, from the autotuner's node profiling
    /// (its tuning cache in <paramref name="cacheDirectory"/> when it holds them), and whether they came from the cache.
    /// </summary>
    public static async Task<(double[] LayerMs, bool FromCache)> ProfileLayersAsync(string path, SelectOptions options, string device, string cacheDirectory,
        CancellationToken cancellationToken)
    {
        var model = Model.Load(path);
        var result = await Task.Run(() => Autotuner.Tune(AccelRuntime.Default, model, AutotuneOptions.From(options) with
            {
                CacheDirectory = cacheDirectory,
                // Only the node timings are wanted: fewer runs per layer and per plan than a tuning that keeps a plan.
                NodeTiming = new TimingRules { MinRuns = 3, MaxRuns = 15 },
                PlanRuns = 3,
            }, cancellationToken),
            cancellationToken);
        result.Session?.Dispose();
        var layerMs = new double[model.Graph.Nodes.Count];
        foreach (var node in result.Nodes)
        {
            if (node.Index >= 0 && node.Index < layerMs.Length)
                layerMs[node.Index] = node.Candidates.FirstOrDefault(c => c.DeviceId == device)?.MedianMs ?? node.BestMs ?? 0;
        }
        return (layerMs, result.FromCache);
    }

    /// <summary>Median local time (ms) of <paramref name="runs"/> sequential runs of <paramref name="session"/>.</summary>
    public static async Task<double> MedianRunMsAsync(AccelSession session, IReadOnlyDictionary<string, AccelTensor> inputs, int runs, CancellationToken cancellationToken)
    {
        var times = new double[Math.Clamp(runs, 1, 100)];
        for (var i = 0; i < times.Length; i++)
        {
            var start = System.Diagnostics.Stopwatch.GetTimestamp();
            await session.RunAsync(inputs, cancellationToken);
            times[i] = System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }
        Array.Sort(times);
        return times[times.Length / 2];
    }

    /// <summary>Runs one request.</summary>
    public static Task<RunResult> RunAsync(AccelSession session, IReadOnlyDictionary<string, AccelTensor> inputs, CancellationToken cancellationToken) =>
        session.RunAsync(inputs, cancellationToken);

    /// <summary>Fixed-seed sample inputs from the model's declared input types.</summary>
    public static IReadOnlyDictionary<string, AccelTensor> SampleInputs(string path) => Execution.SampleInputs.Random(Model.Load(path));

    /// <summary>Every available device of this machine.</summary>
    public static IReadOnlyList<Device> AvailableDevices() => AccelRuntime.Default.Devices.Where(d => d.IsAvailable).ToList();

    /// <summary>Why the devices named (all when null) are unavailable.</summary>
    public static string DescribeUnavailable(IReadOnlyList<string>? names) => string.Join("; ", AccelRuntime.Default.Devices
        .Where(d => !d.IsAvailable && (names is null || names.Any(n => string.Equals(n, d.Id, StringComparison.OrdinalIgnoreCase) || string.Equals(n, d.Backend, StringComparison.OrdinalIgnoreCase))))
        .Select(d => $"{d.Id}: {d.UnavailableReason}")
        .DefaultIfEmpty("no such device on this machine"));

    /// <summary>What this process's node publishes.</summary>
    public static NodeInfo Describe(string node, IReadOnlyList<string> storedModels, Func<Device, bool> offered)
    {
        var probe = AccelRuntime.Default.Machine;
        var devices = AccelRuntime.Default.Devices
            .Select(d => offered(d)
                ? new NodeDevice(d.Id, d.Backend, d.Name, d.Kind.ToString(), d.IsAvailable, d.UnavailableReason)
                : new NodeDevice(d.Id, d.Backend, d.Name, d.Kind.ToString(), false, "not offered by this node (accelsdk node --device)"))
            .ToList();
        var versions = AccelRuntime.Default.Backends.ToDictionary(b => b.Name, b => b.Version, StringComparer.Ordinal);
        return new NodeInfo(node, Environment.ProcessId, probe?.Fingerprint,
            probe?.Facts.ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal) ?? new Dictionary<string, string>(),
            devices, versions, ProcessMemory.AvailableBytes, Environment.ProcessorCount, storedModels);
    }
}
