using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using AccelSdk.Execution;
using AccelSdk.Ir;

namespace AccelSdk.Benchmarks;

/// <summary>
/// Issue 11: the placement's overlap prediction against a real two-branch model. x -> MatMul chain on ort-cpu (branch a)
/// and x -> MatMul chain on ilgpu-cpu (branch b), joined by an Add on ort-cpu: three partitions, a and b independent.
/// Each partition's time is measured alone (the session's partition activities, runs one after another); the
/// prediction is then the schedule the placement uses, both as the solver models this machine (both devices on the one
/// processor <c>cpu</c>: the sum) and as it would for two processors (the longer branch, then the join), next to the
/// session's measured latency under each <see cref="AccelSession.PartitionOverlap"/> setting, interleaved: the default
/// (across processors: here one after another, as predicted), across devices (the two CPU runtimes side by side) and none.
/// Run: <c>dotnet run -c Release --project bench/AccelSdk.Benchmarks -- overlap-prediction [ROUNDS]</c>.
/// </summary>
internal static class OverlapPrediction
{
    private const int Size = 192;

    public static int Run(string[] args)
    {
        var rounds = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 15;
        var model = TwoBranches(ortLength: 24, ilgpuLength: 3);
        var (ort, ortCpu) = AccelRuntime.Default.Resolve("ort-cpu");
        var (ilgpu, ilgpuCpu) = AccelRuntime.Default.Resolve("ilgpu-cpu");
        var plan = GraphPartitioner.FromPlacements(model, model.Graph.Nodes.Select(n => n.Name.StartsWith('b') ? new Placement(ilgpu, ilgpuCpu) : new Placement(ort, ortCpu)).ToArray());
        using var session = new AccelSession(plan);
        var rnd = new Random(4);
        using var input = AccelTensor.Create(Enumerable.Range(0, Size * Size).Select(_ => (float)rnd.NextDouble()).ToArray(), Size, Size);
        var partitionMs = new ConcurrentDictionary<int, List<double>>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "AccelSdk",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllData,
            ActivityStopped = a =>
            {
                if (a.OperationName == "AccelSdk.Partition" && a.GetTagItem("partition") is int p) partitionMs.GetOrAdd(p, _ => new()).Add(a.Duration.TotalMilliseconds);
            },
        };
        ActivitySource.AddActivityListener(listener);
        for (var i = 0; i < 5; i++) session.Run(input).ToList().ForEach(t => t.Dispose());
        partitionMs.Clear();
        var settings = new[] { PartitionOverlap.None, PartitionOverlap.AcrossProcessors, PartitionOverlap.AcrossDevices };
        var measured = settings.ToDictionary(s => s, _ => new List<double>());
        for (var r = 0; r < rounds; r++)
        {
            foreach (var setting in settings)
            {
                session.PartitionOverlap = setting;
                measured[setting].Add(Time(() => session.Run(input)));
            }
        }
        // Partition times from the runs with no overlap only (the first of each round): alone, as the profiler times them.
        var alone = Enumerable.Range(0, 3).Select(p => Median(partitionMs[p].Where((_, i) => i % settings.Length == 0).ToList())).ToArray();
        var sum = alone.Sum();
        var twoProcessors = Math.Max(alone[0], alone[1]) + alone[2];
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"partitions alone (median ms): a on ort-cpu {alone[0]:F2}, b on ilgpu-cpu {alone[1]:F2}, join {alone[2]:F2}; rounds {rounds}"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"predicted: one processor 'cpu' (the solver's model here) {sum:F2} ms; two processors {twoProcessors:F2} ms"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"measured (medians): default AcrossProcessors {Median(measured[PartitionOverlap.AcrossProcessors]):F2} ms, " +
            $"AcrossDevices {Median(measured[PartitionOverlap.AcrossDevices]):F2} ms, None {Median(measured[PartitionOverlap.None]):F2} ms"));
        return 0;
    }

    private static double Time(Func<RunResult> run)
    {
        var start = Stopwatch.GetTimestamp();
        foreach (var t in run()) t.Dispose();
        return Stopwatch.GetElapsedTime(start).TotalMilliseconds;
    }

    private static double Median(List<double> values)
    {
        values.Sort();
        return values[values.Count / 2];
    }

    private static Model TwoBranches(int ortLength, int ilgpuLength)
    {
        var g = new Graph { Name = "two_branches_overlap_prediction" };
        var type = new TensorType(ElementType.Float32, new TensorShape(Size, Size));
        g.Inputs.Add(new ValueInfo("x", type));
        g.Outputs.Add(new ValueInfo("y", type));
        var rnd = new Random(21);
        g.Initializers.Add(AccelTensor.Create(Enumerable.Range(0, Size * Size).Select(_ => ((float)rnd.NextDouble() - 0.5f) / 8).ToArray(), Size, Size).WithName("w"));
        void Chain(string branch, int length)
        {
            for (var i = 0; i < length; i++) g.Nodes.Add(new Node("MatMul", [i == 0 ? "x" : $"{branch}{i - 1}", "w"], [$"{branch}{i}"], $"{branch}_matmul{i}"));
        }
        Chain("a", ortLength);
        Chain("b", ilgpuLength);
        g.Nodes.Add(new Node("Add", [$"a{ortLength - 1}", $"b{ilgpuLength - 1}"], ["y"], "join"));
        var model = new Model(g);
        model.OpsetImports[""] = 17;
        return model;
    }
}
