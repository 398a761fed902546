using BenchmarkDotNet.Running;

BenchmarkSwitcher.FromAssembly(typeof(AccelSdk.Benchmarks.OverheadBenchmarks).Assembly).Run(args);
