using System.Collections.Concurrent;
using System.Diagnostics;
using AccelSdk.Execution;
using AccelSdk.Ir;
using Xunit;

namespace AccelSdk.Ilgpu.Tests;

/// <summary>
/// Which independent partitions of one run run at the same time, observed through the session's
/// <c>AccelSdk.Partition</c> activities on ONNX Runtime and ILGPU's CPU accelerator: side by side when asked to overlap
/// across devices, one after another by default (both devices share the CPU's cores). About 3 s.
/// </summary>
public sealed class OverlapTests
{
    private const int Size = 192;

    /// <summary>x -> 48 MatMuls on ONNX Runtime (branch a, about 50 ms) and x -> 3 on ILGPU (branch b), joined by an Add.</summary>
    private static Model TwoBranches()
    {
        var g = new Graph { Name = "two_branches_overlap_test" };
        g.Inputs.Add(TinyModels.F32("x", Size, Size));
        g.Outputs.Add(TinyModels.F32("y", Size, Size));
        var rnd = new Random(21);
        g.Initializers.Add(AccelTensor.Create(Enumerable.Range(0, Size * Size).Select(_ => ((float)rnd.NextDouble() - 0.5f) / 8).ToArray(), Size, Size).WithName("w"));
        void Chain(string branch, int length)
        {
            for (var i = 0; i < length; i++)
            {
                g.Nodes.Add(new Node("MatMul", new[] { i == 0 ? "x" : $"{branch}{i - 1}", "w" }, new[] { $"{branch}{i}" }, $"{branch}_matmul{i}"));
            }
        }
        Chain("a", 48);
        Chain("b", 3);
        g.Nodes.Add(new Node("Add", new[] { "a47", "b2" }, new[] { "y" }, "join"));
        var model = new Model(g);
        model.OpsetImports[""] = 17;
        return model;
    }

    /// <summary>Branch a on ort-cpu, branch b on ilgpu-cpu, the join on ort-cpu.</summary>
    private static AccelSession BranchesOnTwoCpuRuntimes(Model model)
    {
        var (ort, ortCpu) = AccelRuntime.Default.Resolve("ort-cpu");
        var placements = model.Graph.Nodes.Select(n => n.Name.StartsWith('b') ? new Placement(Shared.Backend, Shared.Cpu) : new Placement(ort, ortCpu)).ToArray();
        var plan = GraphPartitioner.FromPlacements(model, placements);
        Assert.Equal(new[] { "ort-cpu", "ilgpu-cpu", "ort-cpu" }, plan.Partitions.Select(p => p.Device.Id));
        return new AccelSession(plan);
    }

    private static AccelTensor Input()
    {
        var rnd = new Random(4);
        return AccelTensor.Create(Enumerable.Range(0, Size * Size).Select(_ => (float)rnd.NextDouble()).ToArray(), Size, Size);
    }

