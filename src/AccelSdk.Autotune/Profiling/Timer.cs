using System.Diagnostics;

namespace AccelSdk.Autotune.Profiling;

/// <summary>The outcome of timing one thing repeatedly.</summary>
/// <param name="MedianMs">Median of the timed runs.</param>
/// <param name="RelativeSpread">Interquartile range over the median.</param>
/// <param name="Runs">Timed runs made.</param>
/// <param name="WarmupMs">Time of the untimed warm-up runs together.</param>
/// <param name="Abandoned">True when given up after the first timed run because it was hopeless.</param>
public sealed record TimingResult(double MedianMs, double RelativeSpread, int Runs, double WarmupMs, bool Abandoned);

/// <summary>Repeats an action under <see cref="TimingRules"/>: warm-up, then runs until the median is stable.</summary>
public static class Timer
{
    /// <summary>
    /// Times <paramref name="run"/>. When <paramref name="abandonAboveMs"/> is set and the first timed run exceeds it, or
    /// <paramref name="abandonWarmupAboveMs"/> is set and a warm-up run exceeds it, stops at once and returns that run
    /// as an abandoned result. Throws <see cref="OperationCanceledException"/> before a run once <paramref name="cancellationToken"/> is cancelled.
    /// </summary>
    public static TimingResult Measure(Action run, TimingRules rules, double? abandonAboveMs = null, double? abandonWarmupAboveMs = null, CancellationToken cancellationToken = default)
    {
        var warmupStart = Stopwatch.GetTimestamp();
        for (var i = 0; i < rules.WarmupRuns; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var start = Stopwatch.GetTimestamp();
            run();
            // A warm-up run includes one-time costs, so only a far larger limit applies to it.
            var ms = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            if (abandonWarmupAboveMs is { } warmLimit && ms > warmLimit) return new TimingResult(ms, 0, 0, ms, Abandoned: true);
        }
        var warmupMs = Stopwatch.GetElapsedTime(warmupStart).TotalMilliseconds;

        var times = new List<double>(rules.MinRuns);
        var spent = 0.0;
        var budgetMs = rules.BudgetPerCandidate.TotalMilliseconds;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var start = Stopwatch.GetTimestamp();
            run();
            var ms = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            times.Add(ms);
            spent += ms;
            if (times.Count == 1 && abandonAboveMs is { } limit && ms > limit)
            {
                return new TimingResult(ms, 0, 1, warmupMs, Abandoned: true);
            }
            // Over budget, stop after 3 runs (the median of 3 survives one stall of a busy machine), or after one run
            // that alone took 10 budgets: a candidate that slow is not worth repeating.
            if (times.Count >= rules.MaxRuns || (spent >= budgetMs && (times.Count >= Math.Min(3, rules.MinRuns) || ms >= 10 * budgetMs))) break;
            if (times.Count < rules.MinRuns) continue;
            if (Summarise(times).Spread <= rules.MaxRelativeSpread) break;
        }
        var (median, spread) = Summarise(times);
        return new TimingResult(median, spread, times.Count, warmupMs, Abandoned: false);
    }

    /// <summary>Median and interquartile range over the median.</summary>
    public static TimingSummary Summarise(IReadOnlyList<double> values)
    {
        var sorted = values.ToArray();
        Array.Sort(sorted);
        var median = Quantile(sorted, 0.5);
        var iqr = Quantile(sorted, 0.75) - Quantile(sorted, 0.25);
        return new TimingSummary(median, median > 0 ? iqr / median : 0);
    }

    private static double Quantile(double[] sorted, double q)
    {
        if (sorted.Length == 1) return sorted[0];
        var position = q * (sorted.Length - 1);
        var low = (int)Math.Floor(position);
        var high = Math.Min(low + 1, sorted.Length - 1);
        return sorted[low] + (sorted[high] - sorted[low]) * (position - low);
    }
}

/// <summary>What <see cref="Timer.Summarise"/> makes of repeated timings.</summary>
/// <param name="Median">The median.</param>
/// <param name="Spread">The interquartile range over the median (0 when the median is 0).</param>
public sealed record TimingSummary(double Median, double Spread);
