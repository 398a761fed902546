using AccelSdk.Backends;

namespace AccelSdk.Autotune.Placement;

/// <summary>What the solver knows about one device.</summary>
/// <param name="MemorySpace">Where its tensors live; a value crossing spaces pays a transfer.</param>
/// <param name="CallOverheadMs">Fixed cost of running one partition (session call, launch), paid once per partition.</param>
/// <param name="Processor">
/// What a partition on it holds while it runs (by default its <see cref="Device.Processor"/>: <c>cpu</c>, <c>cuda:0</c>):
/// partitions on devices with one processor run one after another (ort-cpu and ilgpu-cpu share the cores), on
/// different processors at the same time, as the session schedules them. Null: a processor of its own.
/// </param>
internal sealed record SolverDevice(MemorySpace MemorySpace, double CallOverheadMs, string? Processor = null);

/// <summary>What the solver knows about one node.</summary>
/// <param name="CostMs">Run time per device without the call overhead; +infinity where it cannot or must not run.</param>
/// <param name="Inputs">Values it reads: the producing node (-1 for a graph input, in host memory) and their size.</param>
internal sealed record SolverNode(double[] CostMs, IReadOnlyList<(string Value, int Producer, long Bytes)> Inputs);

/// <summary>
/// Chooses a device per node minimising predicted end-to-end latency, by dynamic programming over the graph's
/// topological order (Viterbi style). The state after node i is the device of node i; each state keeps its best path.
/// Extending a path by a node on device d costs the node's time on d, a call overhead when d starts a new partition,
/// and a transfer for each input produced in another memory space that the current partition has not already brought
/// in (charged exactly along the kept path, since the session moves a value once per consuming partition); at the end
/// every graph output left outside host memory pays a download.
/// <para>A plan's latency (<see cref="Evaluate"/>) is that of the session's schedule, not a sum: partitions are
/// consecutive nodes on one device, each starts once the partitions it reads from are done and its processor is free,
/// so independent partitions on different processors cost the longer of the two, as <c>AccelSession.PartitionOverlap</c>
/// runs them. The dynamic programme sums along its path (which is exact for chains); a local search then moves a whole
/// partition, or a node together with the nodes that read it, to another device while the scheduled latency drops,
/// which finds branches worth running side by side.</para>
/// <para>Limits: on DAGs only the best path per (node, device) survives the dynamic programme, so a placement whose
/// payoff depends on a non-adjacent earlier choice can be missed; nodes keep graph order (independent branches are not
/// reordered). Per-node times include no fusion a backend would do across nodes, nor two runtimes slowing each other on
/// shared memory bandwidth; that is why the result is always measured against single-backend plans.</para>
/// </summary>
internal static class PlacementSolver
{
    /// <summary>The best device index per node and its predicted latency; null when some node has no usable device.</summary>
    public static (int[] Assignment, double PredictedMs)? Solve(IReadOnlyList<SolverNode> nodes, IReadOnlyList<SolverDevice> devices,
        IReadOnlyList<(int Producer, long Bytes)> graphOutputs, Func<MemorySpace, MemorySpace, long, double> transferMs,
        Func<MemorySpace, long, double>? outputMs = null)
    {
        var n = nodes.Count;
        var d = devices.Count;
        if (n == 0) return (Array.Empty<int>(), 0);
        var cost = new double[d];
        var paths = new int[d][];
        for (var dev = 0; dev < d; dev++)
        {
            paths[dev] = new int[n];
            paths[dev][0] = dev;
            cost[dev] = nodes[0].CostMs[dev] + devices[dev].CallOverheadMs + InputTransfers(nodes, devices, paths[dev], 0, transferMs);
        }
        for (var i = 1; i < n; i++)
        {
            var nextCost = new double[d];
            var nextPaths = new int[d][];
            for (var dev = 0; dev < d; dev++)
            {
                nextCost[dev] = double.PositiveInfinity;
                var own = nodes[i].CostMs[dev];
                if (double.IsPositiveInfinity(own))
                {
                    nextPaths[dev] = paths[dev];
                    continue;
                }
                var bestFrom = -1;
                for (var prev = 0; prev < d; prev++)
                {
                    if (double.IsPositiveInfinity(cost[prev])) continue;
                    var path = paths[prev];
                    path[i] = dev;
                    var c = cost[prev] + own + (prev != dev ? devices[dev].CallOverheadMs : 0) + InputTransfers(nodes, devices, path, i, transferMs);
                    if (c < nextCost[dev])
                    {
                        nextCost[dev] = c;
                        bestFrom = prev;
                    }
                }
                if (bestFrom >= 0)
                {
                    var copy = (int[])paths[bestFrom].Clone();
                    copy[i] = dev;
                    nextPaths[dev] = copy;
                }
                else
                {
                    nextPaths[dev] = paths[dev];
                }
            }
            cost = nextCost;
            paths = nextPaths;
        }
        var best = -1;
        var bestCost = double.PositiveInfinity;
        for (var dev = 0; dev < d; dev++)
        {
            if (double.IsPositiveInfinity(cost[dev])) continue;
            var total = cost[dev] + OutputDownloads(devices, paths[dev], graphOutputs, transferMs, outputMs);
            if (total < bestCost)
            {
                bestCost = total;
                best = dev;
            }
        }
        if (best < 0) return null;
        double Latency(int[] assignment) => Evaluate(nodes, devices, graphOutputs, transferMs, assignment, outputMs) ?? double.PositiveInfinity;
        return ImproveByMovingPartitions(nodes, d, paths[best], Latency);
    }

