using System.Runtime.CompilerServices;
using System.Threading.Channels;
using AccelSdk.Cluster.Grains;
using AccelSdk.Cluster.Wire;
using AccelSdk.Ir;

namespace AccelSdk.Cluster.Client;

/// <summary>The outputs of one cluster run, in graph output order, with the node that answered.</summary>
public sealed class ClusterRunResult(string node, IReadOnlyList<string> names, IReadOnlyList<AccelTensor> outputs) : IReadOnlyList<AccelTensor>
{
    /// <summary>The node that ran the request.</summary>
    public string Node { get; } = node;

    /// <summary>Output names in order.</summary>
    public IReadOnlyList<string> Names { get; } = names;

    /// <inheritdoc />
    public AccelTensor this[int index] => outputs[index];

    /// <summary>An output by name.</summary>
    public AccelTensor this[string name] =>
        Names.Select((n, i) => (n, i)).FirstOrDefault(p => p.n == name) is { n: not null } hit ? outputs[hit.i]
        : throw new KeyNotFoundException($"output '{name}' is not one of {string.Join(", ", Names)}");

    /// <inheritdoc />
    public int Count => outputs.Count;

    /// <inheritdoc />
    public IEnumerator<AccelTensor> GetEnumerator() => outputs.GetEnumerator();

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
}

/// <summary>
/// A model placed on the cluster. Each request gets a slot on a node (bounded per node), runs there, and if that node
/// fails (killed, left, unreachable) it is retried on another node: a request completes once, with one answer.
/// Nodes that join while the session is open are prepared and take load.
/// </summary>
public sealed partial class ClusterSession : IAsyncDisposable
{
    private readonly AccelCluster _cluster;
    private readonly ModelFile _model;
    private readonly PrepareRequest _prepare;
    private readonly ClusterSelectOptions _options;
    private readonly NodeLanes _lanes;
    private readonly IReadOnlyList<string> _inputNames;
    private readonly CancellationTokenSource _closing = new();
    private readonly Task _membership;
    private long _retries;

    internal ClusterSession(AccelCluster cluster, ModelFile model, PrepareRequest prepare, ClusterSelectOptions options, NodeLanes lanes, ClusterSelection selection, IReadOnlyList<string> inputNames)
    {
        _inputNames = inputNames;
        _cluster = cluster;
        _model = model;
        _prepare = prepare;
        _options = options;
        _lanes = lanes;
        Selection = selection;
        _membership = Task.Run(WatchMembershipAsync);
    }

    /// <summary>What was measured and the placement kept.</summary>
    public ClusterSelection Selection { get; }

    /// <summary>The model's content digest.</summary>
    public string ModelDigest => _model.Digest;

    /// <summary>Requests answered per node so far.</summary>
    public IReadOnlyDictionary<string, long> CompletedByNode => _lanes.CompletedByNode();

    /// <summary>Attempts that failed on a node and were retried on another.</summary>
    public long Retries => Interlocked.Read(ref _retries);

    /// <summary>Nodes currently serving (healthy), active or standing by.</summary>
    public IReadOnlyList<string> ServingNodes => _lanes.Snapshot().Where(l => l.Healthy).Select(l => l.Node).ToList();

    /// <summary>Runs one request on the cluster.</summary>
    public Task<ClusterRunResult> RunAsync(IReadOnlyDictionary<string, AccelTensor> inputs, CancellationToken cancellationToken = default) =>
        RunPayloadAsync(TensorPayload.FromInputs(inputs), cancellationToken);

    /// <summary>Runs one request on the cluster; inputs in the model's input order.</summary>
    public Task<ClusterRunResult> RunAsync(params AccelTensor[] inputs)
    {
        if (inputs.Length != _inputNames.Count)
            throw new InputMismatchException(inputs.Length < _inputNames.Count ? _inputNames[inputs.Length] : $"#{inputs.Length}",
                $"the model takes {_inputNames.Count} input(s) ({string.Join(", ", _inputNames)}), {inputs.Length} given");
        return RunPayloadAsync(inputs.Select((t, i) => TensorPayload.From(_inputNames[i], t)).ToArray(), CancellationToken.None);
    }

