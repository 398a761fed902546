using BenchmarkDotNet.Running;

if (args.Length > 0 && args[0] == "split-copies") return AccelSdk.Benchmarks.SplitCopiesBench.Run(args);
if (args.Length > 0 && args[0] == "split-copies-worker") return AccelSdk.Benchmarks.SplitCopiesBench.RunWorker();
if (args.Length > 0 && args[0] == "split-spinning") return AccelSdk.Benchmarks.SplitSpinningBench.Run(args);
if (args.Length > 0 && args[0] == "reselect") return AccelSdk.Benchmarks.ReselectBench.Run(args);
if (args.Length > 0 && args[0] == "reselect-child") return AccelSdk.Benchmarks.ReselectBench.Child(args);
if (args.Length > 0 && args[0] == "select-peak-rss") return AccelSdk.Benchmarks.SelectPeakMemory.Run(args);
if (args.Length > 0 && args[0] == "overlap-prediction") return AccelSdk.Benchmarks.OverlapPrediction.Run(args);
if (args.Length > 0 && args[0] == "alloc-check") return AccelSdk.Benchmarks.AllocationCheck.Run();
if (args.Length > 0 && args[0] == "supports-timing") return AccelSdk.Benchmarks.SupportsTiming.Run(args);
if (args.Length > 0 && args[0] == "autotune-ratios") return AccelSdk.Benchmarks.AutotuneRatios.Run(args);
if (args.Length > 0 && args[0] == "--interleaved")
{
    AccelSdk.Benchmarks.InterleavedRunner.Run(args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 21);
    return 0;
}
BenchmarkSwitcher.FromAssembly(typeof(AccelSdk.Benchmarks.OverheadBenchmarks).Assembly).Run(args);
return 0;
