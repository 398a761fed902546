using AccelSdk.Backends;
using AccelSdk.Execution;
using AccelSdk.Ir;
using AccelSdk.Tests.Fakes;

namespace AccelSdk.Tests;

/// <summary>
/// Memory spaces as values, and the planner's rule that a transfer is inserted exactly where spaces differ. The planner
/// runs here on fake devices (our own logic); AccelSdk.Ilgpu.Tests runs the same plans on ILGPU and ONNX Runtime.
/// </summary>
public sealed class MemorySpaceTests
{
    [Fact]
    public void Spaces_are_equal_by_kind_and_name_and_keep_their_display_names()
    {
        Assert.Equal("host", MemorySpace.Host.Name);
        Assert.True(MemorySpace.Host.IsHost);
        Assert.True(MemorySpace.Host.IsHostAddressable);
        Assert.Equal(MemorySpace.CudaDevice(0), MemorySpace.CudaDevice(0));
        Assert.Equal("cuda:1", MemorySpace.CudaDevice(1).ToString());
        Assert.Equal("ilgpu-cuda:0", MemorySpace.CudaDevice(0, "ilgpu-cuda:0").Name);
        Assert.NotEqual(MemorySpace.CudaDevice(0, "ilgpu-cuda:0"), MemorySpace.CudaDevice(0, "ort-cuda:0"));
        Assert.NotEqual(MemorySpace.BackendPrivate("host"), MemorySpace.Host);
        Assert.NotEqual(MemorySpace.OpenCl("x"), MemorySpace.BackendPrivate("x"));
        Assert.False(MemorySpace.OpenCl("ilgpu-opencl:0").IsHost);
        Assert.True(MemorySpace.BackendPrivate("ilgpu-cpu", hostAddressable: true).IsHostAddressable);
        Assert.False(MemorySpace.CudaDevice(0).IsHostAddressable);
        Assert.Throws<ArgumentOutOfRangeException>(() => MemorySpace.CudaDevice(-1));
        Assert.Throws<ArgumentException>(() => MemorySpace.BackendPrivate(" "));
    }

    [Fact]
    public void Two_runtimes_on_one_cuda_device_share_physical_memory_but_not_a_space()
    {
        var ilgpu = MemorySpace.CudaDevice(0, "ilgpu-cuda:0");
        var ort = MemorySpace.CudaDevice(0, "ort-cuda:0");
        Assert.True(ilgpu.SharesPhysicalMemoryWith(ort));
        Assert.True(ort.SharesPhysicalMemoryWith(ilgpu));
        Assert.False(ilgpu.SharesPhysicalMemoryWith(MemorySpace.CudaDevice(1, "ort-cuda:1")));
        Assert.False(ilgpu.SharesPhysicalMemoryWith(MemorySpace.Host));
        Assert.False(MemorySpace.Host.SharesPhysicalMemoryWith(MemorySpace.BackendPrivate("ilgpu-cpu", true)));
        Assert.True(MemorySpace.Host.SharesPhysicalMemoryWith(MemorySpace.Host));
    }

    [Fact]
    public void Devices_default_to_host_memory()
    {
        var device = new Device("b", "b-cpu", "b", DeviceKind.Cpu);
        Assert.Same(MemorySpace.Host, device.MemorySpace);
        Assert.Equal(MemorySpace.Host, Device.Host.MemorySpace);
    }

    internal static Model ReluChain(int length)
    {
        var g = new Graph { Name = "chain" };
        g.Inputs.Add(new ValueInfo("v0", new TensorType(ElementType.Float32, new TensorShape(4))));
        for (var i = 0; i < length; i++) g.Nodes.Add(new Node("Relu", new[] { $"v{i}" }, new[] { $"v{i + 1}" }, $"relu{i}"));
        g.Outputs.Add(new ValueInfo($"v{length}", new TensorType(ElementType.Float32, new TensorShape(4))));
        var model = new Model(g) { IrVersion = 8 };
        model.OpsetImports[""] = 17;
        return model;
    }

