using AccelSdk.Autotune.Reporting;

namespace AccelSdk.Autotune.Tests;

/// <summary>Kernel variants a backend offers (ILGPU's MatMul kernels) are measured as plans of their own and kept when fastest.</summary>
public sealed class CompileVariantTests
{
    [Fact]
    public void Ilgpu_MatMul_variants_are_measured_the_fastest_is_kept_and_its_settings_are_cached()
    {
        var dir = TestModels.TempDirectory("variants");
        AutotuneOptions Options() => new()
        {
            Candidates = new[] { "ilgpu-cpu" },
            CacheDirectory = dir,
            NodeTiming = TestModels.QuickTiming,
            PlanRuns = 5,
        };
        var result = Autotuner.Tune(FusedGroupTests.ConvBnReluMatMulAdd(), Options());
        result.Session!.Dispose();

        var plans = result.SingleBackend.Where(p => p.Devices.SequenceEqual(new[] { "ilgpu-cpu" })).ToList();
        Assert.Equal(new[] { "packed", "blocked" }, plans.Select(p => p.Variant?.Name));
        Assert.Equal(new[] { "ilgpu-cpu", "ilgpu-cpu [blocked]" }, plans.Select(p => p.Label));
        Assert.All(plans, p => Assert.Null(p.Error));
        Assert.NotNull(plans[0].MeasuredMs);
        // A variant is either measured or abandoned as hopeless next to the other, never left unexplained.
        Assert.All(plans, p => Assert.True(p.MeasuredMs is not null || p.Abandoned, p.Label));
        var fastest = plans.Where(p => p.MeasuredMs is not null && !p.Abandoned).MinBy(p => p.MeasuredMs)!;
        Assert.Equal(fastest.Variant, result.Chosen!.Variant);

        var json = AutotuneReport.ToJson(result);
        var blocked = json["single_backend"]!.AsArray().Single(s => s!["variant"]?.GetValue<string>() == "blocked")!;
        Assert.Equal("ilgpu-cpu", blocked["device"]!.GetValue<string>());
        Assert.Equal(fastest.Variant!.Name, json["plan"]!["variant"]!.GetValue<string>());

        // The next selection comes from the cache and compiles with the kept variant's settings.
        var cacheText = File.ReadAllText(result.CachePath!);
        Assert.Contains($"\"ilgpu.matmul@ilgpu-cpu\": \"{fastest.Variant.Name}\"", cacheText, StringComparison.Ordinal);
        var again = Autotuner.Tune(FusedGroupTests.ConvBnReluMatMulAdd(), Options());
        using var session = again.Session!;
        Assert.True(again.FromCache);
        Assert.Contains(again.SingleBackend, p => p.Label == "ilgpu-cpu [blocked]");
    }
}