    private const int MaxImprovementPasses = 16;

    /// <summary>
    /// Per pass, the one move that lowers the scheduled latency most, until none does: a whole partition (a run of
    /// consecutive nodes on one device), or a node with its readers, to another device. The dynamic programme's sums
    /// cannot see two branches overlapping on two processors.
    /// </summary>
    private static (int[] Assignment, double PredictedMs) ImproveByMovingPartitions(IReadOnlyList<SolverNode> nodes, int deviceCount, int[] start,
        Func<int[], double> latency)
    {
        var best = start;
        var bestMs = latency(best);
        for (var pass = 0; pass < MaxImprovementPasses; pass++)
        {
            var (moved, movedMs) = (default(int[]), bestMs);
            void Try(int[] candidate)
            {
                var ms = latency(candidate);
                if (ms < movedMs - 1e-9) (moved, movedMs) = (candidate, ms);
            }
            foreach (var (first, last) in Runs(best))
            {
                for (var dev = 0; dev < deviceCount; dev++)
                {
                    if (dev == best[first] || !AllUsable(nodes, first, last, dev)) continue;
                    var candidate = (int[])best.Clone();
                    Array.Fill(candidate, dev, first, last - first + 1);
                    Try(candidate);
                }
            }
            for (var i = 0; i < nodes.Count; i++)
            {
                var readers = ReadersOf(nodes, i);
                for (var dev = 0; dev < deviceCount; dev++)
                {
                    if (dev == best[i] || double.IsPositiveInfinity(nodes[i].CostMs[dev]) || readers.Exists(r => double.IsPositiveInfinity(nodes[r].CostMs[dev]))) continue;
                    // A node with the nodes that read it: a branch leaves its partition and the join follows it, so the
                    // other branch can run beside it (partitions are runs of consecutive nodes).
                    var candidate = (int[])best.Clone();
                    candidate[i] = dev;
                    foreach (var r in readers) candidate[r] = dev;
                    Try(candidate);
                }
            }
            if (moved is null) break;
            (best, bestMs) = (moved, movedMs);
        }
        return (best, bestMs);
    }

    private static List<int> ReadersOf(IReadOnlyList<SolverNode> nodes, int producer)
    {
        var readers = new List<int>();
        for (var r = producer + 1; r < nodes.Count; r++)
        {
            foreach (var input in nodes[r].Inputs)
            {
                if (input.Producer != producer) continue;
                readers.Add(r);
                break;
            }
        }
        return readers;
    }

    private static bool AllUsable(IReadOnlyList<SolverNode> nodes, int first, int last, int dev)
    {
        for (var i = first; i <= last; i++)
        {
            if (double.IsPositiveInfinity(nodes[i].CostMs[dev])) return false;
        }
        return true;
    }

    /// <summary>The partitions of an assignment: first and last node of each run of consecutive nodes on one device.</summary>
    private static List<(int First, int Last)> Runs(int[] assignment)
    {
        var runs = new List<(int, int)>();
        for (var i = 0; i < assignment.Length; i++)
        {
            if (i == 0 || assignment[i - 1] != assignment[i]) runs.Add((i, i));
            else runs[^1] = (runs[^1].Item1, i);
        }
        return runs;
    }

