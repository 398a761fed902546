using AccelSdk.TestSupport;
using System.Text.Json;
using AccelSdk.Autotune.Cache;
using AccelSdk.Execution;
using AccelSdk.Ir;

namespace AccelSdk.Autotune.Tests;

public sealed class CacheTests
{
    private static AutotuneOptions Options(string dir) => TestModels.CachedOrtOptions(dir);

    [Fact]
    public void Second_tuning_of_a_model_reuses_the_cached_plan_and_node_timings()
    {
        var dir = TestModels.TempDirectory("cache");
        var first = Autotuner.Tune(TestModels.Chain(), Options(dir));
        first.Session!.Dispose();
        Assert.False(first.FromCache);
        Assert.True(File.Exists(first.CachePath));

        var second = Autotuner.Tune(TestModels.Chain(), Options(dir));
        using var session = second.Session!;
        Assert.True(second.FromCache);
        Assert.Equal(first.Nodes.Select(n => n.Assigned), second.Nodes.Select(n => n.Assigned));
        Assert.All(second.Nodes, n => Assert.True(n.Candidates.Single().FromCache));
        Assert.Equal(first.Nodes.Select(n => n.Candidates[0].MedianMs), second.Nodes.Select(n => n.Candidates[0].MedianMs));
        // The cached session runs and gives the first session's numbers.
        var x = Execution.SampleInputs.Random(TestModels.Chain());
        var y = session.Run(x)[0];
        Assert.Equal(1L * 64 * 32 * 32, y.ElementCount);
    }

    [Fact]
    public void Cached_plan_only_takes_the_cached_plan_and_without_one_measures_nothing()
    {
        var dir = TestModels.TempDirectory("cached-plan-only");
        var none = Autotuner.Tune(TestModels.Chain(), Options(dir) with { CachedPlanOnly = true });
        Assert.Null(none.Session);
        Assert.Null(none.Plan);
        Assert.False(none.FromCache);
        Assert.Empty(none.Nodes);
        Assert.False(File.Exists(none.CachePath), "nothing measured, nothing written");

        var tuned = Autotuner.Tune(TestModels.Chain(), Options(dir));
        tuned.Session!.Dispose();
        var cached = Autotuner.Tune(TestModels.Chain(), Options(dir) with { CachedPlanOnly = true });
        using var session = cached.Session!;
        Assert.True(cached.FromCache);
        Assert.Equal(tuned.Nodes.Select(n => n.Assigned), cached.Nodes.Select(n => n.Assigned));
        Assert.Equal(1L * 64 * 32 * 32, session.Run(Execution.SampleInputs.Random(TestModels.Chain()))[0].ElementCount);
    }

    [Fact]
    public void A_corrupt_cache_file_is_ignored_with_a_warning_and_rebuilt()
    {
        var dir = TestModels.TempDirectory("corrupt");
        var first = Autotuner.Tune(TestModels.Chain(), Options(dir));
        first.Session!.Dispose();
        var path = first.CachePath!;
        var text = File.ReadAllText(path);
        File.WriteAllText(path, text[..(text.Length / 2)]); // truncated mid-document

        var second = Autotuner.Tune(TestModels.Chain(), Options(dir));
        second.Session!.Dispose();
        Assert.False(second.FromCache);
        Assert.Contains(second.Warnings, w => w.Contains(path, StringComparison.Ordinal) && w.Contains("ignored and will be rebuilt", StringComparison.Ordinal));
        // Rebuilt: valid again, and a third tuning uses it.
        using (var doc = JsonDocument.Parse(File.ReadAllText(path))) Assert.Equal(TuningCache.Format, doc.RootElement.GetProperty("format").GetString());
        var third = Autotuner.Tune(TestModels.Chain(), Options(dir));
        third.Session!.Dispose();
        Assert.True(third.FromCache);
    }

    [Fact]
    public void A_cache_file_of_another_machine_or_format_is_ignored()
    {
        var dir = TestModels.TempDirectory("foreign");
        var first = Autotuner.Tune(TestModels.Chain(), Options(dir));
        first.Session!.Dispose();
        var path = first.CachePath!;
        File.WriteAllText(path, File.ReadAllText(path).Replace(first.Fingerprint.Hash, "0123456789abcdef", StringComparison.Ordinal));
        var opened = TuningCache.Open(dir, first.Fingerprint);
        Assert.False(opened.Loaded);
        Assert.Empty(opened.Plans);

        File.WriteAllText(path, """{"format":"something-else/9","fingerprint_hash":"x"}""");
        Assert.False(TuningCache.Open(dir, first.Fingerprint).Loaded);
        File.WriteAllBytes(path, new byte[] { 0, 1, 2, 0xff, 0xfe });
        Assert.False(TuningCache.Open(dir, first.Fingerprint).Loaded);
    }

