namespace AccelSdk.Cluster.Grains;

/// <summary>Grain keys that name the node a grain lives on (read by <see cref="Hosting.NodePlacementDirector"/>).</summary>
public static class NodeKeys
{
    /// <summary>The key of a per-(node, model) grain.</summary>
    public static string Of(string node, string digest) => node + "/" + digest;

    /// <summary>The key of a split stage grain: layers <paramref name="from"/> to <paramref name="to"/> (exclusive) of a model on a node.</summary>
    public static string OfStage(string node, string digest, int from, int to) => $"{node}/{digest}/{from}-{to}";

    /// <summary>The node part of a grain key.</summary>
    public static string NodeOf(string key)
    {
        var slash = key.IndexOf('/', StringComparison.Ordinal);
        return slash < 0 ? key : key[..slash];
    }

    /// <summary>The part after the node, or the empty string.</summary>
    public static string DigestOf(string key)
    {
        var slash = key.IndexOf('/', StringComparison.Ordinal);
        return slash < 0 ? "" : key[(slash + 1)..];
    }
}
