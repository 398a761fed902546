using AccelSdk.Autotune.Placement;
using AccelSdk.Backends;
using AccelSdk.Execution;
using AccelSdk.Ir;
using AccelSdk.Selection;

namespace AccelSdk.Autotune;

public static partial class Autotuner
{
    /// <summary>Cap in bytes per candidate (by device id, else backend name: <see cref="CandidateRules.MemoryCap"/>), null where uncapped.</summary>
    private static long?[] Caps(List<DeviceTarget> candidates, IReadOnlyDictionary<string, long>? limits) =>
        candidates.Select(c => CandidateRules.MemoryCap(limits, c.Device)).ToArray();

    /// <summary>Devices of <paramref name="plan"/> over their cap: (candidate index, needed, allowed).</summary>
    private static List<(int Candidate, long Needed, long Allowed)> OverCap(ExecutionPlan plan, List<DeviceTarget> candidates, long?[] caps, Func<string, long> bytesOf)
    {
        var over = new List<(int, long, long)>();
        foreach (var f in MemoryEstimate.Of(plan, bytesOf))
        {
            var k = candidates.FindIndex(c => c.Device.Id == f.DeviceId);
            if (k >= 0 && caps[k] is { } cap && f.TotalBytes > cap) over.Add((k, f.TotalBytes, cap));
        }
        return over;
    }

    /// <summary>
    /// Re-solves the placement until the plan's estimated footprint fits every cap: on each device over its cap, the
    /// nodes holding the most bytes (weights read plus outputs) that another device can run are forbidden there until
    /// the excess is covered, then the solver runs again. Returns null with the reason when no placement fits.
    /// </summary>
    private static (int[] Assignment, double PredictedMs)? FitCaps((int[] Assignment, double PredictedMs)? solved, Model model, List<SolverNode> solverNodes,
        Func<(int[] Assignment, double PredictedMs)?> solve, List<DeviceTarget> candidates, long?[] caps,
        Dictionary<string, Ir.ValueType> types, Func<string, long> bytesOf, out string? error)
    {
        error = null;
        if (caps.All(c => c is null)) return solved;
        var nodes = model.Graph.Nodes;
        var initializerBytes = model.Graph.Initializers.ToDictionary(t => t.Name ?? "", t => t.IsString ? 0 : t.ByteLength, StringComparer.Ordinal);
        long NodeBytes(int i) => nodes[i].Inputs.Sum(v => initializerBytes.GetValueOrDefault(v)) + nodes[i].Outputs.Where(o => o.Length > 0).Sum(bytesOf);
        for (var attempt = 0; attempt <= nodes.Count; attempt++)
        {
            if (solved is not { } s)
            {
                error = "no placement fits the memory caps";
                return null;
            }
            var plan = PlanBuilder.Build(model, s.Assignment.Select(k => new Execution.Placement(candidates[k].Backend, candidates[k].Device)).ToArray(), types);
            var over = OverCap(plan, candidates, caps, bytesOf);
            if (over.Count == 0) return solved;
            var moved = false;
            foreach (var (k, needed, allowed) in over)
            {
                var excess = needed - allowed;
                foreach (var i in Enumerable.Range(0, nodes.Count).Where(i => s.Assignment[i] == k).OrderByDescending(NodeBytes))
                {
                    if (excess <= 0) break;
                    var costs = solverNodes[i].CostMs;
                    if (!costs.Where((c, j) => j != k && !double.IsPositiveInfinity(c)).Any()) continue;
                    costs[k] = double.PositiveInfinity;
                    excess -= Math.Max(1, NodeBytes(i));
                    moved = true;
                }
            }
            if (!moved)
            {
                var (k, needed, allowed) = over[0];
                error = $"{candidates[k].Device.Id} needs {needed:N0} bytes, {allowed:N0} allowed, and no other device runs its remaining nodes";
                return null;
            }
            solved = solve();
        }
        error = "no placement fits the memory caps";
        return null;
    }
}
