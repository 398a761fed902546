using AccelSdk.Backends;
using AccelSdk.Execution;

namespace AccelSdk.Tests;

/// <summary>
/// Which partitions of one run may start while others run: the session's schedule logic on device descriptions (our
/// own logic; AccelSdk.Ilgpu.Tests' OverlapTests runs real ONNX Runtime and ILGPU partitions through it).
/// </summary>
public sealed class PartitionOverlapTests
{
    private static readonly Device OrtCpu = new("ort", "ort-cpu", "ONNX Runtime CPU", DeviceKind.Cpu);
    private static readonly Device IlgpuCpu = new("ilgpu", "ilgpu-cpu", "ILGPU CPU accelerator", DeviceKind.Cpu, MemorySpace.BackendPrivate("ilgpu-cpu", hostAddressable: true));
    private static readonly Device OrtCuda0 = new("ort", "ort-cuda:0", "fake CUDA GPU 0", DeviceKind.Gpu, MemorySpace.CudaDevice(0));
    private static readonly Device IlgpuCuda0 = new("ilgpu", "ilgpu-cuda:0", "fake CUDA GPU 0", DeviceKind.Gpu, MemorySpace.CudaDevice(0, "ilgpu-cuda:0"));
    private static readonly Device IlgpuCuda1 = new("ilgpu", "ilgpu-cuda:1", "fake CUDA GPU 1", DeviceKind.Gpu, MemorySpace.CudaDevice(1, "ilgpu-cuda:1"));

    // p0 (stem) -> p1 and p2 (independent branches) -> p3 (join).
    private static readonly int[][] TwoBranches = [[], [0], [0], [1, 2]];

    [Fact]
    public void Every_CPU_device_is_the_one_processor_cpu_and_a_CUDA_device_its_ordinal()
    {
        Assert.Equal("cpu", OrtCpu.Processor);
        Assert.Equal("cpu", IlgpuCpu.Processor);
        Assert.Equal("cuda:0", OrtCuda0.Processor);
        Assert.Equal("cuda:0", IlgpuCuda0.Processor);
        Assert.Equal("cuda:1", IlgpuCuda1.Processor);
        Assert.Equal("ilgpu-opencl:0", new Device("ilgpu", "ilgpu-opencl:0", "fake OpenCL GPU", DeviceKind.Gpu, MemorySpace.OpenCl("ilgpu-opencl:0")).Processor);
        Assert.Equal("npu-in-host-memory", new Device("fake", "npu-in-host-memory", "fake NPU", DeviceKind.Accelerator).Processor);
    }

    [Fact]
    public void By_default_a_GPU_branch_starts_beside_a_CPU_branch()
    {
        var schedule = new PartitionSchedule(TwoBranches, [OrtCpu, OrtCuda0, IlgpuCpu, OrtCpu]);
        Assert.True(schedule.Overlaps(PartitionOverlap.AcrossProcessors));
        var state = new PartitionSchedule.State[4];
        Assert.Equal([0], schedule.Startable(state, PartitionOverlap.AcrossProcessors));
        state[0] = PartitionSchedule.State.Done;
        Assert.Equal([1, 2], schedule.Startable(state, PartitionOverlap.AcrossProcessors));
        // The join waits for both branches.
        state[1] = PartitionSchedule.State.Done;
        state[2] = PartitionSchedule.State.Running;
        Assert.Empty(schedule.Startable(state, PartitionOverlap.AcrossProcessors));
        state[2] = PartitionSchedule.State.Done;
        Assert.Equal([3], schedule.Startable(state, PartitionOverlap.AcrossProcessors));
    }

    [Fact]
    public void By_default_two_CPU_runtimes_take_turns_and_overlap_only_across_devices()
    {
        var schedule = new PartitionSchedule(TwoBranches, [OrtCpu, OrtCpu, IlgpuCpu, OrtCpu]);
        Assert.False(schedule.Overlaps(PartitionOverlap.AcrossProcessors));
        Assert.True(schedule.Overlaps(PartitionOverlap.AcrossDevices));
        var state = new PartitionSchedule.State[4];
        state[0] = PartitionSchedule.State.Done;
        Assert.Equal([1], schedule.Startable(state, PartitionOverlap.AcrossProcessors));
        Assert.Equal([1, 2], schedule.Startable(state, PartitionOverlap.AcrossDevices));
        state[1] = PartitionSchedule.State.Running;
        Assert.Empty(schedule.Startable(state, PartitionOverlap.AcrossProcessors));
        Assert.Equal([2], schedule.Startable(state, PartitionOverlap.AcrossDevices));
    }

    [Fact]
    public void Two_runtimes_on_one_GPU_take_turns_and_two_GPUs_overlap()
    {
        Assert.False(new PartitionSchedule(TwoBranches, [OrtCpu, OrtCuda0, IlgpuCuda0, OrtCpu]).Overlaps(PartitionOverlap.AcrossProcessors));
        Assert.True(new PartitionSchedule(TwoBranches, [OrtCpu, OrtCuda0, IlgpuCuda1, OrtCpu]).Overlaps(PartitionOverlap.AcrossProcessors));
    }

    [Fact]
    public void A_chain_or_no_overlap_runs_in_plan_order()
    {
        var chain = new PartitionSchedule([[], [0], [1]], [OrtCpu, OrtCuda0, OrtCpu]);
        Assert.All(Enum.GetValues<PartitionOverlap>(), o => Assert.False(chain.Overlaps(o)));
        var branches = new PartitionSchedule(TwoBranches, [OrtCpu, OrtCuda0, IlgpuCpu, OrtCpu]);
        Assert.False(branches.Overlaps(PartitionOverlap.None));
        var state = new PartitionSchedule.State[4];
        state[0] = PartitionSchedule.State.Done;
        Assert.Equal([1], branches.Startable(state, PartitionOverlap.None));
    }

    [Fact]
    public void The_session_and_the_autotuner_share_one_rule_of_what_excludes_what()
    {
        Assert.Equal(PartitionOverlap.AcrossProcessors.ExclusiveUnitOf(OrtCpu), PartitionOverlap.AcrossProcessors.ExclusiveUnitOf(IlgpuCpu));
        Assert.NotEqual(PartitionOverlap.AcrossProcessors.ExclusiveUnitOf(OrtCpu), PartitionOverlap.AcrossProcessors.ExclusiveUnitOf(OrtCuda0));
        Assert.NotEqual(PartitionOverlap.AcrossDevices.ExclusiveUnitOf(OrtCpu), PartitionOverlap.AcrossDevices.ExclusiveUnitOf(IlgpuCpu));
        Assert.Equal(PartitionOverlap.None.ExclusiveUnitOf(OrtCpu), PartitionOverlap.None.ExclusiveUnitOf(OrtCuda0));
    }
}
