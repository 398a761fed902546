using AccelSdk.Backends;

namespace AccelSdk.Autotune.Placement;

/// <summary>What the solver knows about one device.</summary>
/// <param name="MemorySpace">Where its tensors live; a value crossing spaces pays a transfer.</param>
/// <param name="CallOverheadMs">Fixed cost of running one partition (session call, launch), paid once per partition.</param>
internal sealed record SolverDevice(MemorySpace MemorySpace, double CallOverheadMs);

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
/// <para>Limits: exact for chains; on DAGs only the best path per (node, device) survives, so a placement whose payoff
/// depends on a non-adjacent earlier choice can be missed; runs in graph order (no reordering of independent branches,
/// no concurrency between devices). Partitions are consecutive nodes, as the session runs them. Per-node times include
/// no fusion a backend would do across nodes; that is why the result is always measured against single-backend plans.</para>
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
        return best < 0 ? null : (paths[best], bestCost);
    }

    /// <summary>The predicted latency of a given assignment under the same cost model; null when it uses an unusable device.</summary>
    public static double? Evaluate(IReadOnlyList<SolverNode> nodes, IReadOnlyList<SolverDevice> devices,
        IReadOnlyList<(int Producer, long Bytes)> graphOutputs, Func<MemorySpace, MemorySpace, long, double> transferMs, int[] assignment,
        Func<MemorySpace, long, double>? outputMs = null)
    {
        var total = 0.0;
        for (var i = 0; i < nodes.Count; i++)
        {
            var dev = assignment[i];
            var own = nodes[i].CostMs[dev];
            if (double.IsPositiveInfinity(own)) return null;
            total += own + (i == 0 || assignment[i - 1] != dev ? devices[dev].CallOverheadMs : 0) + InputTransfers(nodes, devices, assignment, i, transferMs);
        }
        return total + OutputDownloads(devices, assignment, graphOutputs, transferMs, outputMs);
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
