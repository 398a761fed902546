using AccelSdk.Autotune.Placement;
using AccelSdk.Backends;
using AccelSdk.Execution;

namespace AccelSdk.Autotune.Tests;

public sealed class PlacementSolverTests
{
    private static readonly SolverDevice Host = new(MemorySpace.Host, 0.01);
    private static readonly SolverDevice Remote = new(MemorySpace.BackendPrivate("remote"), 0.01);

    // Transfers cost 1 ms fixed plus 1 ms per MiB in each direction.
    private static double Transfer(MemorySpace from, MemorySpace to, long bytes) =>
        (!from.IsHost ? 1 + bytes / 1048576.0 : 0) + (!to.IsHost ? 1 + bytes / 1048576.0 : 0);

    private static SolverNode Node(double host, double remote, params (string Value, int Producer)[] inputs) =>
        new(new[] { host, remote }, inputs.Select(i => (i.Value, i.Producer, 1048576L)).ToArray());

    [Fact]
    public void Moves_a_chain_segment_when_the_saving_exceeds_the_transfers()
    {
        // Middle nodes are 10 ms faster each on the remote device; moving in and out costs 2 + 2 ms.
        var nodes = new[]
        {
            Node(1, 5, ("x", -1)),
            Node(20, 10, ("a", 0)),
            Node(20, 10, ("b", 1)),
            Node(1, 5, ("c", 2)),
        };
        var solved = PlacementSolver.Solve(nodes, new[] { Host, Remote }, new[] { (3, 1048576L) }, Transfer)!.Value;
        Assert.Equal(new[] { 0, 1, 1, 0 }, solved.Assignment);
        Assert.Equal(PlacementSolver.Evaluate(nodes, new[] { Host, Remote }, new[] { (3, 1048576L) }, Transfer, solved.Assignment)!.Value, solved.PredictedMs, 9);
        Assert.True(solved.PredictedMs < PlacementSolver.Evaluate(nodes, new[] { Host, Remote }, new[] { (3, 1048576L) }, Transfer, new[] { 0, 0, 0, 0 })!.Value);
    }

    [Fact]
    public void Stays_on_one_device_when_transfers_eat_the_saving()
    {
        // The remote device saves 1 ms on one node but moving there and back costs 4 ms.
        var nodes = new[] { Node(1, 5, ("x", -1)), Node(3, 2, ("a", 0)), Node(1, 5, ("b", 1)) };
        var solved = PlacementSolver.Solve(nodes, new[] { Host, Remote }, new[] { (2, 1048576L) }, Transfer)!.Value;
        Assert.Equal(new[] { 0, 0, 0 }, solved.Assignment);
    }

    [Fact]
    public void Counts_a_skip_connection_read_from_a_non_adjacent_producer()
    {
        // Node 2 also reads the graph input x (a skip edge). Moving nodes 1 and 2 saves 2 x 2.5 ms and costs upload(a)
        // and download(c), 4 ms: worth it without the skip edge, but x must be uploaded too (2 ms), so it loses.
        var nodes = new[]
        {
            Node(1, 100, ("x", -1)),
            Node(4.5, 2, ("a", 0)),
            Node(4.5, 2, ("b", 1), ("x", -1)),
        };
        var outputs = new[] { (2, 1048576L) };
        var moved = PlacementSolver.Evaluate(nodes, new[] { Host, Remote }, outputs, Transfer, new[] { 0, 1, 1 })!.Value;
        var stayed = PlacementSolver.Evaluate(nodes, new[] { Host, Remote }, outputs, Transfer, new[] { 0, 0, 0 })!.Value;
        Assert.Equal(1 + 0.01 + 4.5 + 4.5, stayed, 9);
        Assert.Equal(1 + 0.01 + (2 + 0.01 + 2) + (2 + 2) + 2, moved, 9);
        var solved = PlacementSolver.Solve(nodes, new[] { Host, Remote }, outputs, Transfer)!.Value;
        Assert.Equal(new[] { 0, 0, 0 }, solved.Assignment);
        Assert.Equal(stayed, solved.PredictedMs, 9);
    }

    [Fact]
    public void Returns_null_when_a_node_has_no_usable_device()
    {
        var nodes = new[] { Node(1, 1, ("x", -1)), Node(double.PositiveInfinity, double.PositiveInfinity, ("a", 0)) };
        Assert.Null(PlacementSolver.Solve(nodes, new[] { Host, Remote }, Array.Empty<(int, long)>(), Transfer));
    }

    private static readonly SolverDevice Cpu = new(MemorySpace.Host, 0.01, "cpu");
    private static readonly SolverDevice Gpu = new(MemorySpace.CudaDevice(0), 0.01, "cuda:0");
    private static readonly SolverDevice OtherCpuRuntime = new(MemorySpace.BackendPrivate("other-cpu-runtime", hostAddressable: true), 0.01, "cpu");

    /// <summary>x -> stem -> (a, b) -> join: two 10 ms branches that read only the stem.</summary>
    private static SolverNode[] TwoBranches() =>
    [
        Node(1, 1, ("x", -1)),
        Node(10, 10, ("s", 0)),
        Node(10, 10, ("s", 0)),
        Node(1, 1, ("a", 1), ("b", 2)),
    ];

