using AccelSdk.Backends;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;
using Orleans.Hosting;

namespace AccelSdk.Cluster.Hosting;

/// <summary>Options of one node (an Orleans silo hosting the local AccelSdk runtime).</summary>
public sealed record NodeOptions
{
    /// <summary>The node name, unique in the cluster (the silo name; grains of this node are keyed by it).</summary>
    public string Name { get; init; } = Environment.MachineName;

    /// <summary>Membership: <see cref="ClusterConnection.Localhost"/> or a Redis server.</summary>
    public ClusterConnection Cluster { get; init; } = ClusterConnection.Localhost;

    /// <summary>Cluster id shared by every node and client of one cluster.</summary>
    public string ClusterId { get; init; } = "accelsdk";

    /// <summary>Silo-to-silo port.</summary>
    public int SiloPort { get; init; } = ClusterConnection.DefaultPrimarySiloPort;

    /// <summary>Port clients connect to.</summary>
    public int GatewayPort { get; init; } = ClusterConnection.DefaultGatewayPort;

    /// <summary>The address the node listens on and advertises (loopback by default).</summary>
    public IPAddress Address { get; init; } = IPAddress.Loopback;

    /// <summary>The cluster certificate (with its private key): when set, all traffic is TLS and peers must present it.</summary>
    public X509Certificate2? Certificate { get; init; }

    /// <summary>Device ids or backend names the node offers to the cluster; null offers every available device.</summary>
    public IReadOnlyList<string>? Devices { get; init; }

    /// <summary>
    /// Threads each backend may use inside one operator (ONNX Runtime's and TFLite's intra-op threads) in every session
    /// of this node. Null (default): the cores this process may run on (its CPU affinity and cgroup quota, as
    /// <see cref="Environment.ProcessorCount"/> reports them); 0: each backend decides (ONNX Runtime takes one thread
    /// per core of the machine and pins them itself, ignoring the process's affinity).
    /// </summary>
    public int? IntraOpThreads { get; init; }

    /// <summary>Where models are stored by digest.</summary>
    public string StoreDirectory { get; init; } = Path.Combine(Path.GetTempPath(), "accelsdk-node");

    /// <summary>Minimum log level of Orleans' own log on standard error.</summary>
    public LogLevel LogLevel { get; init; } = LogLevel.Warning;
}

/// <summary>
/// Builds and runs a node. Membership is tuned to notice a dead node in about two seconds (probe timeout 1 s, two
/// missed probes), as measured for issue 13: with Orleans' defaults a killed node stalled calls for 10-30 s.
/// </summary>
public static class ClusterNode
{
    /// <summary>Builds the node's host (not started).</summary>
    public static IHost Build(NodeOptions options)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(options.LogLevel);
        // Start-up advice (server GC) and CPU-starvation notes of a busy small machine are not the user's problem.
        builder.Logging.AddFilter("Orleans.Runtime.Silo", LogLevel.Error).AddFilter("Orleans.Runtime.Watchdog", LogLevel.Error);
        builder.Logging.Services.Configure<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        var store = new NodeModelStore(options.Name, options.StoreDirectory);
        builder.Services.AddSingleton(new NodeRuntime(options.Name, store, options.Devices, NodeFaults.FromEnvironment()) { Compile = CompileOptionsOf(options) });
        builder.UseOrleans(silo =>
        {
            options.Cluster.Configure(silo, options.ClusterId, options.SiloPort, options.GatewayPort, options.Address);
            silo.Configure<SiloOptions>(o => o.SiloName = options.Name);
            silo.Configure<ClusterMembershipOptions>(ConfigureFailureDetection);
            silo.Configure<SiloMessagingOptions>(o => o.MaxMessageBodySize = MaxMessageBytes);
            silo.AddPlacementDirector<NodePlacementStrategy, NodePlacementDirector>();
            silo.AddIncomingGrainCallFilter<NodeErrorFilter>();
            if (options.Certificate is { } certificate) ClusterSecurity.Configure(silo, certificate);
        });
        return builder.Build();
    }

    /// <summary>Runs a node until <paramref name="cancellationToken"/> is cancelled (or the process is asked to stop).</summary>
    public static async Task RunAsync(NodeOptions options, Action<string>? started, CancellationToken cancellationToken)
    {
        using var host = Build(options);
        await host.StartAsync(cancellationToken);
        started?.Invoke($"node {options.Name} up: silo port {options.SiloPort}, gateway port {options.GatewayPort}, cluster {options.Cluster}{(options.Certificate is null ? "" : ", TLS")}, process {Environment.ProcessId}");
        await host.WaitForShutdownAsync(cancellationToken);
    }

    /// <summary>
    /// How the node compiles its sessions. Intra-op threads default to the cores this process may use: ONNX Runtime's
    /// own default is one thread per core of the machine, each pinned by ONNX Runtime to its core, so a node that
    /// was given one core (taskset, a container's cpuset) still ran on every core of the machine. ONNX Runtime's pool
    /// threads sleep between runs instead of spinning: the node's Orleans threads need the same cores to take the
    /// next request off the wire and to send the answer.
    /// </summary>
    internal static CompileOptions CompileOptionsOf(NodeOptions options)
    {
        var threads = options.IntraOpThreads ?? Environment.ProcessorCount;
        if (threads < 0) throw new ArgumentOutOfRangeException(nameof(options), threads, "NodeOptions.IntraOpThreads must be 0 (each backend decides) or more");
        return new CompileOptions
        {
            IntraOpThreads = threads,
            Settings = new Dictionary<string, string>(StringComparer.Ordinal) { [OrtSpinningSetting] = "0" },
        };
    }

    /// <summary>ONNX Runtime's session config entry that lets its intra-op pool threads busy-wait after a run.</summary>
    internal const string OrtSpinningSetting = "session.intra_op.allow_spinning";

    /// <summary>Largest message (a model chunk or a batch of tensors) in bytes.</summary>
    internal const int MaxMessageBytes = 256 << 20;

    internal static void ConfigureFailureDetection(ClusterMembershipOptions o)
    {
        o.ProbeTimeout = TimeSpan.FromSeconds(1);
        o.NumMissedProbesLimit = 2;
        o.NumVotesForDeathDeclaration = 1;
        o.TableRefreshTimeout = TimeSpan.FromSeconds(2);
        o.IAmAliveTablePublishTimeout = TimeSpan.FromSeconds(5);
    }
}
