using System.Buffers.Binary;
using System.Globalization;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;

namespace AccelSdk.Ir;

/// <summary>
/// A content key of a model: everything a compiled form of it depends on (opsets, functions, every node with its
/// attributes, the declared inputs, outputs and value types, and the bytes of every initializer). Each tensor's bytes
/// are hashed with a 64-bit XXH64-style hash at memory speed (a few ms for ResNet18's 45 MB, fully optimised from the
/// first call, so a cold process pays no slow first runs), and the text with those hashes goes through SHA-256.
/// Backends key persisted compiled artefacts by it on every compile. Not a cryptographic guarantee: it guards against
/// stale artefacts, not against an attacker who can write the cache directory.
/// </summary>
public static class ModelDigest
{
    /// <summary>The digest of <paramref name="model"/> as 32 lowercase hex characters.</summary>
    public static string Of(Model model)
    {
        var text = new StringBuilder();
        text.Append("ir ").Append(model.IrVersion).Append('\n');
        foreach (var kv in model.OpsetImports.OrderBy(kv => kv.Key, StringComparer.Ordinal)) text.Append("opset ").Append(kv.Key).Append('=').Append(kv.Value).Append('\n');
        foreach (var f in model.Functions)
        {
            text.Append("function ").Append(f.Domain).Append("::").Append(f.Name).Append(" (").AppendJoin(',', f.Inputs).Append(")->(").AppendJoin(',', f.Outputs)
                .Append(") attrs ").AppendJoin(',', f.AttributeNames).Append('\n');
            foreach (var kv in f.OpsetImports.OrderBy(kv => kv.Key, StringComparer.Ordinal)) text.Append(" opset ").Append(kv.Key).Append('=').Append(kv.Value).Append('\n');
            foreach (var n in f.Nodes) AppendNode(n, text);
        }
        AppendGraph(model.Graph, text);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())))[..32];
    }

    private static void AppendGraph(Graph graph, StringBuilder text)
    {
        text.Append("graph ").Append(graph.Name).Append('\n');
        foreach (var v in graph.Inputs) text.Append("in ").Append(v.Name).Append(' ').Append(v.Type?.ToString() ?? "?").Append('\n');
        foreach (var v in graph.Outputs) text.Append("out ").Append(v.Name).Append(' ').Append(v.Type?.ToString() ?? "?").Append('\n');
        foreach (var v in graph.ValueInfos) text.Append("value ").Append(v.Name).Append(' ').Append(v.Type?.ToString() ?? "?").Append('\n');
        foreach (var t in graph.Initializers) AppendTensor("init", t, text);
        foreach (var s in graph.SparseInitializers) AppendSparse(s, text);
        foreach (var (name, parameters) in graph.QuantizationAnnotations)
        {
            text.Append("quant ").Append(name);
            foreach (var kv in parameters) text.Append(' ').Append(kv.Key).Append('=').Append(kv.Value);
            text.Append('\n');
        }
        foreach (var n in graph.Nodes) AppendNode(n, text);
    }

    private static void AppendNode(Node node, StringBuilder text)
    {
        text.Append("node ").Append(node.Domain).Append("::").Append(node.OpType).Append(' ').Append(node.Name)
            .Append(" (").AppendJoin(',', node.Inputs).Append(")->(").AppendJoin(',', node.Outputs).Append(")\n");
        foreach (var a in node.Attributes)
        {
            text.Append(" attr ").Append(a.Name).Append(':').Append(a.Kind).Append(a.RefAttributeName is null ? "" : " ref " + a.RefAttributeName).Append('=');
            switch (a.Kind)
            {
                case AttributeKind.Tensor:
                    text.Append('\n');
                    AppendTensor("tensor", a.AsTensor(), text);
                    break;
                case AttributeKind.Graph:
                case AttributeKind.Graphs:
                    text.Append('\n');
                    foreach (var g in a.Subgraphs) AppendGraph(g, text);
                    break;
                case AttributeKind.Float:
                    text.Append(a.AsFloat().ToString("R", CultureInfo.InvariantCulture)).Append('\n');
                    break;
                case AttributeKind.Floats:
                    text.AppendJoin(',', a.AsFloats().Select(f => f.ToString("R", CultureInfo.InvariantCulture))).Append('\n');
                    break;
                case AttributeKind.Ints:
                    text.AppendJoin(',', a.AsInts()).Append('\n');
                    break;
                case AttributeKind.Strings:
                    foreach (var s in a.AsStrings()) text.Append(s.Length).Append(':').Append(s);
                    text.Append('\n');
                    break;
                case AttributeKind.Tensors when a.Value is IEnumerable<AccelTensor> tensors:
                    text.Append('\n');
                    foreach (var t in tensors) AppendTensor("tensor", t, text);
                    break;
                case AttributeKind.SparseTensor when a.Value is SparseTensor sparse:
                    AppendSparse(sparse, text);
                    break;
                case AttributeKind.SparseTensors when a.Value is IEnumerable<SparseTensor> sparseTensors:
                    foreach (var sparse in sparseTensors) AppendSparse(sparse, text);
                    break;
                case AttributeKind.TypeProtos when a.Value is System.Collections.IEnumerable types and not string:
                    foreach (var type in types) text.Append(type).Append(';');
                    text.Append('\n');
                    break;
                default:
                    text.Append(Convert.ToString(a.Value, CultureInfo.InvariantCulture)).Append('\n');
                    break;
            }
        }
    }

    private static void AppendSparse(SparseTensor sparse, StringBuilder text)
    {
        text.Append("sparse [").AppendJoin(',', sparse.Dims).Append("]\n");
        AppendTensor("values", sparse.Values, text);
        AppendTensor("indices", sparse.Indices, text);
    }

    private static void AppendTensor(string role, AccelTensor t, StringBuilder text)
    {
        text.Append(role).Append(' ').Append(t.Name).Append(' ').Append(t.ElementType.ShortName()).Append(TensorShape.Format(t.Shape)).Append('\n');
        if (t.IsString)
        {
            foreach (var s in t.Strings) text.Append(s.Length).Append(':').Append(s);
            text.Append('\n');
            return;
        }
        text.Append(" bytes ").Append(t.ByteLength).Append(' ').Append(Hash64(t.Bytes).ToString("x16", CultureInfo.InvariantCulture)).Append('\n');
    }

    private const ulong Prime1 = 11400714785074694791UL;
    private const ulong Prime2 = 14029467366897019727UL;
    private const ulong Prime3 = 1609587929392839161UL;
    private const ulong Prime4 = 9650029242287828579UL;
    private const ulong Prime5 = 2870177450012600261UL;

    /// <summary>XXH64's structure (four lanes of 8 bytes, then the tail, then the avalanche), seed 0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static ulong Hash64(ReadOnlySpan<byte> data)
    {
        var length = (ulong)data.Length;
        ulong h;
        var i = 0;
        if (data.Length >= 32)
        {
            ulong v1 = unchecked(Prime1 + Prime2), v2 = Prime2, v3 = 0, v4 = unchecked(0 - Prime1);
            for (; i <= data.Length - 32; i += 32)
            {
                v1 = Round(v1, BinaryPrimitives.ReadUInt64LittleEndian(data.Slice(i)));
                v2 = Round(v2, BinaryPrimitives.ReadUInt64LittleEndian(data.Slice(i + 8)));
                v3 = Round(v3, BinaryPrimitives.ReadUInt64LittleEndian(data.Slice(i + 16)));
                v4 = Round(v4, BinaryPrimitives.ReadUInt64LittleEndian(data.Slice(i + 24)));
            }
            h = unchecked(BitOperations.RotateLeft(v1, 1) + BitOperations.RotateLeft(v2, 7) + BitOperations.RotateLeft(v3, 12) + BitOperations.RotateLeft(v4, 18));
            h = Merge(Merge(Merge(Merge(h, v1), v2), v3), v4);
        }
        else
        {
            h = Prime5;
        }
        h = unchecked(h + length);
        for (; i <= data.Length - 8; i += 8)
        {
            h ^= Round(0, BinaryPrimitives.ReadUInt64LittleEndian(data.Slice(i)));
            h = unchecked(BitOperations.RotateLeft(h, 27) * Prime1 + Prime4);
        }
        for (; i <= data.Length - 4; i += 4)
        {
            h ^= unchecked(BinaryPrimitives.ReadUInt32LittleEndian(data.Slice(i)) * Prime1);
            h = unchecked(BitOperations.RotateLeft(h, 23) * Prime2 + Prime3);
        }
        for (; i < data.Length; i++)
        {
            h ^= unchecked(data[i] * Prime5);
            h = unchecked(BitOperations.RotateLeft(h, 11) * Prime1);
        }
        h ^= h >> 33;
        h = unchecked(h * Prime2);
        h ^= h >> 29;
        h = unchecked(h * Prime3);
        h ^= h >> 32;
        return h;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Round(ulong accumulator, ulong lane) => unchecked(BitOperations.RotateLeft(accumulator + lane * Prime2, 31) * Prime1);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Merge(ulong h, ulong lane) => unchecked((h ^ Round(0, lane)) * Prime1 + Prime4);
}
