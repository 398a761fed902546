using AccelSdk.Backends;

namespace AccelSdk.Execution;

/// <summary>Which partitions each partition reads from, and which may start while others run.</summary>
internal sealed class PartitionSchedule
{
    private readonly int[][] _readsFrom;
    private readonly Device[] _devices;
    // Per overlap setting: whether some two partitions could run at once (independent, not holding the same unit).
    private readonly Dictionary<PartitionOverlap, bool> _overlaps;

    public enum State : byte
    {
        Waiting,
        Running,
        Done,
    }

    /// <summary>A schedule of partitions on <paramref name="devices"/>, partition p reading the outputs of <c>readsFrom[p]</c> (all earlier: plan order is topological).</summary>
    internal PartitionSchedule(int[][] readsFrom, IReadOnlyList<Device> devices)
    {
        _readsFrom = readsFrom;
        _devices = devices.ToArray();
        var independent = Independent(readsFrom);
        _overlaps = Enum.GetValues<PartitionOverlap>().ToDictionary(o => o, o => independent.Any(pair =>
            o.ExclusiveUnitOf(_devices[pair.A]) != o.ExclusiveUnitOf(_devices[pair.B])));
    }

    /// <summary>The schedule of <paramref name="plan"/>, or null for a one-partition plan.</summary>
    public static PartitionSchedule? For(ExecutionPlan plan)
    {
        var n = plan.Partitions.Count;
        if (n < 2) return null;
        var producer = new Dictionary<string, int>(StringComparer.Ordinal);
        var readsFrom = new int[n][];
        for (var p = 0; p < n; p++)
        {
            readsFrom[p] = plan.Partitions[p].InputNames.Where(producer.ContainsKey).Select(v => producer[v]).Distinct().ToArray();
            foreach (var name in plan.Partitions[p].OutputNames) producer[name] = p;
        }
        return new PartitionSchedule(readsFrom, plan.Partitions.Select(p => p.Device).ToArray());
    }

    /// <summary>True when under <paramref name="overlap"/> some two partitions could run at the same time; else plan order is the schedule.</summary>
    public bool Overlaps(PartitionOverlap overlap) => _overlaps[overlap];

    /// <summary>
    /// The waiting partitions that start now, in plan order: their inputs are done and no running partition (nor one
    /// started before them in this call) holds their processor, or device, under <paramref name="overlap"/>.
    /// </summary>
    public List<int> Startable(State[] state, PartitionOverlap overlap)
    {
        var held = new HashSet<string>(StringComparer.Ordinal);
        for (var p = 0; p < state.Length; p++)
        {
            if (state[p] == State.Running) held.Add(overlap.ExclusiveUnitOf(_devices[p]));
        }
        var start = new List<int>();
        for (var p = 0; p < state.Length; p++)
        {
            if (state[p] != State.Waiting || !Array.TrueForAll(_readsFrom[p], d => state[d] == State.Done)) continue;
            if (held.Add(overlap.ExclusiveUnitOf(_devices[p]))) start.Add(p);
        }
        return start;
    }

    /// <summary>Pairs of partitions neither of which (transitively) reads from the other.</summary>
    private static List<(int A, int B)> Independent(int[][] readsFrom)
    {
        var n = readsFrom.Length;
        // reaches[x, p]: p (transitively) reads from x.
        var reaches = new bool[n, n];
        for (var p = 0; p < n; p++)
        {
            foreach (var d in readsFrom[p])
            {
                reaches[d, p] = true;
                for (var x = 0; x < n; x++) if (reaches[x, d]) reaches[x, p] = true;
            }
        }
        var pairs = new List<(int, int)>();
        for (var a = 0; a < n; a++)
        {
            for (var b = a + 1; b < n; b++)
            {
                if (!reaches[a, b]) pairs.Add((a, b));
            }
        }
        return pairs;
    }
}
