using System.Security.Cryptography;
using AccelSdk.Cluster.Client;
using AccelSdk.Cluster.Grains;
using AccelSdk.TestSupport;

namespace AccelSdk.Cluster.Tests;

/// <summary>Models travel by content: once per node, checked on receipt, refused whole when bad or partial.</summary>
[Collection("cluster")]
public sealed class ModelStoreTests(TwoNodeCluster cluster)
{
    private static string Relu => RepoPaths.OnnxCase("node", "test_relu") + "/model.onnx";

    [Fact]
    public async Task A_model_is_sent_once_per_node_and_never_again()
    {
        var model = ModelFile.Of(Relu);
        var before = cluster.Client.UploadedBytes;
        var storeBefore = await cluster.Client.GetStoreStatsAsync("a");
        var options = new ClusterSelectOptions { Nodes = new[] { "a", "b" }, Candidates = new[] { "ort-cpu" }, MeasuredRuns = 2 };
        await using (var first = await cluster.Client.SelectAsync(Relu, options))
        {
            Assert.Equal(model.Digest, first.ModelDigest);
        }
        var sentFirst = cluster.Client.UploadedBytes - before;
        // Another test of this collection may have sent it already: then nothing at all was sent.
        Assert.True(sentFirst is 0 || sentFirst == model.Length || sentFirst == 2 * model.Length, $"sent {sentFirst} bytes of a {model.Length}-byte model");
        foreach (var node in new[] { "a", "b" })
            Assert.Contains(model.Digest, (await cluster.Client.GetStoreStatsAsync(node)).Digests);
        var storeAfterFirst = await cluster.Client.GetStoreStatsAsync("a");

        await using (var second = await cluster.Client.SelectAsync(Relu, options))
        {
            Assert.Equal(model.Digest, second.ModelDigest);
        }
        Assert.Equal(before + sentFirst, cluster.Client.UploadedBytes);
        Assert.Equal(storeAfterFirst.BytesReceived, (await cluster.Client.GetStoreStatsAsync("a")).BytesReceived);
        Assert.True(storeAfterFirst.BytesReceived >= storeBefore.BytesReceived);
    }

    [Fact]
    public async Task A_corrupted_upload_is_refused_with_a_typed_error_and_not_kept()
    {
        var bytes = await File.ReadAllBytesAsync(Relu);
        var model = ModelFile.Of(Relu);
        var store = cluster.Client.Grains.GetGrain<IModelStoreGrain>("b");
        var corrupted = (byte[])bytes.Clone();
        corrupted[^1] ^= 0xFF;
        var fakeDigest = "0123456789abcdef0123456789abcdef";
        await store.BeginUploadAsync(fakeDigest, ".onnx", bytes.Length, model.Sha256);
        await store.UploadChunkAsync(fakeDigest, 0, corrupted);
        var e = await Assert.ThrowsAsync<ModelTransferException>(() => store.CompleteUploadAsync(fakeDigest));
        Assert.Contains("SHA-256", e.Message);
        Assert.Contains(fakeDigest, e.Message);
        Assert.False(await store.HasAsync(fakeDigest));
    }

    [Fact]
    public async Task A_partial_upload_is_refused()
    {
        var bytes = await File.ReadAllBytesAsync(Relu);
        var sha = Convert.ToHexStringLower(SHA256.HashData(bytes));
        var digest = "fedcba9876543210fedcba9876543210";
        var store = cluster.Client.Grains.GetGrain<IModelStoreGrain>("a");
        await store.BeginUploadAsync(digest, ".onnx", bytes.Length, sha);
        await store.UploadChunkAsync(digest, 0, bytes[..(bytes.Length / 2)]);
        var e = await Assert.ThrowsAsync<ModelTransferException>(() => store.CompleteUploadAsync(digest));
        Assert.Contains("incomplete upload", e.Message);
        Assert.False(await store.HasAsync(digest));
    }

    [Fact]
    public async Task Intact_bytes_under_another_models_digest_are_refused_by_the_digest_check()
    {
        var model = ModelFile.Of(Relu);
        var wrongDigest = "00000000000000000000000000000000";
        var store = cluster.Client.Grains.GetGrain<IModelStoreGrain>("a");
        await store.BeginUploadAsync(wrongDigest, ".onnx", model.Length, model.Sha256);
        await store.UploadChunkAsync(wrongDigest, 0, await File.ReadAllBytesAsync(Relu));
        var e = await Assert.ThrowsAsync<ModelTransferException>(() => store.CompleteUploadAsync(wrongDigest));
        Assert.Contains($"has digest {model.Digest}", e.Message);
        Assert.False(await store.HasAsync(wrongDigest));
    }

    [Fact]
    public async Task Out_of_order_and_oversized_chunks_are_refused()
    {
        var model = ModelFile.Of(Relu);
        var bytes = await File.ReadAllBytesAsync(Relu);
        var store = cluster.Client.Grains.GetGrain<IModelStoreGrain>("a");
        var digest = "11111111111111111111111111111111";
        await store.BeginUploadAsync(digest, ".onnx", model.Length, model.Sha256);
        var gap = await Assert.ThrowsAsync<ModelTransferException>(() => store.UploadChunkAsync(digest, 10, bytes));
        Assert.Contains("expected 0", gap.Message);
        await store.BeginUploadAsync(digest, ".onnx", 4, model.Sha256);
        var over = await Assert.ThrowsAsync<ModelTransferException>(() => store.UploadChunkAsync(digest, 0, bytes));
        Assert.Contains("past the announced", over.Message);
        var bad = await Assert.ThrowsAsync<ModelTransferException>(() => store.BeginUploadAsync("../../etc/passwd", ".onnx", 4, model.Sha256));
        Assert.Contains("32 lowercase hex", bad.Message);
    }
}
