using BenchmarkDotNet.Running;

if (args.Length > 0 && args[0] == "autotune-ratios") return AccelSdk.Benchmarks.AutotuneRatios.Run(args);
BenchmarkSwitcher.FromAssembly(typeof(AccelSdk.Benchmarks.OverheadBenchmarks).Assembly).Run(args);
return 0;
