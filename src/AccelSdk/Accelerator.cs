using System.Diagnostics;
using AccelSdk.Backends;
using AccelSdk.Diagnostics;
using AccelSdk.Execution;
using AccelSdk.Ir;

namespace AccelSdk;

/// <summary>What <see cref="Accelerator.Select(Model, SelectOptions?)"/> optimises for.</summary>
public enum SelectionPolicy
{
    /// <summary>Lowest median latency of one run (default).</summary>
    LowestLatency,
    /// <summary>
    /// Most inferences per second over a stream of inputs, as <see cref="AccelSession.RunMany"/> runs it: sequentially,
    /// as concurrent runs, or (autotuning) the partitions of a multi-device plan as a pipeline, whichever measured fastest.
    /// </summary>
    HighestThroughput,
    /// <summary>A CPU device whenever one can run the model; fastest among them.</summary>
    PreferCpu,
    /// <summary>A GPU device whenever one can run the model; fastest among them; else the fastest device.</summary>
    PreferGpu,
}

/// <summary>Options of <see cref="Accelerator.Select(Model, SelectOptions?)"/>.</summary>
public sealed record SelectOptions
{
    /// <summary>What to optimise.</summary>
    public SelectionPolicy Policy { get; init; } = SelectionPolicy.LowestLatency;

    /// <summary>Inputs to measure with; when null, fixed-seed inputs are made from the declared input types.</summary>
    public IReadOnlyDictionary<string, AccelTensor>? SampleInputs { get; init; }

    /// <summary>Timed runs per candidate after warm-up.</summary>
    public int MeasuredRuns { get; init; } = 10;

    /// <summary>Untimed warm-up runs per candidate.</summary>
    public int WarmupRuns { get; init; } = 2;

    /// <summary>Restricts candidates to these backend names or device ids; null means every available device.</summary>
    public IReadOnlyList<string>? Candidates { get; init; }

    /// <summary>Options passed to each backend's compile step.</summary>
    public CompileOptions Compile { get; init; } = new();

    /// <summary>
    /// Place each node on the (backend, device) measured fastest for it, counting transfers, instead of running the
    /// whole model on one device; the result is never slower than the best single device as measured. Needs a
    /// registered <see cref="IPlanTuner"/> (the AccelSdk.Autotune package); tuning results are cached per machine.
    /// </summary>
    public bool Autotune { get; init; }

    /// <summary>
    /// Memory cap in bytes per device id (or backend name, for all its devices). A device whose estimated footprint
    /// (<see cref="MemoryEstimate"/>: the weights plus the peak of live activations of what runs there) exceeds its cap
    /// runs nothing (whole-model selection) or only the layers that fit (autotuning); when nothing fits,
    /// <see cref="MemoryLimitException"/> names the device and the needed and allowed bytes.
    /// </summary>
    public IReadOnlyDictionary<string, long>? MemoryLimits { get; init; }

    /// <summary>
    /// Caps on one tensor's and one run's bytes, checked before allocating (<see cref="ResourceLimits"/>); null takes
    /// <see cref="ResourceLimits.Default"/>. The returned session keeps them as <see cref="AccelSession.Limits"/>.
    /// </summary>
    public ResourceLimits? Limits { get; init; }

    /// <summary>
    /// Autotuning only: nodes pinned by hand, keyed by node name or op type, to a device id or backend name.
    /// </summary>
    public IReadOnlyDictionary<string, string>? Pins { get; init; }
}

/// <summary>
/// Chooses a multi-device plan for a model by measurement (implemented by AccelSdk.Autotune and found through
/// <see cref="AccelSdkExtensionAttribute"/>); used by <see cref="Accelerator.Select(Model, SelectOptions?)"/> when
/// <see cref="SelectOptions.Autotune"/> is set.
/// </summary>
public interface IPlanTuner
{
    /// <summary>Tunes (or reuses a cached tuning of) <paramref name="model"/> and returns a session on the chosen plan.</summary>
    AccelSession Tune(Model model, SelectOptions options);
}

