using System.Diagnostics;
using System.Net;

namespace AccelSdk.Cluster.Tests;

/// <summary>Where and how a node process runs: a network namespace, the address it listens on, a CPU limit, extra environment.</summary>
public sealed record NodePlace(string? Namespace = null, IPAddress? Address = null, CpuThrottle? Throttle = null, IReadOnlyDictionary<string, string>? Environment = null);

/// <summary>Runs a system tool (ip, tc) and throws with its output when it fails.</summary>
internal static class SystemTool
{
    public static string Run(string tool, params string[] arguments)
    {
        var (code, output) = TryRun(tool, arguments);
        return code == 0 ? output : throw new InvalidOperationException($"{tool} {string.Join(' ', arguments)} exited with {code}: {output}");
    }

    public static (int ExitCode, string Output) TryRun(string tool, params string[] arguments)
    {
        var info = new ProcessStartInfo(tool) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in arguments) info.ArgumentList.Add(a);
        try
        {
            using var process = Process.Start(info)!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(15_000))
            {
                process.Kill(entireProcessTree: true);
                return (-1, $"{tool} did not finish within 15 s");
            }
            return (process.ExitCode, stdout.Result + stderr.Result);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return (-1, $"{tool} could not be started: {e.Message}");
        }
    }
}

/// <summary>
/// A shaped virtual link made by the test: a network namespace joined to this one by a veth pair, with a /30 of
/// 10.213.0.0/16 (chosen per run) on its two ends, and a token-bucket (tbf) qdisc on both ends when a rate is set.
/// Nothing leaves the two ends. Removed on dispose (deleting the namespace deletes the pair and its qdiscs).
/// </summary>
public sealed class ShapedLink : IDisposable
{
    private bool _disposed;

    private ShapedLink(string ns, string hostEnd, string nsEnd, IPAddress hostAddress, IPAddress nsAddress)
    {
        Namespace = ns;
        HostEnd = hostEnd;
        NamespaceEnd = nsEnd;
        HostAddress = hostAddress;
        NamespaceAddress = nsAddress;
    }

    public string Namespace { get; }

    public string HostEnd { get; }

    public string NamespaceEnd { get; }

    /// <summary>This side's address (the test process, redis and nodes outside the namespace listen here).</summary>
    public IPAddress HostAddress { get; }

    /// <summary>The namespace side's address.</summary>
    public IPAddress NamespaceAddress { get; }

    /// <summary>Why a shaped link cannot be made here (not root, no ip/tc, no netns), or null when it can.</summary>
    public static string? Unavailable()
    {
        if (!OperatingSystem.IsLinux()) return "network namespaces need Linux";
        if (Environment.UserName != "root" && Environment.GetEnvironmentVariable("USER") != "root") return "making network namespaces needs root";
        foreach (var tool in new[] { "ip", "tc" })
        {
            if (SystemTool.TryRun(tool, "-V").ExitCode != 0) return $"'{tool}' is missing (apt-get install iproute2)";
        }
        var probe = $"accelsdk-probe-{Environment.ProcessId}";
        var (code, output) = SystemTool.TryRun("ip", "netns", "add", probe);
        if (code != 0) return "ip netns add failed: " + output.Trim();
        SystemTool.TryRun("ip", "netns", "del", probe);
        return null;
    }

    public static ShapedLink Create()
    {
        var id = Random.Shared.Next(1, 16_000);
        var ns = $"accelsdk-{Environment.ProcessId}-{id}";
        var (hostEnd, nsEnd) = ($"acs{id}h", $"acs{id}n");
        var subnet = id * 4;
        var hostAddress = new IPAddress(new byte[] { 10, 213, (byte)(subnet >> 8), (byte)((subnet & 0xff) + 1) });
        var nsAddress = new IPAddress(new byte[] { 10, 213, (byte)(subnet >> 8), (byte)((subnet & 0xff) + 2) });
        var link = new ShapedLink(ns, hostEnd, nsEnd, hostAddress, nsAddress);
        try
        {
            SystemTool.Run("ip", "netns", "add", ns);
            SystemTool.Run("ip", "link", "add", hostEnd, "type", "veth", "peer", "name", nsEnd, "netns", ns);
            SystemTool.Run("ip", "addr", "add", $"{hostAddress}/30", "dev", hostEnd);
            SystemTool.Run("ip", "link", "set", hostEnd, "up");
            SystemTool.Run("ip", "netns", "exec", ns, "ip", "addr", "add", $"{nsAddress}/30", "dev", nsEnd);
            SystemTool.Run("ip", "netns", "exec", ns, "ip", "link", "set", nsEnd, "up");
            SystemTool.Run("ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up");
        }
        catch
        {
            link.Dispose();
            throw;
        }
        return link;
    }

