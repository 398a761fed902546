using System.Diagnostics;
using AccelSdk.Autotune.Placement;
using AccelSdk.Backends;
using AccelSdk.Execution;
using AccelSdk.Ir;
using AccelSdk.TestSupport;

namespace AccelSdk.Benchmarks;

/// <summary>
/// Bench runner (<c>-- split-spinning [ROUNDS]</c>) for the old "BlazeFace with one Relu on ilgpu-cpu: predicted
/// 4.6 ms, measured 71.9 ms" anomaly: the same 3-partition plan (ORT, one Relu on ILGPU's CPU accelerator, ORT)
/// with ONNX Runtime's intra-op threads allowed to spin after each run, and without (what multi-partition plans use
/// now), next to ORT alone; interleaved rounds, medians.
/// </summary>
public static class SplitSpinningBench
{
    public static int Run(string[] args)
    {
        var rounds = args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 15;
        var model = Model.Load(RepoPaths.Model("blazeface/face_detection_front_128x128_barracuda.onnx"));
        var relu = model.Graph.Nodes.FindIndex(n => n.Name == "StatefulPartitionedCall/functional_1/re_lu_4/Relu");
        var ort = AccelRuntime.Default.Resolve("ort-cpu");
        var ilgpu = AccelRuntime.Default.Resolve("ilgpu-cpu");
        var placements = model.Graph.Nodes.Select((_, i) => i == relu ? new Placement(ilgpu.Backend, ilgpu.Device) : new Placement(ort.Backend, ort.Device)).ToArray();
        var plan = PlanBuilder.Build(model, placements, ShapeInference.Infer(model));
        var inputs = SampleInputs.Random(model);
        var spinning = new CompileOptions { Settings = new Dictionary<string, string> { ["session.intra_op.allow_spinning"] = "1" } };
        // Phase 1 without the spinning session (its idle threads busy-wait and would slow the others); phase 2 with it.
        var reluPartition = plan.Partitions[1].SubModel;
        var reluAlone = new AccelSession(new ExecutionPlan(reluPartition, new[] { new PlannedPartition(0, ilgpu.Backend, ilgpu.Device, new[] { 0 }, reluPartition) }));
        Measure(rounds, "the ILGPU Relu partition alone", SampleInputs.Random(reluPartition), 1, ("ilgpu-cpu Relu", reluAlone));
        Measure(rounds, "without a spinning session alive", inputs, plan.Partitions.Count,
            ("split, no spinning", new AccelSession(plan)),
            ("ort-cpu alone", new AccelSession(PlanBuilder.Single(model, ort.Backend, ort.Device))));
        Measure(rounds, "with a spinning session alive", inputs, plan.Partitions.Count,
            ("split, ORT spinning", new AccelSession(plan, spinning)),
            ("split, no spinning", new AccelSession(plan)),
            ("ort-cpu alone", new AccelSession(PlanBuilder.Single(model, ort.Backend, ort.Device))));
        Console.WriteLine($"plan: {plan.Partitions.Count} partitions ({string.Join(", ", plan.Partitions.Select(p => $"{p.Device.Id}:{p.NodeIndices.Count}"))}), {rounds} interleaved rounds");
        return 0;
    }

    private static void Measure(int rounds, string phase, IReadOnlyDictionary<string, AccelTensor> inputs, int partitions, params (string Label, AccelSession Session)[] sessions)
    {
        var times = sessions.ToDictionary(s => s.Label, _ => new List<double>());
        foreach (var (_, s) in sessions) s.Run(inputs);
        for (var r = 0; r < rounds; r++)
        {
            foreach (var (label, s) in sessions)
            {
                var start = Stopwatch.GetTimestamp();
                s.Run(inputs);
                times[label].Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            }
        }
        Console.WriteLine(phase + ":");
        foreach (var (label, s) in sessions)
        {
            var sorted = times[label].Order().ToArray();
            Console.WriteLine($"{label,-22} median {sorted[sorted.Length / 2],8:F2} ms  min {sorted[0],8:F2} ms  max {sorted[^1],8:F2} ms");
            s.Dispose();
        }
    }
}