    /// <summary>
    /// Runs a stream of requests, answers in input order. At most the cluster's total queue capacity (twice over) is in
    /// flight: a slow cluster slows the reading of <paramref name="inputs"/> instead of buffering it.
    /// </summary>
    public async IAsyncEnumerable<ClusterRunResult> RunManyAsync(IAsyncEnumerable<IReadOnlyDictionary<string, AccelTensor>> inputs,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var window = Math.Max(2, 2 * _lanes.CapacityPerNode * Math.Max(1, _lanes.Snapshot().Count(l => l.Healthy)));
        var pending = Channel.CreateBounded<Task<ClusterRunResult>>(new BoundedChannelOptions(window) { SingleReader = true, SingleWriter = true });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var producer = Task.Run(async () =>
        {
            try
            {
                await foreach (var input in inputs.WithCancellation(stop.Token))
                    await pending.Writer.WriteAsync(RunAsync(input, stop.Token), stop.Token);
                pending.Writer.Complete();
            }
            catch (Exception e)
            {
                pending.Writer.Complete(e);
            }
        }, CancellationToken.None);
        try
        {
            await foreach (var task in pending.Reader.ReadAllAsync(cancellationToken))
                yield return await task;
            await producer;
        }
        finally
        {
            await stop.CancelAsync();
            await producer;
            while (pending.Reader.TryRead(out var leftover)) _ = leftover.ContinueWith(static t => t.Exception, TaskScheduler.Default);
        }
    }

    /// <summary>
    /// A split placement's stages take the next item while later stages work on earlier ones (default true). False:
    /// each stage waits until the rest of the route answered before it runs another item, as split stages ran before
    /// they were pipelined (the cluster bench's <c>split</c> mode compares the two). No effect on other placements.
    /// </summary>
    public bool PipelineSplit
    {
        get => SplitRoute?.Pipelined ?? true;
        set
        {
            if (SplitRoute is { } route) route.Pipelined = value;
        }
    }

    private SplitRoute? SplitRoute => _lanes.Snapshot().Select(l => l.Route).FirstOrDefault(r => r is not null);

    /// <summary>Each stage's counters and recent run times of a split placement, in stage order (empty for other placements).</summary>
    public async Task<IReadOnlyList<StageStats>> GetStageStatsAsync(CancellationToken cancellationToken = default)
    {
        if (SplitRoute is not { } route) return [];
        var stats = new List<StageStats>();
        foreach (var stage in route.Stages) stats.Add(await stage.GetStatsAsync().WaitAsync(cancellationToken));
        return stats;
    }

    /// <summary>Per node counters of this model's sessions (runs, requests dropped before running).</summary>
    public async Task<IReadOnlyList<InferenceStats>> GetNodeStatsAsync(CancellationToken cancellationToken = default)
    {
        var stats = new List<InferenceStats>();
        foreach (var lane in _lanes.Snapshot().Where(l => l.Healthy && l.Route is null))
            stats.Add(await lane.Grain.GetStatsAsync().WaitAsync(cancellationToken));
        return stats;
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _closing.CancelAsync();
        try
        {
            await _membership;
        }
        catch (OperationCanceledException)
        {
        }
        _closing.Dispose();
    }

