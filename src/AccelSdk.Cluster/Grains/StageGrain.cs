using AccelSdk.Cluster.Hosting;
using AccelSdk.Cluster.Wire;
using AccelSdk.Execution;
using Orleans.Concurrency;

namespace AccelSdk.Cluster.Grains;

/// <summary>
/// One stage of a split model (consecutive layers) on one node, keyed <c>node/digest/from-to</c>: owns a local session
/// of the stage's sub-model. A run takes the values the stage reads, runs it, sends what later stages read to the
/// next stage's node and returns the model outputs of every stage from here on. Runs pipeline: while a later stage
/// works on item i, this one already runs item i+1 (its own runs one at a time, in arrival order); how many items are
/// in a split route at once is bounded by the client (the route's queue, <c>QueueCapacityPerNode</c>).
/// </summary>
public interface IStageGrain : IGrainWithStringKey
{
    /// <summary>Extracts the stage from the stored model, selects its session on the requested device and measures it.</summary>
    [ResponseTimeout("00:10:00")]
    Task<StageResult> PrepareAsync(StageRequest request, CancellationToken cancellationToken);

    /// <summary>Median time (ms) of <paramref name="runs"/> local runs of this stage alone on random inputs of its types, measured on the node.</summary>
    [ResponseTimeout("00:05:00")]
    Task<double> MeasureLocalAsync(int runs, CancellationToken cancellationToken);

    /// <summary>
    /// Runs this stage and, through <paramref name="rest"/>, every later one. Read-only for Orleans: runs of this stage
    /// interleave with each other (while one waits for the later stages, the next runs here) but never with
    /// <see cref="PrepareAsync"/> or <see cref="MeasureLocalAsync"/>.
    /// </summary>
    [ReadOnly]
    Task<RunReply> RunAsync(TensorPayload[] values, StageHop[] rest, long deadlineUnixMs, CancellationToken cancellationToken);

    /// <summary>This stage's counters and recent run times, measured on its node.</summary>
    [ReadOnly]
    Task<StageStats> GetStatsAsync();
}

[NodePlacement]
internal sealed class StageGrain(NodeRuntime node) : Grain, IStageGrain
{
    private AccelSession? _session;
    private StageRequest? _request;
    private StageResult? _prepared;
    private HashSet<string> _modelOutputs = new(StringComparer.Ordinal);

    private const int RecentRuns = 256;
    // The session runs one item at a time (in arrival order: SemaphoreSlim releases async waiters first in, first out).
    private readonly SemaphoreSlim _runTurn = new(1, 1);
    // Held from the local run until the later stages answered, only for hops marked Sequential.
    private readonly SemaphoreSlim _sequentialTurn = new(1, 1);
    private readonly long[] _runStarts = new long[RecentRuns];
    private readonly long[] _runEnds = new long[RecentRuns];
    private long _runs;
    private long _runsWhileDownstreamBusy;
    private int _awaitingDownstream;
    private int _mostAwaitingDownstream;

    private string Digest => NodeKeys.DigestOf(this.GetPrimaryKeyString()).Split('/')[0];

    public async Task<StageResult> PrepareAsync(StageRequest request, CancellationToken cancellationToken)
    {
        if (_prepared is not null && _request == request) return _prepared;
        var (session, modelOutputs) = await LocalRuntime.SelectStageAsync(node.Store.PathOf(Digest), request, node.Candidates([request.Device]), node.Compile, cancellationToken);
        _session?.Dispose();
        (_session, _request, _modelOutputs) = (session, request, modelOutputs);
        var chosen = session.Selection?.Candidates.FirstOrDefault(c => c.Device.Id == session.Selection.Chosen.Id);
        _prepared = new StageResult(node.Name, string.Join("+", session.Plan.Devices.Select(d => d.Id)), chosen?.MedianMs ?? 0,
            session.Plan.Model.Graph.RequiredInputs.Select(i => i.Name).ToArray(), session.OutputNames.ToArray());
        return _prepared;
    }

