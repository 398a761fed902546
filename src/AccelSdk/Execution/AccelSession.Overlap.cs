using System.Runtime.ExceptionServices;
using AccelSdk.Backends;

namespace AccelSdk.Execution;

/// <summary>Independent partitions of one run on different processors (or, on request, devices) run at the same time.</summary>
public sealed partial class AccelSession
{
    // Null for a one-partition plan: runs then go partition by partition.
    private readonly PartitionSchedule? _overlap;

    /// <summary>
    /// Which partitions of one run may run at the same time, each on its own thread, once the partitions they read from
    /// are done. <see cref="Execution.PartitionOverlap.AcrossProcessors"/> (default): partitions on different processors
    /// (<see cref="Device.Processor"/>: a GPU partition next to a CPU branch); partitions of CPU runtimes share the cores
    /// and run one after another, as the autotuner predicts. <see cref="Execution.PartitionOverlap.AcrossDevices"/>: at
    /// most one partition per device, so two CPU runtimes overlap too (for machines with cores to spare).
    /// <see cref="Execution.PartitionOverlap.None"/>: plan order. Plans with no such independent partitions (chains)
    /// always run in plan order. A session from the autotuner runs with the setting its plan was measured with.
    /// </summary>
    public PartitionOverlap PartitionOverlap { get; set; } = PartitionOverlap.AcrossProcessors;

    /// <summary>
    /// Runs every partition as soon as the partitions it reads from are done and nothing running holds its processor
    /// (or device), on dedicated threads (thread-pool starvation must not serialise them). The first failure stops
    /// further launches; the partitions already running finish before it is rethrown.
    /// </summary>
    private void RunOverlapped(InFlight item, PartitionOverlap overlap, CancellationToken cancellationToken)
    {
        var schedule = _overlap!;
        var state = new PartitionSchedule.State[_compiled.Length];
        var running = new List<(int Partition, Task Task)>();
        Exception? failure = null;
        while (true)
        {
            foreach (var p in failure is null ? schedule.Startable(state, overlap) : new List<int>())
            {
                if (cancellationToken.IsCancellationRequested)
                {
                    failure = new OperationCanceledException(cancellationToken);
                    break;
                }
                state[p] = PartitionSchedule.State.Running;
                var partition = p;
                running.Add((p, Task.Factory.StartNew(() => RunPartition(partition, item, cancellationToken), CancellationToken.None,
                    TaskCreationOptions.LongRunning, TaskScheduler.Default)));
            }
            if (running.Count == 0) break;
            var index = Task.WaitAny(running.Select(r => r.Task).ToArray());
            var (finished, task) = running[index];
            running.RemoveAt(index);
            state[finished] = PartitionSchedule.State.Done;
            if (task.Exception is { } e) failure ??= e.InnerException ?? e;
        }
        if (failure is not null) ExceptionDispatchInfo.Capture(failure).Throw();
    }
}
