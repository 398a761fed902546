using System.Security.Cryptography.X509Certificates;
using Orleans.Connections.Security;
using Orleans.Hosting;

namespace AccelSdk.Cluster.Hosting;

/// <summary>
/// TLS with one cluster certificate: every silo and client presents it and accepts only a peer presenting the same
/// certificate (same thumbprint), so a process without the certificate (and its private key) can neither join nor
/// submit work.
/// </summary>
public static class ClusterSecurity
{
    /// <summary>Loads a PKCS#12 cluster certificate with its private key.</summary>
    public static X509Certificate2 Load(string path, string? password = null)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"cluster certificate {path} does not exist", path);
        X509Certificate2 certificate;
        try
        {
            certificate = X509CertificateLoader.LoadPkcs12FromFile(path, password, X509KeyStorageFlags.EphemeralKeySet);
        }
        catch (System.Security.Cryptography.CryptographicException e)
        {
            throw new ClusterException($"cluster certificate {path}: not a PKCS#12 file this password opens: {e.Message}", e);
        }
        if (!certificate.HasPrivateKey)
        {
            certificate.Dispose();
            throw new ClusterException($"cluster certificate {path}: has no private key (export it as PKCS#12 with its key)");
        }
        return certificate;
    }

    internal static void Configure(ISiloBuilder silo, X509Certificate2 certificate) =>
        silo.UseTls(certificate, o => Restrict(o, certificate));

    internal static void Configure(IClientBuilder client, X509Certificate2 certificate) =>
        client.UseTls(certificate, o => Restrict(o, certificate));

    private static void Restrict(TlsOptions options, X509Certificate2 certificate)
    {
        options.RemoteCertificateMode = RemoteCertificateMode.RequireCertificate;
        options.ClientCertificateMode = RemoteCertificateMode.RequireCertificate;
        // A self-signed cluster certificate has no chain to a trusted root: trust exactly this certificate instead.
        options.AllowAnyRemoteCertificate();
        options.RemoteCertificateValidation = (remote, _, _) => remote is not null && remote.Thumbprint == certificate.Thumbprint;
        options.HandshakeTimeout = TimeSpan.FromSeconds(5);
    }
}