    private async Task<ClusterRunResult> RunPayloadAsync(TensorPayload[] inputs, CancellationToken cancellationToken)
    {
        var deadline = _options.RequestDeadline;
        var deadlineUnixMs = deadline is { } d ? DateTimeOffset.UtcNow.Add(d).ToUnixTimeMilliseconds() : 0;
        using var timer = deadline is { } t ? new CancellationTokenSource(t) : null;
        using var linked = timer is null ? null : CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timer.Token);
        var token = linked?.Token ?? cancellationToken;
        // Each failure takes a node out, so the attempts are bounded by the nodes there are (plus ones that join).
        for (var attempt = 0; ; attempt++)
        {
            NodeLane lane;
            try
            {
                lane = await _lanes.AcquireAsync(token);
            }
            catch (OperationCanceledException) when (timer?.IsCancellationRequested == true && !cancellationToken.IsCancellationRequested)
            {
                throw new ClusterDeadlineException($"model {_model.Digest}: waiting for a node slot", deadline!.Value);
            }
            var completed = false;
            try
            {
                var reply = await lane.RunAsync(inputs, deadlineUnixMs, token);
                completed = true;
                return new ClusterRunResult(reply.Node, reply.Outputs.Select(o => o.Name).ToArray(), reply.Outputs.Select(o => o.ToTensor()).ToArray());
            }
            catch (OperationCanceledException) when (timer?.IsCancellationRequested == true && !cancellationToken.IsCancellationRequested)
            {
                throw new ClusterDeadlineException($"node '{lane.Node}', model {_model.Digest}", deadline!.Value);
            }
            catch (Exception e) when (IsNodeFault(e, token) && attempt < 64)
            {
                _lanes.MarkFailed(lane);
                Interlocked.Increment(ref _retries);
            }
            finally
            {
                _lanes.Release(lane, completed);
            }
        }
    }

    /// <summary>A failure of the node or the link (retry elsewhere), not of the request itself.</summary>
    internal static bool IsNodeFault(Exception e, CancellationToken token) => e switch
    {
        OperationCanceledException => !token.IsCancellationRequested,
        NodeUnavailableException or TimeoutException => true,
        ClusterException or AccelSdkException => false,
        Orleans.Runtime.OrleansException or System.Net.Sockets.SocketException or IOException => true,
        _ => false,
    };

    private async Task WatchMembershipAsync()
    {
        var token = _closing.Token;
        // A node that could not take the model is tried again later and later (up to 30 s), not every refresh.
        var retryAt = new Dictionary<string, (DateTime At, TimeSpan Wait)>(StringComparer.Ordinal);
        while (!token.IsCancellationRequested)
        {
            await Task.Delay(_cluster.Options.MembershipRefresh, token);
            IReadOnlyList<string> active;
            try
            {
                active = await _cluster.GetActiveNodesAsync(token);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                continue;
            }
            foreach (var lane in _lanes.Snapshot().Where(l => l.Healthy && l.Members.Any(m => !active.Contains(m))))
                _lanes.MarkFailed(lane);
            foreach (var node in active.Where(n => !_lanes.Contains(n) && (_options.Nodes is null || _options.Nodes.Contains(n))))
            {
                if (retryAt.TryGetValue(node, out var next) && DateTime.UtcNow < next.At) continue;
                try
                {
                    await AdmitAsync(node, token);
                    retryAt.Remove(node);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    var wait = retryAt.TryGetValue(node, out var last) ? TimeSpan.FromTicks(Math.Min(last.Wait.Ticks * 2, TimeSpan.FromSeconds(30).Ticks)) : TimeSpan.FromSeconds(2);
                    retryAt[node] = (DateTime.UtcNow + wait, wait);
                }
            }
        }
    }

    /// <summary>Uploads and prepares the model on a node that joined, measures it, and gives it a share of the load.</summary>
    private async Task AdmitAsync(string node, CancellationToken cancellationToken)
    {
        await _cluster.EnsureModelAsync(node, _model, cancellationToken);
        var grain = (await _cluster.GrainsForAsync(node, cancellationToken)).GetGrain<IInferenceGrain>(NodeKeys.Of(node, _model.Digest));
        await grain.PrepareAsync(_prepare, cancellationToken);
        var sample = _prepare.SampleInputs ?? TensorPayload.FromInputs(LocalRuntime.SampleInputs(_model.Path));
        var median = await AccelCluster.MedianLatencyAsync(grain, sample, 1, 3, cancellationToken);
        var standby = Selection.Placement != ClusterPlacement.DataParallel;
        _lanes.Add(new NodeLane(node, grain, 1000.0 / Math.Max(0.01, median), standby));
    }
}
