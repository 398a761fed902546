using System.Net;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;
using Orleans.Hosting;
using StackExchange.Redis;

namespace AccelSdk.Cluster.Hosting;

/// <summary>
/// Where cluster membership lives: <c>localhost[:PRIMARY_SILO_PORT]</c> (Orleans development clustering: one machine,
/// the node on that silo port is the primary, default 11111) or <c>redis:HOST:PORT[,options]</c> (membership in a
/// Redis server: several processes or machines).
/// </summary>
public sealed record ClusterConnection
{
    /// <summary>The default primary silo port of localhost clustering.</summary>
    public const int DefaultPrimarySiloPort = 11111;

    /// <summary>The default gateway port of the primary node.</summary>
    public const int DefaultGatewayPort = 30000;

    private ClusterConnection(string? redis, int primarySiloPort)
    {
        Redis = redis;
        PrimarySiloPort = primarySiloPort;
    }

    /// <summary>The StackExchange.Redis configuration string, or null for localhost clustering.</summary>
    public string? Redis { get; }

    /// <summary>Localhost clustering: the primary silo's port.</summary>
    public int PrimarySiloPort { get; }

    /// <summary>Localhost clustering on the default primary silo port.</summary>
    public static ClusterConnection Localhost { get; } = new(null, DefaultPrimarySiloPort);

    /// <summary>Parses <c>localhost</c>, <c>localhost:PORT</c> or <c>redis:CONFIGURATION</c>.</summary>
    public static ClusterConnection Parse(string text)
    {
        if (text.StartsWith("redis:", StringComparison.OrdinalIgnoreCase))
        {
            var configuration = text["redis:".Length..];
            if (configuration.Length == 0) throw new ArgumentException("'redis:' needs HOST:PORT after it, for example redis:127.0.0.1:6379");
            ConfigurationOptions.Parse(configuration);
            return new ClusterConnection(configuration, DefaultPrimarySiloPort);
        }
        if (text == "localhost") return Localhost;
        if (text.StartsWith("localhost:", StringComparison.Ordinal) && int.TryParse(text["localhost:".Length..], out var port) && port is > 0 and < 65536)
            return new ClusterConnection(null, port);
        throw new ArgumentException($"'{text}' is neither localhost[:PORT] nor redis:HOST:PORT");
    }

    /// <summary>The grain storage holding fleet-shared tuning: the membership Redis, or memory with localhost clustering.</summary>
    internal const string FleetStorage = "fleet";

    /// <summary>Configures a silo's membership and endpoints on the loopback address (or <paramref name="address"/>).</summary>
    internal void Configure(ISiloBuilder silo, string clusterId, int siloPort, int gatewayPort, IPAddress address)
    {
        if (Redis is null)
        {
            silo.UseLocalhostClustering(siloPort, gatewayPort, new IPEndPoint(IPAddress.Loopback, PrimarySiloPort), clusterId, clusterId);
            // One machine, no Redis: fleet results live as long as the silo holding them.
            silo.AddMemoryGrainStorage(FleetStorage);
            return;
        }
        silo.UseRedisClustering(o => o.ConfigurationOptions = ConfigurationOptions.Parse(Redis));
        silo.AddRedisGrainStorage(FleetStorage, o => o.ConfigurationOptions = ConfigurationOptions.Parse(Redis));
        silo.Configure<ClusterOptions>(o => (o.ClusterId, o.ServiceId) = (clusterId, clusterId));
        silo.ConfigureEndpoints(address, siloPort, gatewayPort, listenOnAnyHostAddress: false);
    }

    /// <summary>Configures a client's gateway discovery (<paramref name="gatewayPort"/> for localhost clustering).</summary>
    internal void Configure(IClientBuilder client, string clusterId, int gatewayPort)
    {
        if (Redis is null)
        {
            client.UseLocalhostClustering(gatewayPort, clusterId, clusterId);
            return;
        }
        client.UseRedisClustering(o => o.ConfigurationOptions = ConfigurationOptions.Parse(Redis));
        client.Configure<ClusterOptions>(o => (o.ClusterId, o.ServiceId) = (clusterId, clusterId));
    }

    /// <inheritdoc />
    public override string ToString() => Redis is null ? $"localhost:{PrimarySiloPort}" : "redis:" + Redis;
}
