using AccelSdk.Cluster.Grains;

namespace AccelSdk.Cluster.Client;

/// <summary>One node serving a session: its grain, its share of work and its bounded queue.</summary>
internal sealed class NodeLane(string node, IInferenceGrain grain, double weight, bool standby, SplitRoute? route = null)
{
    public string Node { get; } = node;
    public IInferenceGrain Grain { get; } = grain;

    /// <summary>A split model's stages (the lane then spans several nodes); null for a whole model on <see cref="Node"/>.</summary>
    public SplitRoute? Route { get; } = route;

    /// <summary>The nodes this lane needs alive.</summary>
    public IReadOnlyList<string> Members => Route?.Nodes ?? [Node];

    public Task<Wire.RunReply> RunAsync(Wire.TensorPayload[] inputs, long deadlineUnixMs, CancellationToken cancellationToken) =>
        Route is { } route ? route.RunAsync(inputs, deadlineUnixMs, cancellationToken) : Grain.RunAsync(inputs, deadlineUnixMs, cancellationToken);

    public double Weight { get; set; } = weight;
    public bool Standby { get; set; } = standby;
    public bool Healthy { get; set; } = true;
    public int InFlight { get; set; }
}

/// <summary>
/// The nodes of a session and their bounded queues. A request takes a slot on the healthy, active node with the lowest
/// load per unit of weight, or waits (FIFO) for one: the client holds back-pressure, never an unbounded queue on a node.
/// When no active node is healthy, the best standby is promoted.
/// </summary>
internal sealed class NodeLanes(int capacityPerNode)
{
    private readonly object _gate = new();
    private readonly List<NodeLane> _lanes = new();
    private readonly LinkedList<TaskCompletionSource> _waiters = new();

    // Kept by node name, not by lane: a node taken out by mistake (a slow answer) and admitted again gets a new lane,
    // and the answers its old lane gave still count.
    private readonly Dictionary<string, long> _completed = new(StringComparer.Ordinal);

    public int CapacityPerNode { get; } = capacityPerNode;

    public IReadOnlyList<NodeLane> Snapshot()
    {
        lock (_gate) return _lanes.ToList();
    }

    /// <summary>Answers taken from each node (or split route) so far.</summary>
    public IReadOnlyDictionary<string, long> CompletedByNode()
    {
        lock (_gate) return new Dictionary<string, long>(_completed, StringComparer.Ordinal);
    }

    public bool Contains(string node)
    {
        lock (_gate) return _lanes.Any(l => l.Node == node && l.Healthy);
    }

    public void Add(NodeLane lane)
    {
        lock (_gate)
        {
            _lanes.RemoveAll(l => l.Node == lane.Node);
            _lanes.Add(lane);
            _completed.TryAdd(lane.Node, 0);
        }
        WakeAll();
    }

    /// <summary>Takes the node out: its queued work is retried elsewhere by the callers.</summary>
    public void MarkFailed(NodeLane lane)
    {
        lock (_gate) lane.Healthy = false;
        WakeAll();
    }

    public async Task<NodeLane> AcquireAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            TaskCompletionSource waiter;
            LinkedListNode<TaskCompletionSource> entry;
            lock (_gate)
            {
                if (Pick() is { } lane)
                {
                    lane.InFlight++;
                    return lane;
                }
                if (!_lanes.Any(l => l.Healthy))
                    throw new ClusterException("no node of this session is available: " + string.Join(", ", _lanes.Select(l => l.Node + " (failed)")));
                waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                entry = _waiters.AddLast(waiter);
            }
            try
            {
                await waiter.Task.WaitAsync(cancellationToken);
            }
            catch (OperationCanceledException)
            {
                lock (_gate)
                {
                    if (entry.List is not null) _waiters.Remove(entry);
                    else WakeOneLocked();
                }
                throw;
            }
        }
    }

    public void Release(NodeLane lane, bool completed)
    {
        lock (_gate)
        {
            lane.InFlight--;
            if (completed) _completed[lane.Node] = _completed.GetValueOrDefault(lane.Node) + 1;
            WakeOneLocked();
        }
    }

    private NodeLane? Pick()
    {
        var active = _lanes.Where(l => l.Healthy && !l.Standby).ToList();
        if (active.Count == 0)
        {
            var promoted = _lanes.Where(l => l.Healthy).OrderByDescending(l => l.Weight).FirstOrDefault();
            if (promoted is null) return null;
            promoted.Standby = false;
            active.Add(promoted);
        }
        return active.Where(l => l.InFlight < CapacityPerNode)
            .OrderBy(l => (l.InFlight + 1) / Math.Max(1e-9, l.Weight))
            .FirstOrDefault();
    }

    private void WakeOneLocked()
    {
        if (_waiters.First is { } first)
        {
            _waiters.RemoveFirst();
            first.Value.TrySetResult();
        }
    }

    private void WakeAll()
    {
        List<TaskCompletionSource> all;
        lock (_gate)
        {
            all = _waiters.ToList();
            _waiters.Clear();
        }
        foreach (var w in all) w.TrySetResult();
    }
}
