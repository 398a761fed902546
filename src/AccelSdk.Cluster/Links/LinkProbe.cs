using System.Diagnostics;
using AccelSdk.Cluster.Wire;

namespace AccelSdk.Cluster;

/// <summary>
/// Measures a link with probe calls of several sizes and fits latency + bandwidth. Bounded: a size whose probe took
/// longer than <see cref="SlowProbe"/> ends the series (larger ones would only take longer on that link).
/// </summary>
public static class LinkProbe
{
    /// <summary>Probe sizes: 1 KiB to 1 MiB (ResNet18's input is 588 KiB, its cut tensors 98-784 KiB).</summary>
    public static readonly long[] DefaultSizes = { 1 << 10, 64 << 10, 256 << 10, 1 << 20 };

    /// <summary>A probe slower than this ends the series.</summary>
    public static readonly TimeSpan SlowProbe = TimeSpan.FromSeconds(2);

    /// <summary>Probes <paramref name="call"/> at each size (after one warm-up call) and fits the line.</summary>
    public static async Task<LinkFit> MeasureAsync(string from, string to, Func<byte[], Task> call, IReadOnlyList<long> sizes, int repeats,
        CancellationToken cancellationToken)
    {
        repeats = Math.Clamp(repeats, 1, 20);
        await call(new byte[16]).WaitAsync(cancellationToken);
        var samples = new List<LinkSample>();
        foreach (var bytes in sizes.Where(s => s is >= 0 and <= 16 << 20).Distinct().Order())
        {
            var median = await MedianCallMsAsync(call, bytes, repeats, cancellationToken);
            samples.Add(new LinkSample(bytes, median));
            if (median > SlowProbe.TotalMilliseconds && samples.Count >= 2) break;
        }
        return LinkFit.Fit(from, to, samples);
    }

    /// <summary>Median time of <paramref name="repeats"/> calls carrying <paramref name="bytes"/>.</summary>
    public static async Task<double> MedianCallMsAsync(Func<byte[], Task> call, long bytes, int repeats, CancellationToken cancellationToken)
    {
        var payload = new byte[bytes];
        Random.Shared.NextBytes(payload);
        var times = new double[Math.Clamp(repeats, 1, 20)];
        for (var i = 0; i < times.Length; i++)
        {
            var start = Stopwatch.GetTimestamp();
            await call(payload).WaitAsync(cancellationToken);
            times[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }
        Array.Sort(times);
        return times[times.Length / 2];
    }

    /// <summary>
    /// True when a check probe of <paramref name="bytes"/> that took <paramref name="observedMs"/> disagrees with the fit by
    /// more than 30% (and more than 2 ms): the link has drifted and is measured again.
    /// </summary>
    public static bool Drifted(LinkFit fit, long bytes, double observedMs)
    {
        var predicted = fit.CallMs(bytes);
        return Math.Abs(observedMs - predicted) > Math.Max(2.0, 0.3 * predicted);
    }
}
