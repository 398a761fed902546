using System.Runtime.ExceptionServices;
using AccelSdk.Backends;

namespace AccelSdk.Execution;

/// <summary>Partitions on different devices that do not depend on each other run at the same time within one run.</summary>
public sealed partial class AccelSession
{
    // Null when no two partitions of the plan could overlap (a chain, or one device): runs then go partition by partition.
    private readonly PartitionSchedule? _overlap;

    /// <summary>
    /// True (default): within one run, partitions on different devices whose inputs are ready run at the same time, each
    /// on its own thread (a GPU partition next to a CPU branch, two CPU runtimes on separate cores); at most one partition
    /// runs per device. Only plans with such independent partitions are affected. False runs them one after another in
    /// plan order.
    /// </summary>
    public bool OverlapPartitions { get; set; } = true;

    /// <summary>
    /// Runs every partition as soon as the partitions it reads from are done and its device is free, on dedicated
    /// threads (thread-pool starvation must not serialise them). The first failure stops further launches; the
    /// partitions already running finish before it is rethrown.
    /// </summary>
    private void RunOverlapped(InFlight item, CancellationToken cancellationToken)
    {
        var schedule = _overlap!;
        var n = _compiled.Length;
        var state = new PartitionState[n];
        var running = new List<(int Partition, Task Task)>();
        Exception? failure = null;
        while (true)
        {
            for (var p = 0; p < n && failure is null; p++)
            {
                if (state[p] != PartitionState.Waiting || !schedule.Ready(p, state) || running.Exists(r => schedule.SameDevice(r.Partition, p))) continue;
                if (cancellationToken.IsCancellationRequested)
                {
                    failure = new OperationCanceledException(cancellationToken);
                    break;
                }
                state[p] = PartitionState.Running;
                var partition = p;
                running.Add((p, Task.Factory.StartNew(() => RunPartition(partition, item, cancellationToken), CancellationToken.None,
                    TaskCreationOptions.LongRunning, TaskScheduler.Default)));
            }
            if (running.Count == 0) break;
            var index = Task.WaitAny(running.Select(r => r.Task).ToArray());
            var (finished, task) = running[index];
            running.RemoveAt(index);
            state[finished] = PartitionState.Done;
            if (task.Exception is { } e) failure ??= e.InnerException ?? e;
        }
        if (failure is not null) ExceptionDispatchInfo.Capture(failure).Throw();
    }

    private enum PartitionState : byte
    {
        Waiting,
        Running,
        Done,
    }

    /// <summary>Which partitions each partition reads from, and whether any two could run at once.</summary>
    private sealed class PartitionSchedule
    {
        private readonly int[][] _readsFrom;
        private readonly string[] _devices;

        private PartitionSchedule(int[][] readsFrom, string[] devices)
        {
            _readsFrom = readsFrom;
            _devices = devices;
        }

        public bool Ready(int p, PartitionState[] state) => Array.TrueForAll(_readsFrom[p], d => state[d] == PartitionState.Done);

        public bool SameDevice(int a, int b) => _devices[a] == _devices[b];

        /// <summary>The schedule of <paramref name="plan"/>, or null when every pair of partitions depends on each other or shares a device.</summary>
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
            // after[p] = every partition that (transitively) reads from p.
            var reaches = new bool[n, n];
            for (var p = 0; p < n; p++)
            {
                foreach (var d in readsFrom[p])
                {
                    reaches[d, p] = true;
                    for (var x = 0; x < n; x++) if (reaches[x, d]) reaches[x, p] = true;
                }
            }
            var devices = plan.Partitions.Select(p => p.Device.Id).ToArray();
            for (var a = 0; a < n; a++)
            {
                for (var b = a + 1; b < n; b++)
                {
                    if (!reaches[a, b] && devices[a] != devices[b]) return new PartitionSchedule(readsFrom, devices);
                }
            }
            return null;
        }
    }
}
