using AccelSdk.Optimize.Calibration;

namespace AccelSdk.Optimize.Tests;

public sealed class CalibrationTests
{
    [Fact]
    public void Entropy_threshold_of_a_gaussian_clips_the_far_tail_only()
    {
        var random = new Random(3);
        var samples = Enumerable.Range(0, 400_000).Select(_ => Math.Abs(Gaussian(random))).ToArray();
        var max = samples.Max();
        var histogram = new double[2048];
        foreach (var v in samples) histogram[Math.Min((int)(v / max * 2048), 2047)]++;
        var threshold = Calibrator.EntropyThreshold(histogram, 128) * max / 2048;
        // 128 levels on |x| ~ N(0,1): the cut lies in the tail, past 2.5 sigma, yet below the largest sample.
        Assert.InRange(threshold, 2.5, max * 0.95);
    }

    private static double Gaussian(Random r) => Math.Sqrt(-2 * Math.Log(1 - r.NextDouble())) * Math.Cos(2 * Math.PI * r.NextDouble());
}
