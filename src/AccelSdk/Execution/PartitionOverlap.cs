using AccelSdk.Backends;

namespace AccelSdk.Execution;

/// <summary>Which partitions of one run <see cref="AccelSession"/> lets run at the same time (<see cref="AccelSession.PartitionOverlap"/>).</summary>
public enum PartitionOverlap
{
    /// <summary>None: partitions run one after another in plan order.</summary>
    None,

    /// <summary>
    /// Independent partitions on different processors (<see cref="Device.Processor"/>: a GPU partition next to a CPU
    /// branch) run at the same time; partitions on devices that share a processor (<c>ort-cpu</c> and
    /// <c>ilgpu-cpu</c> share the CPU's cores) run one after another. The default, and what the autotuner predicts.
    /// </summary>
    AcrossProcessors,

    /// <summary>
    /// Independent partitions on different devices run at the same time, even when the devices share a processor (two
    /// CPU runtimes side by side): worth it on a machine with more cores than one runtime uses.
    /// </summary>
    AcrossDevices,
}

/// <summary>The one rule, shared by the session's schedule and the autotuner's prediction, of which partitions exclude each other.</summary>
internal static class PartitionOverlapRules
{
    /// <summary>
    /// What a partition on <paramref name="device"/> holds while it runs under <paramref name="overlap"/>: two partitions
    /// holding the same one never run at the same time.
    /// </summary>
    public static string ExclusiveUnitOf(this PartitionOverlap overlap, Device device) => overlap switch
    {
        PartitionOverlap.None => "session",
        PartitionOverlap.AcrossDevices => "device " + device.Id,
        _ => "processor " + device.Processor,
    };
}
