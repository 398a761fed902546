using System.Diagnostics;
using AccelSdk.Autotune.Reporting;

namespace AccelSdk.Autotune.Tests;

/// <summary>The HTML report opens in headless Chromium without console errors and its script runs.</summary>
public sealed class ReportHtmlTests
{
    [Fact]
    public async Task Report_html_opens_in_headless_Chromium_without_errors()
    {
        var chromium = new[] { "/usr/bin/chromium", "/usr/bin/chromium-browser" }.FirstOrDefault(File.Exists)
            ?? throw new FileNotFoundException("chromium is missing: run scripts/setup.sh (scripts/setup-autotune.sh installs it)");
        // A model with fusable chains, tuned for throughput under a memory cap, so every section of the page is rendered.
        var result = Autotuner.Tune(FusedGroupTests.ConvBnReluMatMulAdd(), new AutotuneOptions
        {
            NoCache = true,
            NodeTiming = TestModels.QuickTiming,
            PlanRuns = 5,
            Policy = SelectionPolicy.HighestThroughput,
            MemoryLimits = new Dictionary<string, long> { ["ort-cpu"] = 1L << 30 },
        });
        result.Session!.Dispose();
        var dir = TestModels.TempDirectory("html");
        var (_, html) = AutotuneReport.Write(result, dir);
        var page = File.ReadAllText(html);
        Assert.DoesNotContain("http://", page.Replace("http://www.w3.org/2000/svg", "", StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.DoesNotContain("https://", page, StringComparison.Ordinal);

        var profile = Path.Combine(dir, "chromium-profile");
        var info = new ProcessStartInfo(chromium)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
                     "--enable-logging=stderr", "--v=0", $"--user-data-dir={profile}", "--virtual-time-budget=2000", "--dump-dom", "file://" + html })
        {
            info.ArgumentList.Add(arg);
        }
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        var dom = await stdout;
        var log = await stderr;
        Assert.True(process.ExitCode == 0, $"chromium exited with {process.ExitCode}: {log}");
        // The page's script ran to its end (it marks the body) and nothing was logged to the console.
        Assert.Contains("data-ready=\"accelsdk-autotune-report/1\"", dom, StringComparison.Ordinal);
        var consoleLines = log.Split('\n').Where(l => l.Contains("CONSOLE", StringComparison.Ordinal) || l.Contains("Uncaught", StringComparison.Ordinal)).ToList();
        Assert.True(consoleLines.Count == 0, string.Join("\n", consoleLines));
        Assert.Contains("<svg", dom, StringComparison.Ordinal);
        Assert.Contains("id=\"heatmap\"", dom, StringComparison.Ordinal);
        Assert.Contains("<h2>Throughput (items per second", dom, StringComparison.Ordinal);
        Assert.Contains("<h2>Fused groups (ms)</h2>", dom, StringComparison.Ordinal);
        Assert.Contains("Conv+BatchNormalization+Relu", dom, StringComparison.Ordinal);
        Assert.Contains("<h2>Memory per device", dom, StringComparison.Ordinal);
        Assert.Contains("<td>1024.00</td>", dom, StringComparison.Ordinal);
    }
}
