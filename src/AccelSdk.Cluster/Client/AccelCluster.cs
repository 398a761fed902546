using System.Security.Cryptography;
using AccelSdk.Cluster.Grains;
using AccelSdk.Cluster.Hosting;
using AccelSdk.Cluster.Wire;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;
using Orleans.Runtime;

namespace AccelSdk.Cluster.Client;

/// <summary>
/// A connection to an AccelSdk cluster.
/// <code>
/// await using var cluster = await AccelCluster.ConnectAsync(new AccelClusterOptions(), ct);
/// await using var session = await cluster.SelectAsync("resnet18.onnx", new ClusterSelectOptions(), progress: null, ct);
/// var outputs = await session.RunAsync(inputs, ct);
/// </code>
/// </summary>
public sealed partial class AccelCluster : IAsyncDisposable
{
    /// <summary>Bytes of model sent per call.</summary>
    internal const int UploadChunkBytes = 4 << 20;

    private readonly IHost _host;
    private long _uploadedBytes;

    private AccelCluster(IHost host, AccelClusterOptions options)
    {
        _host = host;
        Options = options;
        Grains = host.Services.GetRequiredService<IClusterClient>();
    }

    /// <summary>The options connected with.</summary>
    public AccelClusterOptions Options { get; }

    /// <summary>Model bytes this client has sent to nodes so far.</summary>
    public long UploadedBytes => Interlocked.Read(ref _uploadedBytes);

    internal IClusterClient Grains { get; }

    /// <summary>
    /// Connects. A refused connection (wrong or missing cluster certificate, no node reachable) is retried by
    /// Orleans until <paramref name="cancellationToken"/> is cancelled: give it a deadline.
    /// </summary>
    public static async Task<AccelCluster> ConnectAsync(AccelClusterOptions options, CancellationToken cancellationToken) =>
        new(await StartClientAsync(options, options.Gateway, cancellationToken), options);