    /// <summary>
    /// The predicted latency of a given assignment under the same cost model, scheduled as the session runs it (see the
    /// class remarks); null when it uses an unusable device.
    /// </summary>
    public static double? Evaluate(IReadOnlyList<SolverNode> nodes, IReadOnlyList<SolverDevice> devices,
        IReadOnlyList<(int Producer, long Bytes)> graphOutputs, Func<MemorySpace, MemorySpace, long, double> transferMs, int[] assignment,
        Func<MemorySpace, long, double>? outputMs = null)
    {
        var runs = Runs(assignment);
        var partitionCost = new double[runs.Count];
        var partitionOf = new int[nodes.Count];
        for (var p = 0; p < runs.Count; p++)
        {
            var dev = assignment[runs[p].First];
            partitionCost[p] = devices[dev].CallOverheadMs;
            for (var i = runs[p].First; i <= runs[p].Last; i++)
            {
                var own = nodes[i].CostMs[dev];
                if (double.IsPositiveInfinity(own)) return null;
                partitionCost[p] += own + InputTransfers(nodes, devices, assignment, i, transferMs);
                partitionOf[i] = p;
            }
        }
        var processors = runs.Select(r => devices[assignment[r.First]].Processor ?? $"#device{assignment[r.First]}").ToArray();
        var readsFrom = runs.Select((r, p) => Enumerable.Range(r.First, r.Last - r.First + 1)
            .SelectMany(i => nodes[i].Inputs).Where(x => x.Producer >= 0 && partitionOf[x.Producer] != p)
            .Select(x => partitionOf[x.Producer]).Distinct().ToArray()).ToArray();
        return Schedule(partitionCost, readsFrom, processors) + OutputDownloads(devices, assignment, graphOutputs, transferMs, outputMs);
    }

    /// <summary>
    /// When the last partition finishes if each starts, in plan order, as soon as the partitions it reads from are done
    /// and its processor is free (the session's <c>RunOverlapped</c>). A chain, or one processor, gives the plain sum.
    /// </summary>
    internal static double Schedule(double[] cost, int[][] readsFrom, string[] processors)
    {
        var n = cost.Length;
        var finish = new double[n];
        var started = new bool[n];
        var done = new bool[n];
        var busyUntil = new Dictionary<string, (int Partition, double Until)>(StringComparer.Ordinal);
        var now = 0.0;
        for (var completed = 0; completed < n;)
        {
            for (var p = 0; p < n; p++)
            {
                if (started[p] || busyUntil.ContainsKey(processors[p]) || !Array.TrueForAll(readsFrom[p], q => done[q])) continue;
                started[p] = true;
                finish[p] = now + cost[p];
                busyUntil[processors[p]] = (p, finish[p]);
            }
            var next = busyUntil.MinBy(kv => kv.Value.Until);
            now = next.Value.Until;
            done[next.Value.Partition] = true;
            busyUntil.Remove(next.Key);
            completed++;
        }
        return n == 0 ? 0 : finish.Max();
    }

    private static double InputTransfers(IReadOnlyList<SolverNode> nodes, IReadOnlyList<SolverDevice> devices, int[] path, int i,
        Func<MemorySpace, MemorySpace, long, double> transferMs)
    {
        var dev = path[i];
        var space = devices[dev].MemorySpace;
        var runStart = i;
        while (runStart > 0 && path[runStart - 1] == dev) runStart--;
        var total = 0.0;
        foreach (var (value, producer, bytes) in nodes[i].Inputs)
        {
            if (producer >= runStart) continue;
            var from = producer < 0 ? MemorySpace.Host : devices[path[producer]].MemorySpace;
            if (from == space) continue;
            var already = false;
            for (var k = runStart; k < i && !already; k++)
            {
                foreach (var input in nodes[k].Inputs)
                {
                    if (input.Value == value)
                    {
                        already = true;
                        break;
                    }
                }
            }
            if (!already) total += transferMs(from, space, bytes);
        }
        return total;
    }

    /// <summary>What handing the graph outputs to the caller costs: <paramref name="outputMs"/> (a download, no direct path applies) or else a transfer to host memory.</summary>
    private static double OutputDownloads(IReadOnlyList<SolverDevice> devices, int[] path, IReadOnlyList<(int Producer, long Bytes)> outputs,
        Func<MemorySpace, MemorySpace, long, double> transferMs, Func<MemorySpace, long, double>? outputMs)
    {
        var total = 0.0;
        foreach (var (producer, bytes) in outputs)
        {
            if (producer < 0) continue;
            var space = devices[path[producer]].MemorySpace;
            if (!space.IsHost) total += outputMs?.Invoke(space, bytes) ?? transferMs(space, MemorySpace.Host, bytes);
        }
        return total;
    }
}
