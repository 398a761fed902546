using System.Diagnostics;
using System.Globalization;

namespace AccelSdk.Benchmarks;

/// <summary>
/// Side-by-side overhead measurement for a shared, noisy machine: alternates blocks of plain-ORT and AccelSdk runs
/// so that load changes hit both equally, then reports medians and the ratio of medians.
/// Run: <c>dotnet run -c Release --project bench/AccelSdk.Benchmarks -- --interleaved [rounds]</c>.
/// </summary>
internal static class InterleavedRunner
{
    public static void Run(int rounds)
    {
        Console.WriteLine("model      pair           plain_median   sdk_median     ratio   overhead/call  paired_ratio  [p25, p75]");
        foreach (var model in new[] { "tiny-relu", "resnet18" })
        {
            var bench = new OverheadBenchmarks { ModelName = model };
            bench.Setup();
            var perBlock = model == "resnet18" ? 3 : 2000;
            Compare(model, "allocating", bench.PlainOnnxRuntime, bench.AccelSdkSession, perBlock, rounds);
            Compare(model, "into-buffers", bench.PlainOnnxRuntimeIoBinding, bench.AccelSdkIntoBuffers, perBlock, rounds);
            bench.Cleanup();
        }
    }

    private static void Compare(string model, string pair, Func<float> plainRun, Func<float> sdkRun, int perBlock, int rounds)
    {
        for (var i = 0; i < perBlock; i++)
        {
            plainRun();
            sdkRun();
        }
        var plain = new List<double>();
        var sdk = new List<double>();
        for (var r = 0; r < rounds; r++)
        {
            plain.Add(TimeBlock(plainRun, perBlock));
            sdk.Add(TimeBlock(sdkRun, perBlock));
        }
        // Each round's SDK block over the plain block just before it: load that drifts between rounds cancels out.
        var ratios = plain.Zip(sdk, (pl, sd) => sd / pl).ToList();
        var p = Median(plain);
        var s = Median(sdk);
        ratios.Sort();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{model,-10} {pair,-12} {Format(p),12} {Format(s),12} {s / p,9:F4} {Format(s - p),12} {ratios[ratios.Count / 2],12:F4}  [{ratios[ratios.Count / 4]:F4}, {ratios[3 * ratios.Count / 4]:F4}]"));
    }

    private static double TimeBlock(Func<float> run, int count)
    {
        var start = Stopwatch.GetTimestamp();
        for (var i = 0; i < count; i++) run();
        return Stopwatch.GetElapsedTime(start).TotalMicroseconds / count;
    }

    private static double Median(List<double> values)
    {
        values.Sort();
        return values[values.Count / 2];
    }

    private static string Format(double us) => us >= 1000 ? $"{us / 1000:F3} ms" : $"{us:F2} us";
}
