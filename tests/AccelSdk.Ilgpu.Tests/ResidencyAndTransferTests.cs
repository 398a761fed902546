using AccelSdk.Backends;
using AccelSdk.Execution;
using AccelSdk.Ilgpu.Runtime;
using AccelSdk.Ir;
using ILGPU;
using ILGPU.Runtime.CPU;
using Xunit;
using Device = AccelSdk.Backends.Device;

namespace AccelSdk.Ilgpu.Tests;

/// <summary>
/// Where values live between partitions, on real backends: ILGPU values stay on the accelerator between ILGPU
/// partitions (no host round trip, one wait per run), ILGPU's direct paths (host memory read in place by the CPU
/// accelerator, accelerator to accelerator), and ONNX Runtime next to ILGPU, each counted by the session. Each test takes well under a second.
/// </summary>
public sealed class ResidencyAndTransferTests
{
    /// <summary>Conv -> Relu -> Conv -> Relu on 1x4x9x9, cut after each node.</summary>
    private static Model Chain()
    {
        var g = new Graph { Name = "conv_chain" };
        g.Inputs.Add(TinyModels.F32("X", 1, 4, 9, 9));
        g.Outputs.Add(TinyModels.F32("Y", 1, 4, 9, 9));
        var rnd = new Random(11);
        float[] Weights() => Enumerable.Range(0, 4 * 4 * 9).Select(_ => (float)rnd.NextDouble() - 0.5f).ToArray();
        g.Initializers.Add(AccelTensor.Create(Weights(), 4, 4, 3, 3).WithName("W1"));
        g.Initializers.Add(AccelTensor.Create(Weights(), 4, 4, 3, 3).WithName("W2"));
        var conv1 = new Node("Conv", new[] { "X", "W1" }, new[] { "A" }, "conv1");
        conv1.Attributes.Add(NodeAttribute.Ints("pads", 1, 1, 1, 1));
        var conv2 = new Node("Conv", new[] { "B", "W2" }, new[] { "C" }, "conv2");
        conv2.Attributes.Add(NodeAttribute.Ints("pads", 1, 1, 1, 1));
        g.Nodes.Add(conv1);
        g.Nodes.Add(new Node("Relu", new[] { "A" }, new[] { "B" }, "relu1"));
        g.Nodes.Add(conv2);
        g.Nodes.Add(new Node("Relu", new[] { "C" }, new[] { "Y" }, "relu2"));
        var model = new Model(g);
        model.OpsetImports[""] = 17;
        return model;
    }

    private static AccelTensor Input()
    {
        var rnd = new Random(3);
        return AccelTensor.Create(Enumerable.Range(0, 4 * 81).Select(_ => (float)rnd.NextDouble() * 2 - 1).ToArray(), 1, 4, 9, 9);
    }

    /// <summary>One partition per group of node indices, each on its own device (two partitions may share a device).</summary>
    private static ExecutionPlan Forced(Model model, params (int[] Nodes, IBackend Backend, Device Device)[] groups)
    {
        var types = ShapeInference.Infer(model);
        var partitions = new List<PlannedPartition>();
        for (var g = 0; g < groups.Length; g++)
        {
            var later = groups.Skip(g + 1).SelectMany(x => x.Nodes).ToHashSet();
            var sub = GraphPartitioner.Extract(model, groups[g].Nodes, types, later, $"partition_{g}");
            partitions.Add(new PlannedPartition(g, groups[g].Backend, groups[g].Device, groups[g].Nodes, sub));
        }
        return new ExecutionPlan(model, partitions);
    }

    private static IlgpuDeviceSlot Slot(IlgpuBackend backend, Device device) => backend.SlotOf(device);

    [Fact]
    public void Two_ilgpu_partitions_keep_values_on_the_accelerator_with_no_host_round_trip_and_match_the_single_partition_run_bit_for_bit()
    {
        // A private backend, so the accelerator's wait count sees no other test's runs.
        using var backend = new IlgpuBackend(openClOptIn: null);
        var cpu = backend.Devices.Single(d => d.Id == "ilgpu-cpu");
        var model = Chain();
        var input = Input();
        using var whole = new AccelSession(GraphPartitioner.WholeModel(model, backend, cpu));
        var expected = whole.Run(input)[0].ToArray<float>();

        var plan = Forced(model, (new[] { 0, 1 }, backend, cpu), (new[] { 2, 3 }, backend, cpu));
        Assert.Equal(2, plan.Partitions.Count);
        var cut = Assert.Single(plan.CutEdges, e => e.ValueName == "B");
        Assert.Equal(TransferRoute.None, cut.Route);
        using var split = new AccelSession(plan);
        split.Run(input);
        split.ResetTransferStatistics();
        var waitsBefore = Slot(backend, cpu).Synchronizations;
        const int runs = 3;
        for (var r = 0; r < runs; r++) Assert.Equal(expected, split.Run(input)[0].ToArray<float>());
        var stats = split.TransferStatistics;
        Assert.Equal(runs, stats.Runs);
        Assert.Equal(0, stats.HostRoundTrips);
        // Per run: the CPU accelerator reads the input in place (a direct transfer, no copy) and the output is downloaded.
        Assert.Equal(2 * runs, stats.Transfers);
        Assert.Equal(runs, stats.DirectTransfers);
        Assert.Equal(runs, stats.Copies);
        Assert.Equal(runs * 2 * 4 * 81 * 4L, stats.Bytes);
        // One wait per run, the download of the output; none between the two partitions.
        Assert.Equal(runs, Slot(backend, cpu).Synchronizations - waitsBefore);
    }