/// <summary>The measured result of one candidate device.</summary>
/// <param name="Device">The device.</param>
/// <param name="MedianMs">Median latency of one run, or null when it failed.</param>
/// <param name="ThroughputPerSecond">Runs per second under concurrency (throughput policy only).</param>
/// <param name="CompileMs">Compile (session creation) time.</param>
/// <param name="Error">Why the candidate could not run the model.</param>
public sealed record CandidateResult(Device Device, double? MedianMs, double? ThroughputPerSecond, double CompileMs, string? Error);

/// <summary>How a device was chosen: every candidate measured and the winner.</summary>
/// <param name="Policy">The policy used.</param>
/// <param name="Candidates">Each candidate's measurements.</param>
/// <param name="Chosen">The chosen device.</param>
/// <param name="MachineFingerprint">
/// <see cref="IMachineProbe.Fingerprint"/> of the machine measured on (null without a probe): a selection holds for
/// machines with the same fingerprint.
/// </param>
/// <param name="FromTuningCache">
/// True when the plan came from a tuning cache without measuring anything (an autotuned model selected again).
/// </param>
public sealed record SelectionReport(SelectionPolicy Policy, IReadOnlyList<CandidateResult> Candidates, Device Chosen, string? MachineFingerprint = null, bool FromTuningCache = false);

/// <summary>
/// The entry point: finds the devices and backends of this machine and picks where a model runs fastest, by measuring.
/// <code>
/// using var session = Accelerator.Select("model.onnx");
/// var outputs = session.Run(input);
/// </code>
/// </summary>
public sealed class Accelerator
{
    private Accelerator(IBackend backend, Device device)
    {
        Backend = backend;
        Device = device;
    }

    /// <summary>The backend.</summary>
    public IBackend Backend { get; }

    /// <summary>The device.</summary>
    public Device Device { get; }

    /// <summary>The first available machine probe (AccelSdk.Native's device probe when deployed), or null.</summary>
    public static IMachineProbe? Machine => ExtensionRegistry.MachineProbes.FirstOrDefault(p => p.IsAvailable);

    /// <summary>Every device of every backend on this machine, unavailable ones included with their reason.</summary>
    public static IReadOnlyList<Device> Devices => BackendRegistry.AllDevices;

    /// <summary>
    /// The best general device with no model to measure: an available GPU first (unless the policy prefers CPU),
    /// then other accelerators, then CPUs; among equals, backends in registration order.
    /// </summary>
    public static Accelerator Select(SelectionPolicy policy = SelectionPolicy.LowestLatency)
    {
        var ranked = Available()
            .OrderBy(c => RankKind(c.Device.Kind, policy))
            .ToList();
        if (ranked.Count == 0) throw new AccelSdkException("no backend has an available device: " + DescribeUnavailable());
        return new Accelerator(ranked[0].Backend, ranked[0].Device);
    }

    /// <summary>Loads and runs <paramref name="model"/> on this accelerator's device as one partition.</summary>
    public AccelSession Load(Model model, CompileOptions? options = null) =>
        new(GraphPartitioner.WholeModel(model, Backend, Device), options);

    /// <summary>Loads <paramref name="modelPath"/> onto this accelerator's device.</summary>
    public AccelSession Load(string modelPath, CompileOptions? options = null) => Load(Model.Load(modelPath), options);

    /// <summary>Loads the model file and selects where it runs best; see <see cref="Select(Model, SelectOptions?)"/>.</summary>
    public static AccelSession Select(string modelPath, SelectOptions? options = null) => Select(Model.Load(modelPath), options);

