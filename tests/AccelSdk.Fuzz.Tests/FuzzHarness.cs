using System.Diagnostics;
using System.Reflection;
using System.Text.RegularExpressions;
using AccelSdk.TestSupport;

namespace AccelSdk.Fuzz.Tests;

/// <summary>Runs the built fuzz harness (tools/AccelSdk.Fuzz) as its own process, as CI and a developer do.</summary>
internal static partial class FuzzHarness
{
    public sealed record Result(int ExitCode, string Output)
    {
        /// <summary>The "FINDING" lines: count, signature and the file written for it.</summary>
        public IReadOnlyList<string> Findings => Output.Split('\n').Where(l => l.StartsWith("FINDING", StringComparison.Ordinal)).Select(l => l.TrimEnd()).ToArray();

        /// <summary>The harness's count line: mutants, imported, refused, compiled and run, worker starts.</summary>
        public string SummaryLine => Output.Split('\n').FirstOrDefault(l => MutantsLine().IsMatch(l))?.TrimEnd() ?? "(no summary line)";

        /// <summary>How many mutants the run checked, from its summary line (0 when it printed none).</summary>
        public int Mutants => MutantsLine().Match(Output) is { Success: true } m ? int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) : 0;
    }

    [GeneratedRegex(@"fuzz \w+: (\d+) mutants in")]
    private static partial Regex MutantsLine();

    /// <summary>The harness built in the same configuration as these tests.</summary>
    public static string Program
    {
        get
        {
            var configuration = typeof(FuzzHarness).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Release";
            var path = Path.Combine(RepoPaths.Root, "tools", "AccelSdk.Fuzz", "bin", configuration, "net10.0", "AccelSdk.Fuzz.dll");
            if (!File.Exists(path)) throw new FileNotFoundException($"{path} is missing: build tests/AccelSdk.Fuzz.Tests (it builds the harness)");
            return path;
        }
    }

    public static Result Run(TimeSpan limit, params string[] arguments)
    {
        var info = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = RepoPaths.Root,
        };
        info.ArgumentList.Add(Program);
        foreach (var a in arguments) info.ArgumentList.Add(a);
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(limit))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"the fuzz harness ran past {limit.TotalSeconds:0} s: {string.Join(' ', arguments)}\n{stdout.Result}");
        }
        process.WaitForExit();
        return new Result(process.ExitCode, stdout.Result + stderr.Result);
    }

    /// <summary>A fresh folder under artifacts/fuzz for one test's crash files.</summary>
    public static string CrashFolder(string name)
    {
        var folder = Path.Combine(RepoPaths.Root, "artifacts", "fuzz", name);
        if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        Directory.CreateDirectory(folder);
        return folder;
    }
}
