using AccelSdk.Ilgpu;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace AccelSdk.Ilgpu.Benchmarks;

/// <summary>MatMul N x N x N on every available ILGPU device and on ONNX Runtime's CPU EP, with a GFLOP/s column.</summary>
[Config(typeof(GflopsConfig))]
public class MatMulBenchmarks
{
    private static readonly IlgpuBackend Backend = new();
    private IRunner? _runner;

    [Params(256, 512, 1024)]
    public int N { get; set; }

    [ParamsSource(nameof(Devices))]
    public string Device { get; set; } = "ort-cpu";

    public static IEnumerable<string> Devices() =>
        new[] { "ort-cpu" }.Concat(Backend.Devices.Where(d => d.IsAvailable).Select(d => d.Id));

    [GlobalSetup]
    public void Setup()
    {
        var workload = Workload.MatMul(N);
        _runner = Device == "ort-cpu"
            ? new OrtRunner(workload, false, Environment.ProcessorCount)
            : new IlgpuRunner(Backend, Backend.Devices.Single(d => d.Id == Device), workload);
    }

    [Benchmark]
    public void MatMul() => _runner!.RunOnce();

    [GlobalCleanup]
    public void Cleanup() => _runner?.Dispose();

    private sealed class GflopsConfig : ManualConfig
    {
        public GflopsConfig() => AddColumn(new GflopsColumn());
    }

    /// <summary>2*N^3 floating-point operations divided by the mean time.</summary>
    private sealed class GflopsColumn : IColumn
    {
        public string Id => "GFLOPs";
        public string ColumnName => "GFLOP/s";
        public bool AlwaysShow => true;
        public ColumnCategory Category => ColumnCategory.Custom;
        public int PriorityInCategory => 0;
        public bool IsNumeric => true;
        public UnitType UnitType => UnitType.Dimensionless;
        public string Legend => "2*N^3 / mean time";
        public bool IsAvailable(Summary summary) => true;
        public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
        public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
        {
            var report = summary[benchmarkCase];
            if (report?.ResultStatistics is null) return "-";
            var n = (int)benchmarkCase.Parameters["N"];
            return (2.0 * n * n * n / report.ResultStatistics.Mean).ToString("F2", System.Globalization.CultureInfo.InvariantCulture);
        }
    }
}
