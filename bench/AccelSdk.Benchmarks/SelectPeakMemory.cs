using System.Globalization;
using AccelSdk.Ir;

namespace AccelSdk.Benchmarks;

/// <summary>
/// Peak resident memory of a whole-model selection: loads the model, then selects among the given candidates (default
/// ort-cpu, ilgpu-cpu and ilgpu-opencl:0, the last with <c>ACCELSDK_ILGPU_OPENCL=pocl-compat</c>) and prints the process's
/// peak RSS (VmHWM) before and after. Run it in a fresh process per measurement: VmHWM only grows.
/// <c>dotnet run -c Release --project bench/AccelSdk.Benchmarks -- select-peak-rss [MODEL] [DEVICE ...]</c>
/// </summary>
public static class SelectPeakMemory
{
    public static int Run(string[] args)
    {
        var modelPath = args.Length > 1 ? args[1] : TestSupport.RepoPaths.ResNet18;
        var candidates = args.Length > 2 ? args[2..] : new[] { "ort-cpu", "ilgpu-cpu", "ilgpu-opencl:0" };
        var model = Model.Load(modelPath);
        GC.Collect();
        var beforeRss = Kib("VmRSS");
        var beforePeak = Kib("VmHWM");
        using (var session = Select(model, candidates))
        {
            Console.WriteLine($"chosen {session.Selection!.Chosen.Id}; candidates: " +
                string.Join("; ", session.Selection.Candidates.Select(c => $"{c.Device.Id} {(c.MedianMs is { } ms ? ms.ToString("F1", CultureInfo.InvariantCulture) + " ms" : c.Error)}")));
            Console.WriteLine($"rss after load: {beforeRss / 1024.0:F0} MiB (peak {beforePeak / 1024.0:F0} MiB); " +
                $"rss with the selected session: {Kib("VmRSS") / 1024.0:F0} MiB; peak during Select: {Kib("VmHWM") / 1024.0:F0} MiB");
        }
        return 0;
    }

    private static Execution.AccelSession Select(Model model, string[] candidates) =>
        Accel.Select(model, new SelectOptions { Candidates = candidates, WarmupRuns = 1, MeasuredRuns = 3 });

    private static long Kib(string field)
    {
        var line = File.ReadLines("/proc/self/status").First(l => l.StartsWith(field + ":", StringComparison.Ordinal));
        return long.Parse(line.Split(':', 2)[1].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
    }
}
