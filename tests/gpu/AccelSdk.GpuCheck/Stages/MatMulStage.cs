using System.Globalization;
using System.Text.Json.Nodes;
using AccelSdk.Ilgpu.Benchmarks;

namespace AccelSdk.GpuCheck.Stages;

/// <summary>
/// ILGPU MatMul GFLOP/s (N x N x N float32) of every kernel variant the device offers, ONNX Runtime's CPU EP in the same
/// rounds, and PyTorch's cuBLAS figure from the anchors: the issue's goal is the best variant at >= 50% of cuBLAS.
/// The workloads and runners are the ILGPU bench's (inputs uploaded once; a run ends with the device synchronised).
/// </summary>
internal static class MatMulStage
{
    public const double GoalOfCublas = 0.5;

    public static void Run(CheckContext context, StageReport report)
    {
        var (backend, device) = context.Device;
        var variants = backend.CompileVariants(device).Select(v => (string?)v.Name).DefaultIfEmpty(null).ToArray();
        var rows = new List<IReadOnlyList<string>>();
        var json = new JsonArray();
        var verdicts = new List<string>();
        foreach (var n in context.Options.MatMulSizes)
        {
            context.Log($"matmul: {n}");
            var workload = Workload.MatMul(n);
            var runners = new List<IRunner>();
            try
            {
                foreach (var variant in variants) runners.Add(new IlgpuRunner(backend, device, workload, variant));
                runners.Add(new OrtRunner(workload, cuda: false, threads: Environment.ProcessorCount));
                var medians = Interleaved.MedianMs(runners.Select(r => (Action)r.RunOnce).ToArray(), context.Options.Runs);
                var cublas = context.Anchor($"matmul_gflops/{n.ToString(CultureInfo.InvariantCulture)}");
                var best = runners.Take(variants.Length).Select((r, i) => (r.Label, Gflops: workload.Flops / medians[i] / 1e6)).MaxBy(x => x.Gflops);
                for (var i = 0; i < runners.Count; i++)
                {
                    var gflops = workload.Flops / medians[i] / 1e6;
                    var isIlgpu = i < variants.Length;
                    rows.Add(new[]
                    {
                        n.ToString(CultureInfo.InvariantCulture), runners[i].Label, Format.F(runners[i].SetupTime.TotalMilliseconds, 0), Format.F(medians[i], 3),
                        Format.F(gflops, 1), isIlgpu && cublas is { } c ? Format.Percent(gflops, c) : "-",
                    });
                    json.Add(new JsonObject
                    {
                        ["n"] = n, ["runner"] = runners[i].Label, ["setup_ms"] = runners[i].SetupTime.TotalMilliseconds, ["median_ms"] = medians[i], ["gflops"] = gflops,
                        ["of_cublas"] = isIlgpu && cublas is { } c2 ? gflops / c2 : null,
                    });
                }
                if (cublas is { } anchor)
                {
                    rows.Add(new[] { n.ToString(CultureInfo.InvariantCulture), "PyTorch cuBLAS fp32 (TF32 off)", "-", Format.F(workload.Flops / anchor / 1e6, 3), Format.F(anchor, 1), "100%" });
                    verdicts.Add($"- N = {n}: best ILGPU variant {best.Label}, {Format.F(best.Gflops, 1)} GFLOP/s = {Format.Percent(best.Gflops, anchor)} of cuBLAS " +
                                 $"(goal {Format.F(100 * GoalOfCublas, 0)}%: {(best.Gflops >= GoalOfCublas * anchor ? "met" : "not met")})");
                    report.Json[$"best_{n}"] = new JsonObject { ["runner"] = best.Label, ["gflops"] = best.Gflops, ["of_cublas"] = best.Gflops / anchor, ["goal_met"] = best.Gflops >= GoalOfCublas * anchor };
                }
            }
            finally
            {
                foreach (var r in runners) r.Dispose();
            }
        }
        report.Json["runs"] = json;
        report.Line($"Median of {context.Options.Runs} interleaved runs after 2 warm-ups; GFLOP/s = 2N³ / time. Goal: best ILGPU variant >= {Format.F(100 * GoalOfCublas, 0)}% of cuBLAS " +
                    "(reported, not asserted). ort-cpu is ONNX Runtime's CPU EP on this machine's cores.");
        report.Line("");
        report.Table(new[] { "N", "runner/variant", "compile ms", "median ms", "GFLOP/s", "of cuBLAS" }, rows);
        foreach (var v in verdicts) report.Line(v);
    }
}