    /// <summary>
    /// Measures <paramref name="model"/> on every available device that can run it whole and returns a session on the
    /// one the policy prefers. The session's <see cref="AccelSession.Selection"/> holds every measurement.
    /// </summary>
    public static AccelSession Select(Model model, SelectOptions? options = null)
    {
        options ??= new SelectOptions();
        model.Graph.CheckNames(model.Label);
        if (options.Autotune)
        {
            var tuner = ExtensionRegistry.PlanTuners.FirstOrDefault()
                ?? throw new AccelSdkException("SelectOptions.Autotune needs a plan tuner: reference the AccelSdk.Autotune package");
            return tuner.Tune(model, options);
        }
        var inputs = options.SampleInputs ?? SampleInputs.Random(model, limits: options.Limits);
        var types = ShapeInference.Infer(model);
        var results = new List<CandidateResult>();
        var sessions = new List<(AccelSession Session, CandidateResult Result)>();
        var unsupportedByDevice = new List<(string Node, string Op, string Reason)>();
        var overCap = new List<(string Device, long Needed, long Allowed)>();
        foreach (var (backend, device) in Available().Where(c => IsCandidate(c.Device, options)))
        {
            var unsupported = GraphPartitioner.Unsupported(model, backend, device, types);
            if (unsupported.Count > 0)
            {
                results.Add(new CandidateResult(device, null, null, 0, $"{unsupported.Count} unsupported node(s), first {unsupported[0].Node} [{unsupported[0].Op}]: {unsupported[0].Reason}"));
                unsupportedByDevice.AddRange(unsupported.Select(u => (u.Node, u.Op, $"{device.Id}: {u.Reason}")));
                continue;
            }
            var plan = new ExecutionPlan(model, new[] { new PlannedPartition(0, backend, device, Enumerable.Range(0, model.Graph.Nodes.Count).ToArray(), model) });
            if (MemoryCap(options, backend, device) is { } cap && MemoryEstimate.Of(plan, MemoryEstimate.FromTypes(types)).Single().TotalBytes is var needed && needed > cap)
            {
                results.Add(new CandidateResult(device, null, null, 0, $"over the memory cap: needs {needed:N0} bytes, {cap:N0} allowed"));
                overCap.Add((device.Id, needed, cap));
                continue;
            }
            AccelSession? session = null;
            try
            {
                session = new AccelSession(plan, options.Compile);
                if (options.Limits is not null) session.Limits = options.Limits;
                var result = Measure(session, inputs, options, device);
                results.Add(result);
                sessions.Add((session, result));
            }
            catch (AccelSdkException e) when (e is not InputMismatchException)
            {
                session?.Dispose();
                results.Add(new CandidateResult(device, null, null, 0, e.Message));
                AccelSdkDiagnostics.Warn($"{device.Id} excluded for {model.Label}: {e.Message}");
            }
        }
        if (sessions.Count == 0)
        {
            if (overCap.Count > 0)
            {
                var (device, needed, allowed) = overCap.OrderBy(f => (double)f.Needed / Math.Max(1, f.Allowed)).First();
                throw new MemoryLimitException(model.Label, device, needed, allowed);
            }
            if (unsupportedByDevice.Count > 0) throw new UnsupportedOperatorException(model.Label, unsupportedByDevice);
            throw new AccelSdkException($"{model.Label}: no device could run the model: " +
                (results.Count == 0 ? DescribeUnavailable() : string.Join("; ", results.Select(r => $"{r.Device.Id}: {r.Error}"))));
        }
        var chosen = Choose(sessions, options.Policy);
        foreach (var (s, _) in sessions)
        {
            if (!ReferenceEquals(s, chosen)) s.Dispose();
        }
        chosen.Selection = new SelectionReport(options.Policy, results, chosen.Plan.Partitions[0].Device, Machine?.Fingerprint);
        return chosen;
    }

