using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using AccelSdk.Autotune.Reporting;
using AccelSdk.Execution;
using AccelSdk.Ir;
using AccelSdk.TestSupport;
using Xunit.Abstractions;

namespace AccelSdk.Autotune.Tests;

public sealed class AutotunerTests(ITestOutputHelper output)
{
    [Fact]
    public void ResNet18_plan_is_the_fastest_measured_and_matches_ORT()
    {
        var dir = TestModels.TempDirectory("resnet");
        var model = Model.Load(RepoPaths.ResNet18);
        var result = Autotuner.Tune(model, new AutotuneOptions { CacheDirectory = dir });
        using var session = result.Session!;
        output.WriteLine(ConsoleReport.Summary(result));

        Assert.Empty(result.Unsupported);
        var measuredSingles = result.SingleBackend.Where(s => s.MeasuredMs is not null && !s.Abandoned).ToList();
        Assert.Contains(measuredSingles, s => s.Label == "ort-cpu");
        // Every single-backend plan that can run the model ran: a hopeless prediction may skip per-node candidates,
        // never a whole single-backend plan (ilgpu-cpu is predicted ~15x slower here and must still be measured).
        Assert.All(result.SingleBackend.Where(s => s.Error is null), s => Assert.True(s.MeasuredMs is not null, $"{s.Label} was not run"));
        Assert.True(result.Chosen!.MeasuredMs <= measuredSingles.Min(s => s.MeasuredMs), "the kept plan is the fastest measured");
        // The ILGPU CPU simulator is hopeless on these layers: it must be abandoned or skipped, not timed at length.
        var ilgpu = result.Nodes.SelectMany(n => n.Candidates).Where(c => c.DeviceId == "ilgpu-cpu").ToList();
        Assert.Contains(ilgpu, c => c.Status is CandidateStatus.Skipped or CandidateStatus.Abandoned);
        Assert.Equal(model.Graph.Nodes.Count, result.Nodes.Count);
        Assert.All(result.Nodes, n => Assert.NotNull(n.Assigned));

        // Outputs of the kept plan against ORT on the whole model.
        var inputs = SampleInputs.Random(model);
        using var ort = new AccelSession(GraphPartitioner.WholeModel(model, AccelRuntime.Default.Resolve("ort-cpu").Backend, AccelRuntime.Default.Resolve("ort-cpu").Device));
        Assert.True(Autotuner.MaxRelativeDifference(session.Run(inputs), ort.Run(inputs)) <= 1e-4);

        // A second tuning comes from the cache and selecting through it is cheap (the figure is in bench/ and the notes).
        var watch = Stopwatch.StartNew();
        var again = Autotuner.Tune(model, new AutotuneOptions { CacheDirectory = dir });
        output.WriteLine($"cached re-selection: {watch.Elapsed.TotalMilliseconds:F1} ms, of which compile {again.Session!.CompileTime.TotalMilliseconds:F1} ms");
        again.Session.Dispose();
        Assert.True(again.FromCache);
        Assert.Equal(result.Nodes.Select(n => n.Assigned), again.Nodes.Select(n => n.Assigned));
    }

    [Fact]
    public void A_pinned_node_splits_the_plan_across_ILGPU_and_ORT_with_real_transfers()
    {
        var model = TestModels.Chain();
        var result = Autotuner.Tune(model, new AutotuneOptions
        {
            NoCache = true,
            NodeTiming = TestModels.QuickTiming,
            PlanRuns = 5,
            Pins = new Dictionary<string, string> { ["sigmoid"] = "ilgpu-cpu", ["relu"] = "ort-cpu", ["scale"] = "ort" },
        });
        using var session = result.Session!;
        var auto = result.Autotuned!;
        Assert.Null(auto.Error);
        Assert.Equal(new[] { "ort-cpu", "ort-cpu", "ilgpu-cpu", "ort-cpu" }, result.Nodes.Select(n => n.Autotuned));
        // Measured against the single backends, which are not pinned; whatever is kept, the autotuned plan ran.
        Assert.NotNull(auto.MeasuredMs);
        Assert.NotNull(auto.PredictedMs);

        var plan = PlanBuilder(result, model);
        Assert.Equal(3, plan.Partitions.Count);
        Assert.Contains(plan.Transfers, t => t.ValueName == "a" && t.To.Id == "ilgpu-cpu");
        Assert.Contains(plan.Transfers, t => t.ValueName == "s" && t.From.Id == "ilgpu-cpu" && t.To.Id == "ort-cpu");
        using var split = new AccelSession(plan);
        var inputs = SampleInputs.Random(model);
        using var ort = new AccelSession(GraphPartitioner.WholeModel(model, AccelRuntime.Default.Resolve("ort-cpu").Backend, AccelRuntime.Default.Resolve("ort-cpu").Device));
        Assert.True(Autotuner.MaxRelativeDifference(split.Run(inputs), ort.Run(inputs)) <= 1e-5);
        Assert.Single(result.Transfers, t => t.DeviceId == "ilgpu-cpu");
        var types = ShapeInference.Infer(model);
        // ILGPU's CPU accelerator reads ORT's output in place and lends its own to ORT in place: direct, no copy.
        Assert.Equal(new TransferStatistics(Runs: 1, Transfers: 2, DirectTransfers: 2, HostRoundTrips: 0, Copies: 0,
            Bytes: plan.Transfers.Sum(t => ((TensorType)types[t.ValueName]).Shape!.ToArray().Aggregate(4L, (n, d) => n * d))), split.TransferStatistics);

        // The report shows the route of every cut edge of the kept plan (here: the split, whichever plan was measured fastest).
        result.Plan = plan;
        var files = AutotuneReport.Write(result, TestModels.TempDirectory("cut-edges"));
        var edges = JsonNode.Parse(File.ReadAllText(files.Json))!["plan"]!["cut_edges"]!.AsArray();
        Assert.Contains(edges, e => (string?)e!["value"] == "a" && (string?)e["route"] == "direct" && (int?)e["copies"] == 0 && (string?)e["to_space"] == "ilgpu-cpu"
            && ((string?)e["path"])!.Contains("in place", StringComparison.Ordinal));
        Assert.Contains(edges, e => (string?)e!["value"] == "s" && (string?)e["route"] == "direct" && (string?)e["from_space"] == "ilgpu-cpu" && (string?)e["to_space"] == "host"
            && ((string?)e["path"])!.Contains("lent", StringComparison.Ordinal));
        Assert.Contains(edges, e => (string?)e!["route"] == "none");
        var page = File.ReadAllText(files.Html);
        Assert.Contains("<h2>Cut edges of the kept plan</h2>", page, StringComparison.Ordinal);
        Assert.Contains("<td class=\"l\">direct: ilgpu: host memory read in place by ilgpu-cpu</td><td>0</td>", page, StringComparison.Ordinal);
    }

