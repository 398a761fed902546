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
        Console.WriteLine("model      plain_median   sdk_median     ratio   overhead/call");
        foreach (var model in new[] { "tiny-relu", "resnet18" })
        {
            var bench = new OverheadBenchmarks { ModelName = model };
            bench.Setup();
            var perBlock = model == "resnet18" ? 3 : 2000;
            for (var i = 0; i < perBlock; i++)
            {
                bench.PlainOnnxRuntime();
                bench.AccelSdkSession();
            }
            var plain = new List<double>();
            var sdk = new List<double>();
            for (var r = 0; r < rounds; r++)
            {
                plain.Add(TimeBlock(bench.PlainOnnxRuntime, perBlock));
                sdk.Add(TimeBlock(bench.AccelSdkSession, perBlock));
            }
            bench.Cleanup();
            var p = Median(plain);
            var s = Median(sdk);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{model,-10} {Format(p),12} {Format(s),12} {s / p,9:F4} {Format(s - p),12}"));
        }
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