    [Fact]
    public void Independent_partitions_on_two_devices_run_at_the_same_time_across_devices_and_give_the_same_outputs_as_one_after_another()
    {
        var model = TwoBranches();
        using var session = BranchesOnTwoCpuRuntimes(model);
        var input = Input();
        session.PartitionOverlap = PartitionOverlap.None;
        var sequential = session.Run(input)[0].ToArray<float>();
        session.PartitionOverlap = PartitionOverlap.AcrossDevices;

        // Each branch, as it starts, waits for the other branch to start: run together they both get through at once;
        // run one after another the first waits in vain. No timing is compared, so a loaded machine cannot fail it.
        var started = new[] { new ManualResetEventSlim(), new ManualResetEventSlim() };
        var sawOther = new bool[2];
        var ended = new ConcurrentDictionary<int, (DateTime Start, DateTime End)>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "AccelSdk",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllData,
            ActivityStarted = a =>
            {
                if (!IsMine(a, model, out var partition) || partition > 1) return;
                started[partition].Set();
                sawOther[partition] = started[1 - partition].Wait(TimeSpan.FromSeconds(30));
            },
            ActivityStopped = a =>
            {
                if (IsMine(a, model, out var partition)) ended[partition] = (a.StartTimeUtc, a.StartTimeUtc + a.Duration);
            },
        };
        ActivitySource.AddActivityListener(listener);
        Assert.Equal(sequential, session.Run(input)[0].ToArray<float>());
        Assert.True(sawOther[0] && sawOther[1], $"the ORT and ILGPU branches did not run at the same time: branch a saw b start: {sawOther[0]}, b saw a: {sawOther[1]}");
        Assert.Equal(3, ended.Count);
        // The join reads both branches: it starts after both ended.
        var (a, b, join) = (ended[0], ended[1], ended[2]);
        Assert.True(join.Start >= a.End && join.Start >= b.End, $"join started at {join.Start:O}, branches ended at {a.End:O} and {b.End:O}");
    }

    [Fact]
    public void By_default_partitions_of_two_CPU_runtimes_run_one_after_another_in_plan_order()
    {
        var model = TwoBranches();
        using var session = BranchesOnTwoCpuRuntimes(model);
        Assert.Equal(PartitionOverlap.AcrossProcessors, session.PartitionOverlap);
        var input = Input();
        var events = new ConcurrentQueue<string>();
        var branchBStarted = new ManualResetEventSlim();
        var bStartedWhileAWaited = false;
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "AccelSdk",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllData,
            ActivityStarted = a =>
            {
                if (!IsMine(a, model, out var partition)) return;
                events.Enqueue($"start {partition}");
                if (partition == 1) branchBStarted.Set();
                // Branch a gives branch b 2 s to start beside it: an overlapping schedule starts it within that time,
                // one that waits for a cannot start it at all; the outcome does not rest on how long a branch takes.
                if (partition == 0) bStartedWhileAWaited = branchBStarted.Wait(TimeSpan.FromSeconds(2));
            },
            ActivityStopped = a =>
            {
                if (IsMine(a, model, out var partition)) events.Enqueue($"stop {partition}");
            },
        };
        ActivitySource.AddActivityListener(listener);
        var result = session.Run(input)[0].ToArray<float>();
        Assert.False(bStartedWhileAWaited, "branch b (ilgpu-cpu) started while branch a (ort-cpu) ran, under the default overlap");
        Assert.Equal(new[] { "start 0", "stop 0", "start 1", "stop 1", "start 2", "stop 2" }, events);
        session.PartitionOverlap = PartitionOverlap.None;
        Assert.Equal(session.Run(input)[0].ToArray<float>(), result);
    }

    private static bool IsMine(Activity activity, Model model, out int partition)
    {
        partition = activity.GetTagItem("partition") is int p ? p : -1;
        return activity.OperationName == "AccelSdk.Partition" && (string?)activity.GetTagItem("model") == model.Label && partition >= 0;
    }

    [Fact]
    public void A_chain_split_across_two_devices_gives_the_same_outputs_overlapping_across_devices_and_not()
    {
        var model = TinyModels.ConvRelu();
        var (ort, ortCpu) = AccelRuntime.Default.Resolve("ort-cpu");
        var plan = GraphPartitioner.FromPlacements(model, new[] { new Placement(ort, ortCpu), new Placement(Shared.Backend, Shared.Cpu) });
        using var session = new AccelSession(plan);
        var input = AccelTensor.Create(Enumerable.Range(0, 4 * 81).Select(i => (i % 7) - 3f).ToArray(), 1, 4, 9, 9);
        session.PartitionOverlap = PartitionOverlap.AcrossDevices;
        var overlapped = session.Run(input)[0].ToArray<float>();
        session.PartitionOverlap = PartitionOverlap.None;
        Assert.Equal(session.Run(input)[0].ToArray<float>(), overlapped);
    }
}
