using AccelSdk.Execution;
using AccelSdk.Ir;

namespace AccelSdk.Autotune.Tests;

public sealed class ThroughputTests
{
    private static AutotuneOptions SplitOptions(SelectionPolicy policy) => new()
    {
        Policy = policy,
        NoCache = true,
        NodeTiming = TestModels.QuickTiming,
        PlanRuns = 5,
        Pins = new Dictionary<string, string> { ["sigmoid"] = "ilgpu-cpu", ["relu"] = "ort-cpu", ["scale"] = "ort" },
    };

    private static Dictionary<string, AccelTensor> Input(int seed)
    {
        var random = new Random(seed);
        var data = Enumerable.Range(0, 64 * 32 * 32).Select(_ => (float)(random.NextDouble() * 4 - 2)).ToArray();
        return new Dictionary<string, AccelTensor> { ["x"] = AccelTensor.Create(data, 1, 64, 32, 32) };
    }

    [Fact]
    public void Pipelined_runs_of_a_split_plan_return_each_input_s_own_result_in_order()
    {
        var model = TestModels.Chain();
        var placements = new[] { "ort-cpu", "ort-cpu", "ilgpu-cpu", "ort-cpu" }
            .Select(id => { var (b, d) = AccelRuntime.Default.Resolve(id); return new Execution.Placement(b, d); }).ToArray();
        using var split = new AccelSession(Placement.PlanBuilder.Build(model, placements, ShapeInference.Infer(model)));
        Assert.Equal(3, split.Plan.Partitions.Count);
        var inputs = Enumerable.Range(0, 12).Select(i => (IReadOnlyDictionary<string, AccelTensor>)Input(i)).ToArray();
        var sequential = inputs.Select(i => split.Run(i)[0].AsSpan<float>().ToArray()).ToArray();
        var piped = split.RunMany(inputs);
        Assert.Equal(inputs.Length, piped.Count);
        for (var i = 0; i < inputs.Length; i++) Assert.Equal(sequential[i], piped[i][0].AsSpan<float>().ToArray());
        // Distinct inputs give distinct outputs, so a mix-up between items could not pass unnoticed.
        Assert.NotEqual(sequential[0], sequential[1]);
    }

    [Fact]
    public void Throughput_policy_measures_items_per_second_and_keeps_the_highest()
    {
        var result = Autotuner.Tune(TestModels.Chain(), SplitOptions(SelectionPolicy.HighestThroughput));
        using var session = result.Session!;
        var measured = result.SingleBackend.Append(result.Autotuned!).Where(p => p.MeasuredMs is not null && !p.Abandoned && p.Error is null).ToList();
        Assert.All(measured, p => Assert.True(p.ThroughputPerSecond > 0, p.Label));
        Assert.Equal(measured.Max(p => p.ThroughputPerSecond), result.Chosen!.ThroughputPerSecond);
        // Each plan tried sequential streaming and its parallel mode, and keeps the faster; the session streams that way.
        Assert.All(measured, p =>
        {
            Assert.Equal(2, p.ThroughputByMode!.Count);
            Assert.Equal(p.ThroughputByMode.Values.Max(), p.ThroughputPerSecond);
            Assert.Contains(p.StreamExecution!.Value, p.ThroughputByMode.Keys);
        });
        Assert.Equal(result.Chosen.StreamExecution, session.StreamExecution);
        var json = Reporting.AutotuneReport.ToJson(result);
        Assert.True(json["plan"]!["throughput_per_s"]!.GetValue<double>() > 0);
        Assert.NotNull(json["plan"]!["stream_execution"]);
    }
}
