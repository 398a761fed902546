using System.Diagnostics;

namespace AccelSdk.GpuCheck;

/// <summary>Times several actions round-robin (so every one sees the same machine load) and reports medians.</summary>
internal static class Interleaved
{
    /// <summary>Median milliseconds of each action over <paramref name="runs"/> rounds after <paramref name="warmups"/> untimed ones.</summary>
    public static double[] MedianMs(IReadOnlyList<Action> actions, int runs, int warmups = 2)
    {
        for (var w = 0; w < warmups; w++)
        {
            foreach (var a in actions) a();
        }
        var times = actions.Select(_ => new double[runs]).ToArray();
        for (var r = 0; r < runs; r++)
        {
            for (var i = 0; i < actions.Count; i++)
            {
                var start = Stopwatch.GetTimestamp();
                actions[i]();
                times[i][r] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            }
        }
        return times.Select(Median).ToArray();
    }

    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        if (sorted.Length == 0) throw new ArgumentException("no values", nameof(values));
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
