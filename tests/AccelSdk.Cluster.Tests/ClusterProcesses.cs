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

    private RedisServer(int port, string directory, int pid)
    {
        Port = port;
        _directory = directory;
        _pid = pid;
    }

    public int Port { get; }

    public string Connection => $"redis:127.0.0.1:{Port}";

    public static RedisServer Start()
    {
        var server = File.Exists("/usr/bin/redis-server") ? "/usr/bin/redis-server"
            : throw new InvalidOperationException("redis-server is missing: apt-get install redis-server (scripts/setup-cluster.sh)");
        var directory = Directory.CreateTempSubdirectory("accelsdk-redis-").FullName;
        var port = FreePorts.Next();
        var pidFile = Path.Combine(directory, "redis.pid");
        using (var start = Process.Start(new ProcessStartInfo(server)
        {
            ArgumentList = { "--port", port.ToString(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "yes", "--pidfile", pidFile, "--dir", directory, "--logfile", Path.Combine(directory, "redis.log") },
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
            if (File.Exists(pidFile) && int.TryParse(File.ReadAllText(pidFile).Trim(), out var pid) && Answers(port)) return new RedisServer(port, directory, pid);
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

    private static bool Answers(int port)
    {
        try
        {
            using var client = new TcpClient();
            client.Connect(IPAddress.Loopback, port);
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

    public string Log
    {
        get
        {
            lock (_log) return string.Join("\n", _log);
        }
    }

    /// <summary>Starts a node and waits (at most <paramref name="timeout"/>) for its "up" line.</summary>
    public static NodeProcess Start(string name, string cluster, string? tlsCert = null, TimeSpan? timeout = null, int? siloPort = null, int? gatewayPort = null,
        string? cpuList = null, string? device = null)
    {
        var node = Launch(name, cluster, tlsCert, siloPort, gatewayPort, cpuList, device);
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

    /// <summary>Starts a node without waiting for it.</summary>
    public static NodeProcess Launch(string name, string cluster, string? tlsCert = null, int? siloPort = null, int? gatewayPort = null, string? cpuList = null,
        string? device = null)
    {
        var cli = Path.Combine(AppContext.BaseDirectory, "AccelSdk.Cli.dll");
        if (!File.Exists(cli)) throw new FileNotFoundException("the CLI is not beside the tests", cli);
        var store = Directory.CreateTempSubdirectory("accelsdk-node-" + name + "-").FullName;
        var gateway = gatewayPort ?? FreePorts.Next();
        var info = new ProcessStartInfo(cpuList is null ? "dotnet" : "taskset")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (cpuList is not null)
        {
            info.ArgumentList.Add("-c");
            info.ArgumentList.Add(cpuList);
            info.ArgumentList.Add("dotnet");
        }
        foreach (var a in new[] { cli, "node", "--cluster", cluster, "--name", name, "--port", (siloPort ?? FreePorts.Next()).ToString(), "--gateway-port", gateway.ToString(), "--store", store })
            info.ArgumentList.Add(a);
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
        var process = Process.Start(info) ?? throw new InvalidOperationException("could not start the node process");
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
