using AccelSdk.Cluster.Hosting;
using AccelSdk.Cluster.Wire;
using AccelSdk.Execution;

namespace AccelSdk.Cluster.Grains;

/// <summary>
/// Owns one local session of one model on its node (key <c>node/digest</c>). Requests run one at a time in arrival
/// order (the grain is not reentrant); Orleans drops a queued request whose token is cancelled before it starts, and
/// the grain refuses one whose deadline has passed.
/// </summary>
[NodePlacement]
internal sealed class InferenceGrain(NodeRuntime node) : Grain, IInferenceGrain
{
    private AccelSession? _session;
    private PrepareResult? _prepared;
    private PrepareRequest? _request;
    private LayerProfile? _layers;
    private long _runs;
    private long _cancelled;
    private long _deadlinePassed;

    private string Digest => NodeKeys.DigestOf(this.GetPrimaryKeyString());

    public async Task<PrepareResult> PrepareAsync(PrepareRequest request, CancellationToken cancellationToken)
    {
        if (_prepared is not null && _request is not null && SameChoice(_request, request)) return _prepared;
        node.ThrowIfUnavailable();
        var path = node.Store.PathOf(Digest);
        var options = node.Local(new SelectOptions
        {
            Policy = request.Policy,
            Candidates = node.Candidates(request.Candidates),
            MeasuredRuns = Math.Clamp(request.MeasuredRuns, 1, 1000),
            WarmupRuns = Math.Clamp(request.WarmupRuns, 0, 100),
            SampleInputs = request.SampleInputs is { } samples ? TensorPayload.ToInputs(samples) : null,
        });
        string? tuningSource = null;
        AccelSession session;
        if (request.Autotune)
            (session, tuningSource) = await NodeTuning.SelectAsync(node, GrainFactory, path, options, cancellationToken);
        else
            session = await LocalRuntime.SelectAsync(path, options, cancellationToken);
        _session?.Dispose();
        _session = session;
        _request = request;
        _layers = null;
        node.Preparations[Digest] = request;
        var chosen = session.Selection?.Candidates.FirstOrDefault(c => c.Device.Id == session.Selection.Chosen.Id);
        // An autotuned session carries no selection figures: its own median is measured here.
        var median = chosen?.MedianMs is > 0 and var ms ? ms
            : await LocalRuntime.MedianRunMsAsync(session, options.SampleInputs ?? LocalRuntime.SampleInputs(path), options.MeasuredRuns, cancellationToken);
        _prepared = new PrepareResult(node.Name, string.Join("+", session.Plan.Devices.Select(d => d.Id)),
            median, chosen?.ThroughputPerSecond, session.OutputNames.ToArray(), tuningSource);
        return _prepared;
    }

    public async Task<RunReply> RunAsync(TensorPayload[] inputs, long deadlineUnixMs, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            _cancelled++;
            cancellationToken.ThrowIfCancellationRequested();
        }
        if (ClusterDeadlineException.IfPassed(deadlineUnixMs, $"node '{node.Name}', model {Digest}") is { } late)
        {
            _deadlinePassed++;
            throw late;
        }
        node.ThrowIfUnavailable();
        var session = _session ?? await PrepareAgainAsync(cancellationToken);
        var result = await node.RunAsync(session, inputs, cancellationToken);
        _runs++;
        return new RunReply(node.Name, result.Names.Select((name, i) => TensorPayload.From(name, result[i])).ToArray());
    }

    public async Task<LayerProfile> ProfileLayersAsync(CancellationToken cancellationToken)
    {
        if (_layers is not null) return _layers;
        var request = _request ?? throw new ClusterException($"node '{node.Name}': model {Digest} was never prepared here: select it through the cluster first");
        var device = _prepared!.Device.Split('+')[0];
        var options = node.Local(new SelectOptions
        {
            Policy = request.Policy,
            Candidates = node.Candidates([device]),
            SampleInputs = request.SampleInputs is { } samples ? TensorPayload.ToInputs(samples) : null,
        });
        var (layerMs, fromCache) = await LocalRuntime.ProfileLayersAsync(node.Store.PathOf(Digest), options, device, node.ProfileCacheDirectory, cancellationToken);
        _layers = new LayerProfile(node.Name, device, layerMs, fromCache ? "local cache" : "measured");
        return _layers;
    }

    public async Task<double> MeasureLocalAsync(int runs, CancellationToken cancellationToken)
    {
        var session = _session ?? await PrepareAgainAsync(cancellationToken);
        var inputs = _request!.SampleInputs is { } samples ? TensorPayload.ToInputs(samples) : LocalRuntime.SampleInputs(node.Store.PathOf(Digest));
        return await LocalRuntime.MedianRunMsAsync(session, inputs, runs, cancellationToken);
    }

    public Task<InferenceStats> GetStatsAsync() => Task.FromResult(new InferenceStats(node.Name, _runs, _cancelled, _deadlinePassed));

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        _session?.Dispose();
        _session = null;
        return Task.CompletedTask;
    }

    private async Task<AccelSession> PrepareAgainAsync(CancellationToken cancellationToken)
    {
        if (!node.Preparations.TryGetValue(Digest, out var request))
            throw new ClusterException($"node '{node.Name}': model {Digest} was never prepared here: select it through the cluster first");
        await PrepareAsync(request, cancellationToken);
        return _session!;
    }

    private static bool SameChoice(PrepareRequest a, PrepareRequest b) =>
        a.Policy == b.Policy && a.Autotune == b.Autotune && string.Join(',', a.Candidates ?? []) == string.Join(',', b.Candidates ?? []);
}
