using System.Collections.Concurrent;
using System.Diagnostics;
using AccelSdk.Execution;
using AccelSdk.Ir;
using Xunit;

namespace AccelSdk.Ilgpu.Tests;

/// <summary>
/// Partitions on different devices that do not depend on each other run at the same time within one run (ONNX Runtime
/// and ILGPU's CPU accelerator here), observed through the session's <c>AccelSdk.Partition</c> activities. About 1 s.
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

    [Fact]
    public void Independent_partitions_on_two_devices_run_at_the_same_time_and_give_the_same_outputs_as_one_after_another()
    {
        var model = TwoBranches();
        var (ort, ortCpu) = AccelRuntime.Default.Resolve("ort-cpu");
        var placements = model.Graph.Nodes.Select(n => n.Name.StartsWith('b') ? new Placement(Shared.Backend, Shared.Cpu) : new Placement(ort, ortCpu)).ToArray();
        var plan = GraphPartitioner.FromPlacements(model, placements);
        Assert.Equal(new[] { "ort-cpu", "ilgpu-cpu", "ort-cpu" }, plan.Partitions.Select(p => p.Device.Id));
        using var session = new AccelSession(plan);
        var rnd = new Random(4);
        var input = AccelTensor.Create(Enumerable.Range(0, Size * Size).Select(_ => (float)rnd.NextDouble()).ToArray(), Size, Size);
        session.OverlapPartitions = false;
        var sequential = session.Run(input)[0].ToArray<float>();
        session.OverlapPartitions = true;

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

    private static bool IsMine(Activity activity, Model model, out int partition)
    {
        partition = activity.GetTagItem("partition") is int p ? p : -1;
        return activity.OperationName == "AccelSdk.Partition" && (string?)activity.GetTagItem("model") == model.Label && partition >= 0;
    }

    [Fact]
    public void A_chain_split_across_two_devices_gives_the_same_outputs_with_overlap_on_and_off()
    {
        var model = TinyModels.ConvRelu();
        var (ort, ortCpu) = AccelRuntime.Default.Resolve("ort-cpu");
        var plan = GraphPartitioner.FromPlacements(model, new[] { new Placement(ort, ortCpu), new Placement(Shared.Backend, Shared.Cpu) });
        using var session = new AccelSession(plan);
        var input = AccelTensor.Create(Enumerable.Range(0, 4 * 81).Select(i => (i % 7) - 3f).ToArray(), 1, 4, 9, 9);
        var overlapped = session.Run(input)[0].ToArray<float>();
        session.OverlapPartitions = false;
        Assert.Equal(session.Run(input)[0].ToArray<float>(), overlapped);
    }
}