    public Task<double> MeasureLocalAsync(int runs, CancellationToken cancellationToken)
    {
        var session = _session ?? throw new ClusterException($"node '{node.Name}': stage {this.GetPrimaryKeyString()} was never prepared");
        return LocalRuntime.MedianRunMsAsync(session, Execution.SampleInputs.Random(session.Model), runs, cancellationToken);
    }

    public async Task<RunReply> RunAsync(TensorPayload[] values, StageHop[] rest, long deadlineUnixMs, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (ClusterDeadlineException.IfPassed(deadlineUnixMs, $"node '{node.Name}', stage {this.GetPrimaryKeyString()}") is { } late) throw late;
        var session = _session ?? throw new ClusterException($"node '{node.Name}': stage {this.GetPrimaryKeyString()} was never prepared (it is prepared by the client's selection)");
        node.ThrowIfUnavailable();
        var byName = values.ToDictionary(v => v.Name, StringComparer.Ordinal);
        var inputs = _prepared!.InputNames.Select(n => byName.TryGetValue(n, out var v) ? v
            : throw new InputMismatchException(n, $"stage {this.GetPrimaryKeyString()} on node '{node.Name}' was not sent this value")).ToArray();
        var sequential = rest.Length > 0 && rest[0].Sequential;
        if (sequential) await _sequentialTurn.WaitAsync(cancellationToken);
        try
        {
            var result = await RunHereAsync(session, inputs, cancellationToken);
            var produced = result.Names.Select((name, i) => TensorPayload.From(name, result[i])).ToList();
            var outputs = produced.Where(p => _modelOutputs.Contains(p.Name)).ToList();
            if (rest.Length == 0) return new RunReply(node.Name, outputs.ToArray());

            var next = rest[0];
            foreach (var p in produced) byName[p.Name] = p;
            var forward = next.Needs.Select(n => byName.TryGetValue(n, out var v) ? v
                : throw new ClusterException($"stage {this.GetPrimaryKeyString()} on node '{node.Name}': the next stage needs '{n}', which neither this stage nor its inputs have")).ToArray();
            _mostAwaitingDownstream = Math.Max(_mostAwaitingDownstream, ++_awaitingDownstream);
            try
            {
                var downstream = await GrainFactory.GetGrain<IStageGrain>(NodeKeys.OfStage(next.Node, Digest, next.From, next.To))
                    .RunAsync(forward, rest[1..], deadlineUnixMs, cancellationToken);
                return new RunReply(node.Name + ">" + downstream.Node, outputs.Concat(downstream.Outputs).ToArray());
            }
            finally
            {
                _awaitingDownstream--;
            }
        }
        finally
        {
            if (sequential) _sequentialTurn.Release();
        }
    }

    /// <summary>One local run of the stage's session, in turn, with its start and end recorded.</summary>
    private async Task<RunResult> RunHereAsync(AccelSession session, TensorPayload[] inputs, CancellationToken cancellationToken)
    {
        await _runTurn.WaitAsync(cancellationToken);
        try
        {
            var slot = (int)(_runs % RecentRuns);
            if (_awaitingDownstream > 0) _runsWhileDownstreamBusy++;
            _runStarts[slot] = DateTime.UtcNow.Ticks;
            _runEnds[slot] = 0;
            _runs++;
            var result = await node.RunAsync(session, inputs, cancellationToken);
            _runEnds[slot] = DateTime.UtcNow.Ticks;
            return result;
        }
        finally
        {
            _runTurn.Release();
        }
    }

    public Task<StageStats> GetStatsAsync()
    {
        var recent = (int)Math.Min(_runs, RecentRuns);
        var slots = Enumerable.Range(0, recent).Select(i => (int)((_runs - recent + i) % RecentRuns)).Where(slot => _runEnds[slot] != 0).ToArray();
        return Task.FromResult(new StageStats(node.Name, this.GetPrimaryKeyString(), _runs, _runsWhileDownstreamBusy, _mostAwaitingDownstream,
            slots.Select(slot => _runStarts[slot]).ToArray(), slots.Select(slot => _runEnds[slot]).ToArray()));
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        _session?.Dispose();
        _session = null;
        return Task.CompletedTask;
    }
}