    /// <summary>host-a | private-p | private-q (same space as p) | host-b: three cut edges, two of them cross spaces.</summary>
    private static (FakeBackend Backend, ExecutionPlan Plan) MixedPlan()
    {
        var privateSpace = MemorySpace.BackendPrivate("fake-private");
        var fake = new FakeBackend("fake", new FakeDevice("a"), new FakeDevice("p") { Space = privateSpace },
            new FakeDevice("q") { Space = privateSpace }, new FakeDevice("b"));
        var byId = fake.Devices.ToDictionary(d => d.Id);
        var placements = new[] { "a", "p", "q", "b" }.Select(id => new Placement(fake, byId[id])).ToArray();
        return (fake, GraphPartitioner.FromPlacements(ReluChain(4), placements));
    }

    [Fact]
    public void The_planner_inserts_a_transfer_only_where_memory_spaces_differ()
    {
        var (_, plan) = MixedPlan();
        Assert.Equal(4, plan.Partitions.Count);
        var transfers = plan.Transfers.Select(t => (t.ValueName, t.From.Id, t.To.Id, t.BeforePartition)).ToArray();
        // v1: host -> private (a -> p); v2: p -> q share a space, no transfer; v3: private -> host (q -> b).
        Assert.Equal(new[] { ("v1", "a", "p", 1), ("v3", "q", "b", 3) }, transfers);
    }

    [Fact]
    public void A_session_moves_values_between_spaces_and_hands_same_space_tensors_over_as_they_are()
    {
        var (fake, plan) = MixedPlan();
        using var session = new AccelSession(plan);
        var result = session.Run(AccelTensor.Create(new[] { -1f, 2f, -3f, 4f }, 4));
        Assert.Equal(new[] { 0f, 2f, 0f, 4f }, result[0].ToArray<float>());
        // One upload into the private space before p and one download out of it before b; q took p's tensor as it was.
        Assert.Equal(1, fake.Uploads);
        Assert.Equal(1, fake.Downloads);
        Assert.Equal(new TransferStatistics(Runs: 1, Transfers: 2, DirectTransfers: 0, HostRoundTrips: 0, Copies: 2, Bytes: 32), session.TransferStatistics);
        session.ResetTransferStatistics();
        Assert.Equal(new TransferStatistics(0, 0, 0, 0, 0, 0), session.TransferStatistics);
    }

    [Fact]
    public void Every_cut_edge_records_its_route_and_copies()
    {
        var (_, plan) = MixedPlan();
        var edges = plan.CutEdges.Select(e => (e.ValueName, e.RouteName, e.Copies, e.BeforePartition)).ToArray();
        // v0 enters a from the caller in host memory; v4 leaves b, a host-memory device, to the caller.
        Assert.Equal(new[] { ("v0", "none", 0, 0), ("v1", "via host", 1, 1), ("v2", "none", 0, 2), ("v3", "via host", 1, 3), ("v4", "none", 0, 4) }, edges);
        Assert.All(plan.CutEdges, e => Assert.False(e.IsHostRoundTrip));
    }

    [Fact]
    public void Between_two_private_spaces_without_a_direct_path_a_value_makes_a_host_round_trip()
    {
        var fake = new FakeBackend("fake", new FakeDevice("p") { Space = MemorySpace.BackendPrivate("fake-p") },
            new FakeDevice("r") { Space = MemorySpace.BackendPrivate("fake-r") });
        var plan = GraphPartitioner.FromPlacements(ReluChain(2), new[] { new Placement(fake, fake.Devices[0]), new Placement(fake, fake.Devices[1]) });
        var cut = Assert.Single(plan.CutEdges, e => e.ValueName == "v1");
        Assert.True(cut.IsHostRoundTrip);
        Assert.Equal(2, cut.Copies);
        using var session = new AccelSession(plan);
        Assert.Equal(new[] { 1f, 0f, 3f, 0f }, session.Run(AccelTensor.Create(new[] { 1f, -2f, 3f, -4f }, 4))[0].ToArray<float>());
        // Upload of v0 (1 copy), v1 down and up again (2 copies, one round trip), download of v2 to the caller (1 copy).
        Assert.Equal(new TransferStatistics(Runs: 1, Transfers: 3, DirectTransfers: 0, HostRoundTrips: 1, Copies: 4, Bytes: 48), session.TransferStatistics);
    }
}
