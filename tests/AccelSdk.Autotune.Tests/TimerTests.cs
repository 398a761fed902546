using System.Diagnostics;

namespace AccelSdk.Autotune.Tests;

public sealed class TimerTests
{
    private static void Spin(double ms)
    {
        var start = Stopwatch.GetTimestamp();
        while (Stopwatch.GetElapsedTime(start).TotalMilliseconds < ms) { }
    }

    [Fact]
    public void Abandons_after_one_run_when_far_slower_than_the_best()
    {
        var runs = 0;
        var result = Profiling.Timer.Measure(() => { runs++; Spin(5); }, new TimingRules { WarmupRuns = 1 }, abandonAboveMs: 1);
        Assert.True(result.Abandoned);
        Assert.Equal(2, runs); // one warm-up, one timed
        Assert.True(result.MedianMs >= 5);
    }

    [Fact]
    public void A_hopeless_warmup_run_abandons_before_any_timed_run()
    {
        var runs = 0;
        var result = Profiling.Timer.Measure(() => { runs++; Spin(5); }, new TimingRules { WarmupRuns = 1 }, abandonAboveMs: 0.1, abandonWarmupAboveMs: 1);
        Assert.True(result.Abandoned);
        Assert.Equal(1, runs);
        Assert.Equal(0, result.Runs);
    }

    [Fact]
    public void Slow_runs_stop_on_the_budget_and_steady_runs_on_the_spread_rule()
    {
        var slow = Profiling.Timer.Measure(() => Spin(20), new TimingRules { WarmupRuns = 0, MinRuns = 5, BudgetPerCandidate = TimeSpan.FromMilliseconds(30) });
        Assert.Equal(3, slow.Runs); // over budget after 2, but 3 runs make a median that survives one stall
        var verySlow = Profiling.Timer.Measure(() => Spin(30), new TimingRules { WarmupRuns = 0, MinRuns = 5, BudgetPerCandidate = TimeSpan.FromMilliseconds(2) });
        Assert.Equal(1, verySlow.Runs);
        var steady = Profiling.Timer.Measure(() => Spin(0.5), new TimingRules { WarmupRuns = 1, MinRuns = 5, MaxRuns = 200, MaxRelativeSpread = 0.5, BudgetPerCandidate = TimeSpan.FromSeconds(5) });
        Assert.InRange(steady.Runs, 5, 199);
        Assert.True(steady.RelativeSpread <= 0.5);
        Assert.InRange(steady.MedianMs, 0.5, 5);
    }
}
