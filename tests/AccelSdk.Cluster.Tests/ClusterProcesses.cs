using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace AccelSdk.Cluster.Tests;

/// <summary>Free loopback ports, found by binding port 0.</summary>
public static class FreePorts
{
    public static int Next()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>A real Debian redis-server on a free loopback port, without persistence; killed on dispose.</summary>
public sealed class RedisServer : IDisposable
{
    private readonly string _directory;
    private readonly int _pid;

    private RedisServer(int port, string directory, int pid, IPAddress address)
    {
        Address = address;
        Port = port;
        _directory = directory;
        _pid = pid;
    }

    public int Port { get; }

    public IPAddress Address { get; }

    public string Connection => $"redis:{Address}:{Port}";

    /// <summary>Starts redis on <paramref name="address"/> (loopback by default; a test's own veth address for nodes in a namespace).</summary>
    public static RedisServer Start(IPAddress? address = null)
    {
        address ??= IPAddress.Loopback;
        var server = File.Exists("/usr/bin/redis-server") ? "/usr/bin/redis-server"
            : throw new InvalidOperationException("redis-server is missing: apt-get install redis-server (scripts/setup-cluster.sh)");
        var directory = Directory.CreateTempSubdirectory("accelsdk-redis-").FullName;
        var port = FreePorts.Next();
        var pidFile = Path.Combine(directory, "redis.pid");
        using (var start = Process.Start(new ProcessStartInfo(server)
        {
            ArgumentList = { "--port", port.ToString(), "--bind", address.ToString(), "--save", "", "--appendonly", "no", "--protected-mode", IPAddress.IsLoopback(address) ? "yes" : "no", "--daemonize", "yes", "--pidfile", pidFile, "--dir", directory, "--logfile", Path.Combine(directory, "redis.log") },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!)
        {
            if (!start.WaitForExit(10_000)) throw new TimeoutException("redis-server did not daemonize within 10 s");
            if (start.ExitCode != 0) throw new InvalidOperationException($"redis-server exited with {start.ExitCode}: {start.StandardError.ReadToEnd()}");
        }
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(10))
        {
            if (File.Exists(pidFile) && int.TryParse(File.ReadAllText(pidFile).Trim(), out var pid) && Answers(address, port)) return new RedisServer(port, directory, pid, address);
            Thread.Sleep(50);
        }
        throw new TimeoutException($"redis-server on port {port} did not answer within 10 s");
    }

    public void Dispose()
    {
        try
        {
            using var process = Process.GetProcessById(_pid);
            process.Kill();
            process.WaitForExit(5_000);
        }
        catch (ArgumentException)
        {
            // Already gone.
        }
        Directory.Delete(_directory, recursive: true);
    }

    private static bool Answers(IPAddress address, int port)
    {
        try
        {
            using var client = new TcpClient();
            client.Connect(address, port);
            var stream = client.GetStream();
            stream.Write("PING\r\n"u8);
            var buffer = new byte[16];
            var read = stream.Read(buffer);
            return read > 0 && buffer[0] == (byte)'+';
        }
        catch (SocketException)
        {
            return false;
        }
    }
}

/// <summary>A real node process (<c>accelsdk node</c>) on loopback; SIGKILLed on dispose if still running.</summary>
public sealed class NodeProcess : IDisposable
{
    private readonly Process _process;
    private readonly List<string> _log = new();

    private NodeProcess(string name, Process process, int gatewayPort, string store)
    {
        Name = name;
        _process = process;
        GatewayPort = gatewayPort;
        Store = store;
    }

    public string Name { get; }

    public int GatewayPort { get; }

    public string Store { get; }

    public int ProcessId => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>CPU time (user + system, every thread) the node process has used so far, from /proc/PID/stat.</summary>
    public TimeSpan CpuTime => ProcessCpu.Of(_process.Id);

    /// <summary>Time the node's threads spent runnable but waiting for a CPU so far (<see cref="ProcessCpu.RunQueueWait"/>).</summary>
    public TimeSpan RunQueueWait => ProcessCpu.RunQueueWait(_process.Id);

    public string Log
    {
        get
        {
            lock (_log) return string.Join("\n", _log);
        }
    }

    /// <summary>Starts a node and waits (at most <paramref name="timeout"/>) for its "up" line.</summary>
    public static NodeProcess Start(string name, string cluster, string? tlsCert = null, TimeSpan? timeout = null, int? siloPort = null, int? gatewayPort = null,
        string? cpuList = null, string? device = null, NodePlace? place = null, IReadOnlyList<string>? extraArguments = null, bool ownSession = false)
    {
        var node = Launch(name, cluster, tlsCert, siloPort, gatewayPort, cpuList, device, place, extraArguments, ownSession);
        try
        {
            node.WaitUp(timeout ?? TimeSpan.FromSeconds(90));
        }
        catch
        {
            node.Dispose();
            throw;
        }
        return node;
    }

