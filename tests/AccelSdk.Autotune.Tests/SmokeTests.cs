using AccelSdk.Ir;
using AccelSdk.TestSupport;
using Xunit.Abstractions;

namespace AccelSdk.Autotune.Tests;

public sealed class SmokeTests(ITestOutputHelper output)
{
    [Fact]
    public void ResNet18()
    {
        var dir = Path.Combine(Path.GetTempPath(), "autotune-smoke-" + Guid.NewGuid().ToString("N"));
        var result = Autotuner.Tune(Model.Load(RepoPaths.ResNet18), new AutotuneOptions { CacheDirectory = dir, Progress = p => { if (p.Done == 0 || p.Done == p.Total) output.WriteLine($"{DateTime.Now:HH:mm:ss.fff} {p.Stage} {p.Done}/{p.Total} {p.Detail}"); } });
        output.WriteLine($"{result.TuningSeconds:F1}s chosen {result.Chosen}");
        output.WriteLine($"auto {result.Autotuned}");
        foreach (var s in result.SingleBackend) output.WriteLine($"single {s}");
        foreach (var t in result.Transfers) output.WriteLine($"transfer {t}");
        foreach (var kv in result.CallOverheadMs) output.WriteLine($"overhead {kv}");
        foreach (var n in result.Nodes.Take(8)) output.WriteLine($"{n.Name} {n.Op} -> {n.Assigned}: " + string.Join(" | ", n.Candidates.Select(c => $"{c.DeviceId} {c.Status} {c.MedianMs:F3} {c.Runs} {c.Note}")));
        foreach (var w in result.Warnings) output.WriteLine("warn " + w);
        result.Session?.Dispose();
    }
}
