using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using AccelSdk.Ir;

namespace AccelSdk.Autotune.Cache;

/// <summary>
/// Text keys that identify what a timing depends on. A node's signature holds its op, domain, opset, attributes and the
/// concrete types of its inputs and outputs (constant inputs marked, since backends pre-pack them), so equal layers of
/// different models share cache entries. A model's key holds its structure and input shapes, not weight values.
/// </summary>
public static class OperatorSignature
{
    /// <summary>The signature of <paramref name="node"/> with the concrete value types in <paramref name="types"/>.</summary>
    public static string Of(Model model, Node node, IReadOnlyDictionary<string, Ir.ValueType> types)
    {
        var constants = model.Graph.Initializers.Select(t => t.Name!).ToHashSet(StringComparer.Ordinal);
        var sb = new StringBuilder();
        sb.Append(node.EffectiveDomain).Append("::").Append(node.OpType).Append('@').Append(model.OpsetOf(node.Domain) ?? 0);
        sb.Append(" (");
        sb.Append(string.Join(", ", node.Inputs.Select(i => i.Length == 0 ? "-" : (constants.Contains(i) ? "const " : "") + TypeText(types.GetValueOrDefault(i)))));
        sb.Append(") -> (");
        sb.Append(string.Join(", ", node.Outputs.Select(o => o.Length == 0 ? "-" : TypeText(types.GetValueOrDefault(o)))));
        sb.Append(')');
        foreach (var a in node.Attributes.OrderBy(a => a.Name, StringComparer.Ordinal)) sb.Append(' ').Append(AttributeText(a));
        return sb.ToString();
    }

    /// <summary>A stable key of a model's structure, input shapes and the tuning settings that change the plan.</summary>
    public static string ModelKey(Model model, IReadOnlyDictionary<string, Ir.ValueType> types, string settings)
    {
        var sb = new StringBuilder(settings).Append('\n');
        foreach (var input in model.Graph.Inputs) sb.Append("in ").Append(input.Name).Append(' ').Append(TypeText(types.GetValueOrDefault(input.Name) ?? input.Type)).Append('\n');
        foreach (var node in model.Graph.Nodes)
        {
            sb.Append(node.Name).Append(' ').Append(Of(model, node, types)).Append(" [").Append(string.Join(",", node.Inputs)).Append("]->[").Append(string.Join(",", node.Outputs)).Append("]\n");
        }
        foreach (var output in model.Graph.Outputs) sb.Append("out ").Append(output.Name).Append('\n');
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(sb.ToString())))[..24];
    }

    private static string TypeText(Ir.ValueType? type) => type?.ToString() ?? "?";

    private static string AttributeText(NodeAttribute a) => a.Kind switch
    {
        AttributeKind.Float => $"{a.Name}={a.AsFloat().ToString("R", CultureInfo.InvariantCulture)}",
        AttributeKind.Floats => $"{a.Name}=[{string.Join(",", a.AsFloats().Select(f => f.ToString("R", CultureInfo.InvariantCulture)))}]",
        AttributeKind.Ints => $"{a.Name}=[{string.Join(",", a.AsInts())}]",
        AttributeKind.Tensor => $"{a.Name}=tensor{a.AsTensor().ElementType.ShortName()}{TensorShape.Format(a.AsTensor().Shape)}",
        AttributeKind.Graph or AttributeKind.Graphs => $"{a.Name}=graph[{string.Join(";", a.Subgraphs.Select(GraphText))}]",
        _ => a.ToString(),
    };

    private static string GraphText(Graph g) => string.Join(",", g.Nodes.Select(n => n.OpType + "(" + string.Join(",", n.Inputs) + ")"));
}