    private static AccelSession Choose(List<(AccelSession Session, CandidateResult Result)> sessions, SelectionPolicy policy)
    {
        IEnumerable<(AccelSession Session, CandidateResult Result)> pool = sessions;
        if (policy == SelectionPolicy.PreferCpu && sessions.Any(s => s.Result.Device.Kind == DeviceKind.Cpu))
            pool = sessions.Where(s => s.Result.Device.Kind == DeviceKind.Cpu);
        if (policy == SelectionPolicy.PreferGpu && sessions.Any(s => s.Result.Device.Kind == DeviceKind.Gpu))
            pool = sessions.Where(s => s.Result.Device.Kind == DeviceKind.Gpu);
        return policy == SelectionPolicy.HighestThroughput
            ? pool.OrderByDescending(s => s.Result.ThroughputPerSecond ?? 0).First().Session
            : pool.OrderBy(s => s.Result.MedianMs ?? double.MaxValue).First().Session;
    }

    private static CandidateResult Measure(AccelSession session, IReadOnlyDictionary<string, AccelTensor> inputs, SelectOptions options, Device device)
    {
        for (var i = 0; i < options.WarmupRuns; i++) session.Run(inputs);
        var times = new double[Math.Max(1, options.MeasuredRuns)];
        for (var i = 0; i < times.Length; i++)
        {
            var start = Stopwatch.GetTimestamp();
            session.Run(inputs);
            times[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }
        Array.Sort(times);
        var median = times[times.Length / 2];
        double? throughput = null;
        if (options.Policy == SelectionPolicy.HighestThroughput)
        {
            // Sequential streaming can beat concurrent runs (a runtime that already uses every core for one run).
            var stream = Enumerable.Repeat(inputs, Math.Max(2, Environment.ProcessorCount) * Math.Max(2, options.MeasuredRuns / 2)).ToArray();
            foreach (var mode in new[] { StreamExecution.Sequential, StreamExecution.Concurrent })
            {
                var start = Stopwatch.GetTimestamp();
                session.RunMany(stream, mode: mode);
                var rate = stream.Length / Stopwatch.GetElapsedTime(start).TotalSeconds;
                if (throughput is null || rate > throughput)
                {
                    throughput = rate;
                    session.StreamExecution = mode;
                }
            }
        }
        return new CandidateResult(device, median, throughput, session.CompileTime.TotalMilliseconds, null);
    }

    private static long? MemoryCap(SelectOptions options, IBackend backend, Device device) =>
        options.MemoryLimits?.FirstOrDefault(kv => string.Equals(kv.Key, device.Id, StringComparison.OrdinalIgnoreCase)) is { Key: not null } byId ? byId.Value
        : options.MemoryLimits?.FirstOrDefault(kv => string.Equals(kv.Key, backend.Name, StringComparison.OrdinalIgnoreCase)) is { Key: not null } byBackend ? byBackend.Value
        : null;

    private static bool IsCandidate(Device device, SelectOptions options) =>
        options.Candidates is null || options.Candidates.Any(c =>
            string.Equals(c, device.Id, StringComparison.OrdinalIgnoreCase) || string.Equals(c, device.Backend, StringComparison.OrdinalIgnoreCase));

    private static IEnumerable<(IBackend Backend, Device Device)> Available() =>
        BackendRegistry.All.SelectMany(b => b.Devices.Where(d => d.IsAvailable).Select(d => (b, d)));

    private static int RankKind(DeviceKind kind, SelectionPolicy policy) => policy == SelectionPolicy.PreferCpu
        ? (kind == DeviceKind.Cpu ? 0 : 1)
        : kind switch { DeviceKind.Gpu => 0, DeviceKind.Accelerator => 1, _ => 2 };

    private static string DescribeUnavailable()
    {
        var devices = BackendRegistry.AllDevices;
        return devices.Count == 0
            ? "no backend is registered (reference AccelSdk.OnnxRuntime or another backend package)"
            : string.Join("; ", devices.Select(d => $"{d.Id}: {d.UnavailableReason ?? "available"}"));
    }

    /// <inheritdoc />
    public override string ToString() => Device.ToString();
}
