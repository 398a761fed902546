using AccelSdk.Autotune;
using AccelSdk.Autotune.Reporting;
using AccelSdk.Ir;
using AccelSdk.Onnx;

namespace AccelSdk.Cli;

/// <summary><c>accelsdk autotune MODEL [--input F.pb ...] --report DIR</c>: tune, write the report, print the summary.</summary>
internal static class AutotuneCommand
{
    public const string Usage = """
          autotune MODEL --report DIR [--input F.pb ...] [--policy P] [--device ID ...] [--pin NODE_OR_OP=DEVICE ...]
                   [--memory-limit DEVICE=BYTES[k|M|G] ...] [--cache DIR] [--no-cache] [--retune]
                                                         place each node on the device measured fastest; writes
                                                         DIR/report.json and DIR/report.html
        """;

    public static int Run(CommandLine cl, Func<string?, SelectionPolicy> parsePolicy)
    {
        var path = cl.Positional(0, "MODEL");
        var reportDir = cl.Option("report") ?? throw new UsageException("autotune needs --report DIR");
        var inputFiles = cl.Options("input");
        var policy = parsePolicy(cl.Option("policy"));
        var devices = cl.Options("device");
        var pins = cl.Options("pin");
        var limits = cl.Options("memory-limit");
        var cacheDir = cl.Option("cache");
        var noCache = cl.Flag("no-cache");
        var retune = cl.Flag("retune");
        cl.RejectUnknown();
        var pinMap = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pin in pins)
        {
            var eq = pin.IndexOf('=');
            if (eq <= 0 || eq == pin.Length - 1) throw new UsageException($"--pin takes NODE_OR_OP=DEVICE, not '{pin}'");
            pinMap[pin[..eq]] = pin[(eq + 1)..];
        }
        var limitMap = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var limit in limits)
        {
            var eq = limit.IndexOf('=');
            if (eq <= 0 || eq == limit.Length - 1 || ParseBytes(limit[(eq + 1)..]) is not { } bytes)
            {
                throw new UsageException($"--memory-limit takes DEVICE=BYTES with an optional k, M or G suffix (1024-based), not '{limit}'");
            }
            limitMap[limit[..eq]] = bytes;
        }
        var model = Model.Load(path);
        var interactive = !Console.IsErrorRedirected;
        var lastStage = "";
        var options = new AutotuneOptions
        {
            Policy = policy,
            SampleInputs = inputFiles.Count > 0 ? OnnxTensors.ReadInputs(model, inputFiles) : null,
            Candidates = devices.Count > 0 ? devices : null,
            Pins = pinMap.Count > 0 ? pinMap : null,
            MemoryLimits = limitMap.Count > 0 ? limitMap : null,
            CacheDirectory = cacheDir,
            NoCache = noCache,
            Retune = retune,
            Progress = p =>
            {
                if (interactive)
                {
                    Console.Error.Write("\r" + ConsoleReport.ProgressLine(p).PadRight(100)[..100]);
                }
                else if (p.Stage != lastStage || p.Done == p.Total)
                {
                    Console.Error.WriteLine("accelsdk: " + ConsoleReport.ProgressLine(p));
                }
                lastStage = p.Stage;
            },
        };
        var result = Autotuner.Tune(model, options);
        if (interactive) Console.Error.WriteLine();
        using (result.Session)
        {
            var (json, html) = AutotuneReport.Write(result, reportDir);
            Console.Write(ConsoleReport.Summary(result));
            Console.WriteLine($"report: {json}, {html}");
            if (result.Unsupported.Count > 0)
            {
                Console.Error.WriteLine($"accelsdk: error: {model.Label}: no device runs " +
                    string.Join(", ", result.Unsupported.Select(u => $"{u.Node} [{u.Op}]")));
                return 1;
            }
        }
        return 0;
    }

    private static long? ParseBytes(string text)
    {
        var multiplier = char.ToUpperInvariant(text[^1]) switch { 'K' => 1L << 10, 'M' => 1L << 20, 'G' => 1L << 30, _ => 1L };
        var digits = multiplier == 1 ? text : text[..^1];
        return long.TryParse(digits, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) && n > 0 ? n * multiplier : null;
    }
}