    /// <summary>Starts an Orleans client host: through <paramref name="gateway"/> only when given, else through every gateway membership lists.</summary>
    private static async Task<IHost> StartClientAsync(AccelClusterOptions options, System.Net.IPEndPoint? gateway, CancellationToken cancellationToken)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.UseOrleansClient(client =>
        {
            if (gateway is not null)
            {
                client.UseStaticClustering(gateway);
                client.Configure<ClusterOptions>(o => (o.ClusterId, o.ServiceId) = (options.ClusterId, options.ClusterId));
            }
            else
            {
                options.Cluster.Configure(client, options.ClusterId, options.GatewayPort);
            }
            client.Configure<ClientMessagingOptions>(o =>
            {
                o.ResponseTimeout = options.ResponseTimeout;
                o.MaxMessageBodySize = ClusterNode.MaxMessageBytes;
            });
            client.Configure<GatewayOptions>(o => o.GatewayListRefreshPeriod = TimeSpan.FromSeconds(1));
            if (options.Certificate is { } certificate) ClusterSecurity.Configure(client, certificate);
        });
        var host = builder.Build();
        try
        {
            await host.StartAsync(cancellationToken);
        }
        catch
        {
            await StopQuietlyAsync(host);
            throw;
        }
        return host;
    }

    /// <summary>
    /// Names of the nodes that are active members now. A node that died a moment ago may still be listed (membership
    /// notices within a few seconds); the read itself goes through any node that answers, and fails with
    /// <see cref="ClusterException"/> only when none did within <see cref="AccelClusterOptions.ResponseTimeout"/>.
    /// </summary>
    public async Task<IReadOnlyList<string>> GetActiveNodesAsync(CancellationToken cancellationToken = default) =>
        (await ReadActiveMembersAsync(cancellationToken)).Select(h => h.SiloName).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();

    /// <summary>
    /// What each active node publishes (devices, probe facts, fingerprint, runtimes, free memory). A node that is still
    /// listed but does not answer (it died and membership has not noticed yet) is left out.
    /// </summary>
    public async Task<IReadOnlyList<NodeInfo>> GetNodesAsync(CancellationToken cancellationToken = default)
    {
        var names = await GetActiveNodesAsync(cancellationToken);
        var infos = await Task.WhenAll(names.Select(async n =>
        {
            try
            {
                return await RetryRejectedAsync(n, "reading its facts", () => Grains.GetGrain<INodeInfoGrain>(n).GetInfoAsync(), cancellationToken);
            }
            catch (Exception e) when (e is NodeUnavailableException or TimeoutException)
            {
                return null;
            }
        }));
        return infos.OfType<NodeInfo>().ToList();
    }

    /// <summary>The model store counters of a node.</summary>
    public Task<ModelStoreStats> GetStoreStatsAsync(string node, CancellationToken cancellationToken = default) =>
        RetryRejectedAsync(node, "reading its model store counters", () => Grains.GetGrain<IModelStoreGrain>(node).GetStatsAsync(), cancellationToken);

    /// <summary>The counters of a node's session of a model.</summary>
    public Task<InferenceStats> GetInferenceStatsAsync(string node, string digest, CancellationToken cancellationToken = default) =>
        RetryRejectedAsync(node, $"reading the counters of model {digest}", () => Grains.GetGrain<IInferenceGrain>(NodeKeys.Of(node, digest)).GetStatsAsync(), cancellationToken);

    /// <summary>
    /// Makes sure <paramref name="node"/> holds the model: sends it (once, in chunks, checked by the node) unless the
    /// node already has its digest. Returns the bytes sent (0 when it was present).
    /// </summary>
    public async Task<long> EnsureModelAsync(string node, ModelFile model, CancellationToken cancellationToken = default)
    {
        var store = Grains.GetGrain<IModelStoreGrain>(node);
        if (await RetryRejectedAsync(node, $"asking for model {model.Digest}", () => store.HasAsync(model.Digest), cancellationToken)) return 0;
        await RetryRejectedAsync(node, $"starting the upload of model {model.Digest}",
            () => store.BeginUploadAsync(model.Digest, model.Extension, model.Length, model.Sha256), cancellationToken);
        long sent = 0;
        await using (var file = File.OpenRead(model.Path))
        {
            var buffer = new byte[UploadChunkBytes];
            int read;
            while ((read = await file.ReadAsync(buffer, cancellationToken)) > 0)
            {
                var (chunk, offset) = (buffer[..read], sent);
                await RetryRejectedAsync(node, $"uploading model {model.Digest} at byte {offset}", () => store.UploadChunkAsync(model.Digest, offset, chunk), cancellationToken);
                sent += read;
                Interlocked.Add(ref _uploadedBytes, read);
            }
        }
        await RetryRejectedAsync(node, $"completing the upload of model {model.Digest}", () => store.CompleteUploadAsync(model.Digest), cancellationToken);
        return sent;
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await StopDirectConnectionsAsync();
        await StopQuietlyAsync(_host);
    }

    private static async Task StopQuietlyAsync(IHost host)
    {
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            await host.StopAsync(stop.Token);
        }
        catch (Exception e) when (e is OperationCanceledException or OrleansException or ObjectDisposedException)
        {
            // A client that never connected (refused, cancelled) has nothing to stop cleanly.
        }
        host.Dispose();
    }
}

/// <summary>A model file with its content digest and transfer checksum, computed once by the client.</summary>
/// <param name="Path">The file.</param>
/// <param name="Extension">Its extension (tells the node's loader the format).</param>
/// <param name="Length">Its length in bytes.</param>
/// <param name="Sha256">SHA-256 of its bytes (checked by the receiving node).</param>
/// <param name="Digest">The model's <see cref="Ir.ModelDigest"/> (the key nodes store it under).</param>
public sealed record ModelFile(string Path, string Extension, long Length, string Sha256, string Digest)
{
    /// <summary>Reads and digests a model file.</summary>
    public static ModelFile Of(string path)
    {
        var full = System.IO.Path.GetFullPath(path);
        var digest = LocalRuntime.DigestOf(full);
        using var stream = File.OpenRead(full);
        var sha = Convert.ToHexStringLower(SHA256.HashData(stream));
        return new ModelFile(full, System.IO.Path.GetExtension(full).ToLowerInvariant(), stream.Length, sha, digest);
    }
}