    /// <summary>
    /// Starts a node without waiting for it. With <paramref name="ownSession"/> it runs in a session of its own
    /// (<c>setsid</c>), as a node started as a service would: with the kernel's autogroup scheduling
    /// (<c>/proc/sys/kernel/sched_autogroup_enabled</c>) every session shares the CPU as one group, so nodes started
    /// from the caller's session would split one share of a busy machine between them.
    /// </summary>
    public static NodeProcess Launch(string name, string cluster, string? tlsCert = null, int? siloPort = null, int? gatewayPort = null, string? cpuList = null,
        string? device = null, NodePlace? place = null, IReadOnlyList<string>? extraArguments = null, bool ownSession = false)
    {
        var cli = Path.Combine(AppContext.BaseDirectory, "AccelSdk.Cli.dll");
        if (!File.Exists(cli)) throw new FileNotFoundException("the CLI is not beside the tests", cli);
        var store = Directory.CreateTempSubdirectory("accelsdk-node-" + name + "-").FullName;
        var gateway = gatewayPort ?? FreePorts.Next();
        var command = new List<string>();
        if (ownSession) command.Add("setsid");
        if (place?.Namespace is { } netns) command.AddRange(["ip", "netns", "exec", netns]);
        if (cpuList is not null) command.AddRange(["taskset", "-c", cpuList]);
        command.Add("dotnet");
        var info = new ProcessStartInfo(command[0])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in command.Skip(1)) info.ArgumentList.Add(a);
        foreach (var (key, value) in place?.Environment ?? new Dictionary<string, string>()) info.Environment[key] = value;
        foreach (var a in new[] { cli, "node", "--cluster", cluster, "--name", name, "--port", (siloPort ?? FreePorts.Next()).ToString(), "--gateway-port", gateway.ToString(), "--store", store })
            info.ArgumentList.Add(a);
        if (place?.Address is { } address)
        {
            info.ArgumentList.Add("--address");
            info.ArgumentList.Add(address.ToString());
        }
        if (device is not null)
        {
            info.ArgumentList.Add("--device");
            info.ArgumentList.Add(device);
        }
        if (tlsCert is not null)
        {
            info.ArgumentList.Add("--tls-cert");
            info.ArgumentList.Add(tlsCert);
        }
        foreach (var a in extraArguments ?? []) info.ArgumentList.Add(a);
        var process = Process.Start(info) ?? throw new InvalidOperationException("could not start the node process");
        place?.Throttle?.Add(process.Id);
        var node = new NodeProcess(name, process, gateway, store);
        process.OutputDataReceived += (_, e) => node.Append(e.Data);
        process.ErrorDataReceived += (_, e) => node.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return node;
    }

    public void WaitUp(TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            if (Log.Contains($"node {Name} up", StringComparison.Ordinal)) return;
            if (_process.HasExited) throw new InvalidOperationException($"node {Name} exited with {_process.ExitCode}:\n{Log}");
            Thread.Sleep(100);
        }
        throw new TimeoutException($"node {Name} was not up within {timeout.TotalSeconds:0} s:\n{Log}");
    }

    /// <summary>SIGKILL: no goodbye to the cluster.</summary>
    public void Kill()
    {
        if (_process.HasExited) return;
        _process.Kill(entireProcessTree: true);
        _process.WaitForExit(10_000);
    }

    public void Dispose()
    {
        Kill();
        _process.Dispose();
        try
        {
            Directory.Delete(Store, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private void Append(string? line)
    {
        if (line is null) return;
        lock (_log) _log.Add(line);
    }
}

/// <summary>CPU time of a process (user + system over all its threads), read from /proc/PID/stat.</summary>
public static class ProcessCpu
{
    public static TimeSpan Of(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        // Fields after the command name (which may hold spaces) start at its closing parenthesis; utime and stime are
        // fields 14 and 15 of the whole line, in clock ticks.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        var ticks = long.Parse(fields[11], System.Globalization.CultureInfo.InvariantCulture) + long.Parse(fields[12], System.Globalization.CultureInfo.InvariantCulture);
        return TimeSpan.FromSeconds(ticks / (double)ClockTicksPerSecond);
    }

    /// <summary>
    /// Time the process's threads (those alive now) spent runnable but waiting for a CPU, from /proc/PID/task/*/schedstat
    /// (its second field, in nanoseconds): how long the process was held back by others on its cores.
    /// </summary>
    public static TimeSpan RunQueueWait(int pid)
    {
        long nanoseconds = 0;
        foreach (var task in Directory.GetDirectories($"/proc/{pid}/task"))
        {
            try
            {
                var fields = File.ReadAllText(Path.Combine(task, "schedstat")).Split(' ');
                nanoseconds += long.Parse(fields[1], System.Globalization.CultureInfo.InvariantCulture);
            }
            catch (IOException)
            {
                // The thread ended meanwhile.
            }
        }
        return TimeSpan.FromMilliseconds(nanoseconds / 1e6);
    }

    /// <summary>USER_HZ: 100 on every Linux architecture .NET runs on.</summary>
    private const int ClockTicksPerSecond = 100;
}
