namespace AccelSdk.Onnx.Versioning;

/// <summary>Lookups over the generated ai.onnx operator-version table (ONNX 1.12's operator sets).</summary>
internal static partial class OnnxOperatorVersions
{
    // Built on first use: the generated Table lives in another part of this class, whose initialisation order is not defined.
    private static Dictionary<string, long[]>? _byOperator;

    private static Dictionary<string, long[]> ByOperator => _byOperator ??= Table.ToDictionary(e => e.Op, e => e.Versions, StringComparer.Ordinal);

    /// <summary>Every operator in the table.</summary>
    public static IEnumerable<string> Operators => ByOperator.Keys;

    /// <summary>The versions at which <paramref name="op"/> was introduced or changed, or null for an unknown op.</summary>
    public static IReadOnlyList<long>? VersionsOf(string op) => ByOperator.TryGetValue(op, out var v) ? v : null;

    /// <summary>True when <paramref name="op"/> existed before <paramref name="opset"/> and changed its schema at it.</summary>
    public static bool ChangesAt(string op, long opset) =>
        ByOperator.TryGetValue(op, out var versions) && versions[0] < opset && Array.IndexOf(versions, opset) >= 0;

    /// <summary>The opset that introduced <paramref name="op"/>, or null for an unknown op.</summary>
    public static long? IntroducedAt(string op) => ByOperator.TryGetValue(op, out var v) ? v[0] : null;
}