    [Fact]
    public void A_plan_is_cached_under_the_overlap_it_was_measured_with_and_its_session_runs_with_that_overlap()
    {
        var dir = TestModels.TempDirectory("overlap");
        var byDefault = Autotuner.Tune(TestModels.Chain(), Options(dir));
        using (byDefault.Session)
        {
            Assert.Equal(PartitionOverlap.AcrossProcessors, byDefault.PartitionOverlap);
            Assert.Equal(PartitionOverlap.AcrossProcessors, byDefault.Session!.PartitionOverlap);
        }
        var acrossDevices = Options(dir) with { PartitionOverlap = PartitionOverlap.AcrossDevices };
        var other = Autotuner.Tune(TestModels.Chain(), acrossDevices);
        using (other.Session)
        {
            Assert.False(other.FromCache, "a plan measured with another overlap setting was taken from the cache");
            Assert.NotEqual(byDefault.PlanKey, other.PlanKey);
            Assert.Equal(PartitionOverlap.AcrossDevices, other.PartitionOverlap);
            Assert.Equal(PartitionOverlap.AcrossDevices, other.Session!.PartitionOverlap);
        }
        var cached = Autotuner.Tune(TestModels.Chain(), acrossDevices);
        using (cached.Session)
        {
            Assert.True(cached.FromCache);
            Assert.Equal(other.PlanKey, cached.PlanKey);
            Assert.Equal(PartitionOverlap.AcrossDevices, cached.Session!.PartitionOverlap);
        }
    }

    [Fact]
    public void Node_timings_are_shared_across_models_by_operator_signature()
    {
        var dir = TestModels.TempDirectory("shared");
        var first = Autotuner.Tune(TestModels.Chain(), Options(dir));
        first.Session!.Dispose();
        // Same layers, another model (renamed graph and nodes, extra pins setting changes the plan key).
        var other = TestModels.Chain();
        other.Graph.Name = "other";
        foreach (var n in other.Graph.Nodes) n.Name = "renamed_" + n.Name;
        var second = Autotuner.Tune(other, Options(dir) with { Pins = new Dictionary<string, string> { ["Relu"] = "ort-cpu" } });
        second.Session!.Dispose();
        Assert.False(second.FromCache);
        Assert.All(second.Nodes, n => Assert.True(n.Candidates.Single().FromCache, n.Name));
    }

    [Fact]
    public void A_cached_selection_loads_the_saved_compiled_plan_and_profiles_nothing()
    {
        var dir = TestModels.TempDirectory("compiled");
        var model = TestModels.Chain();
        var x = Execution.SampleInputs.Random(model);
        var first = Autotuner.Tune(model, Options(dir));
        AccelTensor expected;
        using (var session = first.Session!)
        {
            Assert.False(session.CompiledPartitions.Single().LoadedFromArtifactCache);
            expected = session.Run(x)[0];
        }
        var artefacts = Directory.GetFiles(dir, "*.ort", SearchOption.AllDirectories);
        Assert.Single(artefacts);

        var stages = new List<string>();
        var second = Autotuner.Tune(model, Options(dir) with { Progress = new InlineProgress<SelectionProgress>(p => stages.Add(p.Stage)) });
        using (var session = second.Session!)
        {
            Assert.True(second.FromCache);
            Assert.Empty(stages); // no capture, no node profiling, no transfers, no plan measurement
            Assert.True(session.CompiledPartitions.Single().LoadedFromArtifactCache);
            Assert.Equal(expected.AsSpan<float>().ToArray(), session.Run(x)[0].AsSpan<float>().ToArray());
        }

        // A broken artefact is deleted with a warning and the partition compiled (and saved) afresh.
        File.WriteAllBytes(artefacts[0], new byte[] { 1, 2, 3, 4, 5, 6, 7, 8 });
        var third = Autotuner.Tune(model, Options(dir));
        using (var session = third.Session!)
        {
            Assert.True(third.FromCache);
            Assert.False(session.CompiledPartitions.Single().LoadedFromArtifactCache);
            Assert.Equal(expected.AsSpan<float>().ToArray(), session.Run(x)[0].AsSpan<float>().ToArray());
        }
        Assert.Contains(third.Warnings, w => w.Contains(artefacts[0], StringComparison.Ordinal) && w.Contains("compiled afresh", StringComparison.Ordinal));
        Assert.True(new FileInfo(artefacts[0]).Length > 8);

        // Other weights, same structure: the tuning cache plan is reused, the compiled artefact is not.
        var changed = TestModels.Chain();
        changed.Graph.Initializers[0].AsSpan<float>()[0] = 0.25f;
        var fourth = Autotuner.Tune(changed, Options(dir));
        using (var session = fourth.Session!)
        {
            Assert.True(fourth.FromCache);
            Assert.False(session.CompiledPartitions.Single().LoadedFromArtifactCache);
            Assert.Equal(expected.AsSpan<float>().ToArray().Select(v => v / 2), session.Run(x)[0].AsSpan<float>().ToArray());
        }
    }
}