    private static ExecutionPlan PlanBuilder(AutotuneResult result, Model model)
    {
        var byId = result.Devices.ToDictionary(d => d.Device.Id);
        var placements = result.Nodes.Select(n => new Execution.Placement(byId[n.Autotuned!].Backend, byId[n.Autotuned!].Device)).ToArray();
        return Autotune.Placement.PlanBuilder.Build(model, placements, ShapeInference.Infer(model));
    }

    [Fact]
    public void Nodes_no_backend_claims_are_listed_and_no_plan_is_made()
    {
        var result = Autotuner.Tune(TestModels.WithUnclaimedOp(), new AutotuneOptions { NoCache = true });
        Assert.Null(result.Session);
        var (node, op, reason) = Assert.Single(result.Unsupported);
        Assert.Equal("frob", node);
        Assert.Equal("test.custom::Frobnicate", op);
        Assert.Contains("ort-cpu", reason, StringComparison.Ordinal);
        Assert.Contains("Frobnicate", ConsoleReport.Summary(result), StringComparison.Ordinal);

        var ex = Assert.Throws<UnsupportedOperatorException>(() => Accel.Select(TestModels.WithUnclaimedOp(), new SelectOptions { Autotune = true }));
        Assert.Contains("frob", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Select_with_Autotune_returns_a_session_on_the_tuned_plan()
    {
        Environment.SetEnvironmentVariable("ACCELSDK_CACHE_DIR", TestModels.TempDirectory("select"));
        var model = TestModels.Chain();
        using var session = Accel.Select(model, new SelectOptions { Autotune = true, Candidates = new[] { "ort-cpu", "ilgpu-cpu" } });
        Assert.NotNull(session.Selection);
        Assert.Contains(session.Selection!.Candidates, c => c.Device.Id == "ort-cpu" && c.MedianMs is not null);
        var inputs = SampleInputs.Random(model);
        using var ort = new AccelSession(GraphPartitioner.WholeModel(model, AccelRuntime.Default.Resolve("ort-cpu").Backend, AccelRuntime.Default.Resolve("ort-cpu").Device));
        Assert.True(Autotuner.MaxRelativeDifference(session.Run(inputs), ort.Run(inputs)) <= 1e-5);
    }

    [Fact]
    public void Report_json_has_the_stable_keys()
    {
        var result = Autotuner.Tune(TestModels.Chain(), new AutotuneOptions { NoCache = true, NodeTiming = TestModels.QuickTiming, PlanRuns = 5 });
        result.Session!.Dispose();
        var dir = TestModels.TempDirectory("report");
        var (jsonPath, htmlPath) = AutotuneReport.Write(result, dir);
        using var doc = JsonDocument.Parse(File.ReadAllText(jsonPath));
        var root = doc.RootElement;
        Assert.True(root.GetProperty("plan").GetProperty("measured_ms").GetDouble() > 0);
        var singles = root.GetProperty("single_backend").EnumerateArray().ToList();
        Assert.Contains(singles, s => s.GetProperty("backend").GetString() == "ort" && s.GetProperty("device").GetString() == "ort-cpu" && s.GetProperty("measured_ms").GetDouble() > 0);
        Assert.All(singles, s => Assert.True(s.TryGetProperty("error", out _)));
        var nodes = root.GetProperty("nodes").EnumerateArray().ToList();
        Assert.Equal(4, nodes.Count);
        Assert.All(nodes, n => Assert.False(string.IsNullOrEmpty(n.GetProperty("assigned").GetString())));
        Assert.Equal(new[] { "relu", "add", "sigmoid", "scale" }, nodes.Select(n => n.GetProperty("name").GetString()));
        Assert.Equal(new[] { "Relu", "Add", "Sigmoid", "Mul" }, nodes.Select(n => n.GetProperty("op").GetString()));
        Assert.True(root.GetProperty("devices").GetArrayLength() >= 1);
        Assert.True(File.Exists(htmlPath));
    }
}
