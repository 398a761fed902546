using System.Diagnostics;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using AccelSdk.Cluster.Client;
using AccelSdk.Cluster.Hosting;
using AccelSdk.Ir;

namespace AccelSdk.Cluster.Tests;

/// <summary>
/// TLS with a cluster certificate between real processes: a process without it (or with another certificate) can
/// neither submit work nor join. About 40-60 s (three node starts, refused connections bounded at 15 s each).
/// </summary>
[Collection("cluster")]
public sealed class SecurityTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("accelsdk-tls-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task Only_processes_with_the_cluster_certificate_can_submit_work_or_join()
    {
        var clusterCert = WriteSelfSigned("cluster.pfx", "CN=accelsdk-cluster");
        var otherCert = WriteSelfSigned("other.pfx", "CN=accelsdk-cluster");
        using var redis = RedisServer.Start();
        var connection = ClusterConnection.Parse(redis.Connection);
        using var node = NodeProcess.Start("t1", redis.Connection, tlsCert: clusterCert);
        using var certificate = ClusterSecurity.Load(clusterCert);
        using var connect = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await using var member = await AccelCluster.ConnectAsync(new AccelClusterOptions { Cluster = connection, Certificate = certificate }, connect.Token);
        await TwoNodeCluster.WaitForNodesAsync(member, new[] { "t1" }, TimeSpan.FromSeconds(30));
        var relu = TestSupport.RepoPaths.OnnxCase("node", "test_relu") + "/model.onnx";
        await using (var session = await member.SelectAsync(relu, new ClusterSelectOptions { Candidates = new[] { "ort-cpu" }, MeasuredRuns = 1 }))
        {
            var answer = await session.RunAsync(AccelTensor.Create(Enumerable.Range(-30, 60).Select(v => (float)v).ToArray(), 3, 4, 5));
            Assert.Equal("t1", answer.Node);
        }

        await AssertRefusedAsync(new AccelClusterOptions { Cluster = connection }, "a client without a certificate");
        using (var other = ClusterSecurity.Load(otherCert))
            await AssertRefusedAsync(new AccelClusterOptions { Cluster = connection, Certificate = other }, "a client with another certificate");

        using var plain = NodeProcess.Launch("intruder-plain", redis.Connection);
        using var impostor = NodeProcess.Launch("intruder-other-cert", redis.Connection, tlsCert: otherCert);
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(25) && !(plain.HasExited && impostor.HasExited))
        {
            var active = await member.GetActiveNodesAsync();
            Assert.DoesNotContain("intruder-plain", active);
            Assert.DoesNotContain("intruder-other-cert", active);
            await Task.Delay(500);
        }
        Assert.Equal(new[] { "t1" }, await member.GetActiveNodesAsync());
        Assert.DoesNotContain("node intruder-plain up", plain.Log);
        Assert.DoesNotContain("node intruder-other-cert up", impostor.Log);
    }

    [Fact]
    public void A_certificate_without_its_private_key_is_refused_with_a_clear_error()
    {
        using var rsa = RSA.Create(2048);
        using var cert = new CertificateRequest("CN=public-only", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)
            .CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        var path = Path.Combine(_directory, "public.pfx");
        using (var publicOnly = X509CertificateLoader.LoadCertificate(cert.Export(X509ContentType.Cert)))
            File.WriteAllBytes(path, publicOnly.Export(X509ContentType.Pkcs12));
        var e = Assert.Throws<ClusterException>(() => ClusterSecurity.Load(path));
        Assert.Contains("no private key", e.Message);
        Assert.Contains(path, e.Message);
    }

    /// <summary>Connecting, then asking for the nodes, must fail within 15 s (a refused client retries until cancelled).</summary>
    private static async Task AssertRefusedAsync(AccelClusterOptions options, string who)
    {
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        var accepted = false;
        try
        {
            await using var client = await AccelCluster.ConnectAsync(options with { ResponseTimeout = TimeSpan.FromSeconds(5) }, limit.Token);
            await client.GetActiveNodesAsync(limit.Token);
            accepted = true;
        }
        catch (Exception e) when (e is OperationCanceledException or Orleans.Runtime.OrleansException or TimeoutException or AggregateException)
        {
        }
        Assert.False(accepted, $"{who} was let in");
    }

    private string WriteSelfSigned(string file, string subject)
    {
        using var rsa = RSA.Create(2048);
        var request = new CertificateRequest(subject, rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, critical: false));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(new OidCollection { new("1.3.6.1.5.5.7.3.1"), new("1.3.6.1.5.5.7.3.2") }, critical: false));
        using var cert = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(7));
        var path = Path.Combine(_directory, file);
        File.WriteAllBytes(path, cert.Export(X509ContentType.Pkcs12));
        return path;
    }
}
