using AccelSdk.Cluster.Hosting;
using AccelSdk.Cluster.Wire;

namespace AccelSdk.Cluster.Grains;

/// <summary>The node's model store behind a grain; lives on that node.</summary>
[NodePlacement]
internal sealed class ModelStoreGrain(NodeRuntime node) : Grain, IModelStoreGrain
{
    public Task<bool> HasAsync(string digest) => Task.FromResult(node.Store.Find(digest) is not null);

    public Task BeginUploadAsync(string digest, string extension, long length, string sha256)
    {
        node.Store.Begin(digest, extension, length, sha256);
        return Task.CompletedTask;
    }

    public Task UploadChunkAsync(string digest, long offset, byte[] chunk)
    {
        node.Store.Write(digest, offset, chunk);
        return Task.CompletedTask;
    }

    public async Task CompleteUploadAsync(string digest) => await Task.Run(() => node.Store.Complete(digest));

    public Task<ModelStoreStats> GetStatsAsync() => Task.FromResult(node.Store.Stats());
}