    [Fact]
    public void A_partition_run_on_its_own_still_finishes_before_it_returns()
    {
        using var backend = new IlgpuBackend(openClOptIn: null);
        var cpu = backend.Devices.Single(d => d.Id == "ilgpu-cpu");
        using var compiled = backend.Compile(cpu, TinyModels.ConvRelu(), new CompileOptions());
        using var input = new HostTensor(AccelTensor.Zeros(ElementType.Float32, new long[] { 1, 4, 9, 9 }));
        var before = Slot(backend, cpu).Synchronizations;
        foreach (var t in compiled.Run(new DeviceTensor[] { input })) t.Dispose();
        Assert.Equal(1, Slot(backend, cpu).Synchronizations - before);
        foreach (var t in compiled.Run(new DeviceTensor[] { input }, new PartitionRunOptions(null, default) { DeferSynchronization = true })) t.Dispose();
        Assert.Equal(1, Slot(backend, cpu).Synchronizations - before);
    }

    [Fact]
    public void Ilgpu_offers_a_direct_path_between_two_accelerators_and_the_session_uses_it_instead_of_a_host_round_trip()
    {
        // Two real CPU accelerators in two memory spaces: ilgpu-cpu and a second one standing for another accelerator.
        var context = Context.Create(b => b.CPU(new CPUDevice(2, 1, 2)).EnableAlgorithms());
        var other = new Device("ilgpu", "ilgpu-cpu-b", "second CPU accelerator (tests)", DeviceKind.Cpu, MemorySpace.BackendPrivate("ilgpu-cpu-b", hostAddressable: true));
        var first = new Device("ilgpu", "ilgpu-cpu", "CPU accelerator (tests)", DeviceKind.Cpu, MemorySpace.BackendPrivate("ilgpu-cpu", hostAddressable: true));
        using var backend = new IlgpuBackend(new[]
        {
            (new IlgpuDeviceSlot(first, () => context.GetCPUDevice(0).CreateCPUAccelerator(context, CPUAcceleratorMode.Parallel)), context),
            (new IlgpuDeviceSlot(other, () => context.GetCPUDevice(0).CreateCPUAccelerator(context, CPUAcceleratorMode.Parallel)), context),
        });
        var model = Chain();
        var input = Input();
        using var whole = new AccelSession(GraphPartitioner.WholeModel(model, backend, first));
        var expected = whole.Run(input)[0].ToArray<float>();

        Assert.NotNull(backend.TryGetTransfer(first, other));
        Assert.Null(backend.TryGetTransfer(first, first));
        var plan = Forced(model, (new[] { 0, 1 }, backend, first), (new[] { 2 }, backend, other), (new[] { 3 }, backend, first));
        Assert.Equal(new[] { ("B", TransferRoute.Direct, 1), ("C", TransferRoute.Direct, 1) },
            plan.CutEdges.Where(e => e.ValueName is "B" or "C").Select(e => (e.ValueName, e.Route, e.Copies)).ToArray());
        Assert.Contains("direct", plan.Describe());
        using var split = new AccelSession(plan);
        Assert.Equal(expected, split.Run(input)[0].ToArray<float>());
        var stats = split.TransferStatistics;
        // X is read in place (0 copies), B and C copied accelerator to accelerator (1 each), Y downloaded (1).
        Assert.Equal(new TransferStatistics(Runs: 1, Transfers: 4, DirectTransfers: 3, HostRoundTrips: 0, Copies: 3, Bytes: 4 * 4 * 81 * 4L), stats);
    }

    [Fact]
    public void Ort_and_ilgpus_cpu_accelerator_hand_values_to_each_other_in_place_with_no_copy()
    {
        var (ort, ortCpu) = AccelRuntime.Default.Resolve("ort-cpu");
        // A private backend, so its pool sees only this test's buffers.
        using var backend = new IlgpuBackend(openClOptIn: null);
        var cpu = backend.Devices.Single(d => d.Id == "ilgpu-cpu");
        var model = Chain();
        var input = Input();
        Assert.Equal(0, backend.TryGetTransfer(ortCpu, cpu)!.Copies);
        Assert.Equal(0, backend.TryGetTransfer(cpu, ortCpu)!.Copies);
        // The caller keeps model outputs, so they are downloaded, never lent.
        Assert.Null(backend.TryGetTransfer(cpu, Device.Host));
        using var reference = new AccelSession(GraphPartitioner.WholeModel(model, ort, ortCpu));
        var expected = reference.Run(input)[0].ToArray<float>();
        var plan = Forced(model, (new[] { 0 }, ort, ortCpu), (new[] { 1, 2 }, backend, cpu), (new[] { 3 }, ort, ortCpu));
        Assert.Equal(new[] { ("A", TransferRoute.Direct, 0), ("C", TransferRoute.Direct, 0) },
            plan.Transfers.Select(e => (e.ValueName, e.Route, e.Copies)).ToArray());
        using var split = new AccelSession(plan);
        var constants = backend.PoolStatistics(cpu).Outstanding; // W2, uploaded when the partition compiled
        var actual = split.Run(input)[0].ToArray<float>();
        for (var i = 0; i < expected.Length; i++) Assert.Equal(expected[i], actual[i], 4);
        Assert.Equal(new TransferStatistics(Runs: 1, Transfers: 2, DirectTransfers: 2, HostRoundTrips: 0, Copies: 0, Bytes: 2 * 4 * 81 * 4L), split.TransferStatistics);
        // The buffer lent to ORT went back to the pool with the run; the next run reuses pooled buffers and agrees.
        Assert.Equal(constants, backend.PoolStatistics(cpu).Outstanding);
        var allocations = backend.PoolStatistics(cpu).Allocations;
        Assert.Equal(actual, split.Run(input)[0].ToArray<float>());
        Assert.Equal(constants, backend.PoolStatistics(cpu).Outstanding);
        Assert.Equal(allocations, backend.PoolStatistics(cpu).Allocations);
    }
}