    /// <summary>Shapes both directions to <paramref name="megabitsPerSecond"/> (tbf), or removes the shaping when null.</summary>
    public void SetRate(int? megabitsPerSecond)
    {
        if (megabitsPerSecond is not { } rate)
        {
            SystemTool.TryRun("tc", "qdisc", "del", "dev", HostEnd, "root");
            SystemTool.TryRun("ip", "netns", "exec", Namespace, "tc", "qdisc", "del", "dev", NamespaceEnd, "root");
            return;
        }
        string[] tbf = ["root", "tbf", "rate", $"{rate}mbit", "burst", "64kb", "latency", "1000ms"];
        SystemTool.Run("tc", ["qdisc", "replace", "dev", HostEnd, .. tbf]);
        SystemTool.Run("ip", ["netns", "exec", Namespace, "tc", "qdisc", "replace", "dev", NamespaceEnd, .. tbf]);
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        SystemTool.TryRun("ip", "netns", "del", Namespace);
        SystemTool.TryRun("ip", "link", "del", HostEnd);
    }
}

/// <summary>
/// A CPU limit made by the test: a cgroup (v1 <c>cpu</c> controller, or v2) whose processes share
/// <paramref name="fraction"/> of one core, in 10 ms periods. Processes added are killed by their owners first; the group
/// is removed on dispose.
/// </summary>
public sealed class CpuThrottle : IDisposable
{
    private readonly string _directory;

    private CpuThrottle(string directory, double fraction)
    {
        _directory = directory;
        Fraction = fraction;
    }

    public double Fraction { get; }

    /// <summary>Why a CPU cgroup cannot be made here, or null.</summary>
    public static string? Unavailable()
    {
        if (Directory.Exists("/sys/fs/cgroup/cpu") && File.Exists("/sys/fs/cgroup/cpu/cpu.cfs_quota_us")) return null;
        if (File.Exists("/sys/fs/cgroup/cgroup.controllers") && File.ReadAllText("/sys/fs/cgroup/cgroup.controllers").Contains("cpu", StringComparison.Ordinal)) return null;
        return "no cpu cgroup controller (/sys/fs/cgroup/cpu or cgroup v2 with cpu)";
    }

    public static CpuThrottle Create(double fraction)
    {
        const int periodUs = 10_000;
        var quotaUs = Math.Max(1000, (int)(periodUs * fraction));
        var v1 = "/sys/fs/cgroup/cpu";
        var v2 = !File.Exists(Path.Combine(v1, "cpu.cfs_quota_us"));
        var directory = Path.Combine(v2 ? "/sys/fs/cgroup" : v1, $"accelsdk-test-{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(directory);
        var throttle = new CpuThrottle(directory, fraction);
        try
        {
            if (v2)
            {
                File.WriteAllText(Path.Combine(directory, "cpu.max"), $"{quotaUs} {periodUs}");
            }
            else
            {
                File.WriteAllText(Path.Combine(directory, "cpu.cfs_period_us"), periodUs.ToString());
                File.WriteAllText(Path.Combine(directory, "cpu.cfs_quota_us"), quotaUs.ToString());
            }
        }
        catch
        {
            throttle.Dispose();
            throw;
        }
        return throttle;
    }

    /// <summary>Moves a process (all its threads) into the group.</summary>
    public void Add(int pid) => File.WriteAllText(Path.Combine(_directory, "cgroup.procs"), pid.ToString());

    public void Dispose()
    {
        // The group can only go once its processes have exited (their owners kill them first): bounded retries.
        for (var attempt = 0; attempt < 50 && Directory.Exists(_directory); attempt++)
        {
            try
            {
                Directory.Delete(_directory);
            }
            catch (IOException)
            {
                Thread.Sleep(100);
            }
        }
    }
}