    [Fact]
    public void Independent_partitions_on_two_processors_cost_the_longer_one_not_the_sum()
    {
        var devices = new[] { Cpu, Gpu };
        var outputs = new[] { (3, 1048576L) };
        var allCpu = PlacementSolver.Evaluate(TwoBranches(), devices, outputs, Transfer, [0, 0, 0, 0])!.Value;
        Assert.Equal(0.01 + 1 + 10 + 10 + 1, allCpu, 9);
        // Branch a and the join on the GPU (partitions: stem | a | b | join): a (upload s 2 ms + 10 ms) overlaps b (10 ms),
        // then the join uploads b (2 ms) and its output is downloaded (2 ms).
        var split = PlacementSolver.Evaluate(TwoBranches(), devices, outputs, Transfer, [0, 1, 0, 1])!.Value;
        Assert.Equal((0.01 + 1) + Math.Max(0.01 + 2 + 10, 0.01 + 10) + (0.01 + 1 + 2) + 2, split, 9);
        // Summed along the order, the same plan would cost more than staying on the CPU: only the schedule sees the gain.
        Assert.True((0.01 + 1) + (0.01 + 2 + 10) + (0.01 + 10) + (0.01 + 1 + 2) + 2 > allCpu);
        var solved = PlacementSolver.Solve(TwoBranches(), devices, outputs, Transfer)!.Value;
        Assert.Equal(new[] { 0, 1, 0, 1 }, solved.Assignment);
        Assert.Equal(split, solved.PredictedMs, 9);
    }

    [Fact]
    public void Two_devices_on_one_processor_run_one_after_the_other_so_a_branch_is_not_moved_for_overlap()
    {
        var devices = new[] { Cpu, OtherCpuRuntime };
        var outputs = new[] { (3, 1048576L) };
        var split = PlacementSolver.Evaluate(TwoBranches(), devices, outputs, Transfer, [0, 1, 0, 1])!.Value;
        Assert.Equal((0.01 + 1) + (0.01 + 2 + 10) + (0.01 + 10) + (0.01 + 1 + 2) + 2, split, 9);
        var solved = PlacementSolver.Solve(TwoBranches(), devices, outputs, Transfer)!.Value;
        Assert.Equal(new[] { 0, 0, 0, 0 }, solved.Assignment);
    }

    [Fact]
    public void The_autotuner_describes_devices_to_the_solver_by_the_sessions_overlap_rule()
    {
        var ortCpu = new Device("ort", "ort-cpu", "fake ONNX Runtime CPU", DeviceKind.Cpu);
        var ilgpuCpu = new Device("ilgpu", "ilgpu-cpu", "fake ILGPU CPU", DeviceKind.Cpu, MemorySpace.BackendPrivate("ilgpu-cpu", hostAddressable: true));
        var ortCuda = new Device("ort", "ort-cuda:0", "fake CUDA GPU", DeviceKind.Gpu, MemorySpace.CudaDevice(0));
        // stem on ort-cpu | branch a on the other device | branch b on ort-cpu | join on the other device.
        double Split(Device other, PartitionOverlap overlap) => PlacementSolver.Evaluate(TwoBranches(),
            [Autotuner.SolverDeviceOf(ortCpu, 0.01, overlap), Autotuner.SolverDeviceOf(other, 0.01, overlap)], [(3, 1048576L)], Transfer, [0, 1, 0, 1])!.Value;
        var sum = (0.01 + 1) + (0.01 + 2 + 10) + (0.01 + 10) + (0.01 + 1 + 2) + 2;
        var overlapped = (0.01 + 1) + Math.Max(0.01 + 2 + 10, 0.01 + 10) + (0.01 + 1 + 2) + 2;
        Assert.Equal(sum, Split(ilgpuCpu, PartitionOverlap.AcrossProcessors), 9);
        Assert.Equal(overlapped, Split(ilgpuCpu, PartitionOverlap.AcrossDevices), 9);
        Assert.Equal(overlapped, Split(ortCuda, PartitionOverlap.AcrossProcessors), 9);
        Assert.Equal(sum, Split(ortCuda, PartitionOverlap.None), 9);
    }

    [Fact]
    public void The_schedule_sums_a_chain_overlaps_independent_work_and_serialises_one_processor()
    {
        // p0 -> p1 -> p2: a chain is the sum, whatever the processors.
        Assert.Equal(6, PlacementSolver.Schedule([1, 2, 3], [[], [0], [1]], ["cpu", "gpu", "cpu"]), 9);
        // p0 -> (p1, p2) -> p3 with p1 and p2 on two processors: 1 + max(5, 3) + 1.
        Assert.Equal(7, PlacementSolver.Schedule([1, 5, 3, 1], [[], [0], [0], [1, 2]], ["cpu", "cpu", "gpu", "cpu"]), 9);
        // The same on one processor: 1 + 5 + 3 + 1.
        Assert.Equal(10, PlacementSolver.Schedule([1, 5, 3, 1], [[], [0], [0], [1, 2]], ["cpu", "cpu", "cpu", "cpu"]), 9);
        // p2 waits for its processor (busy with p1) even though its input is ready: plan order, one partition per processor.
        Assert.Equal(1 + 5 + 3, PlacementSolver.Schedule([1, 5, 3], [[], [0], [0]], ["gpu", "cpu", "cpu"]), 9);
    }
}
