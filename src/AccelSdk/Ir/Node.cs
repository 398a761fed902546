namespace AccelSdk.Ir;

/// <summary>One operator application in a graph (ONNX <c>NodeProto</c>).</summary>
public sealed class Node
{
    /// <summary>Creates a node.</summary>
    public Node(string opType, IEnumerable<string> inputs, IEnumerable<string> outputs, string name = "", string domain = "")
    {
        OpType = opType;
        Inputs = inputs.ToList();
        Outputs = outputs.ToList();
        Name = name;
        Domain = domain;
    }

    /// <summary>Node name (may be empty in ONNX files).</summary>
    public string Name { get; set; }

    /// <summary>Operator type, e.g. <c>Conv</c>.</summary>
    public string OpType { get; set; }

    /// <summary>Operator domain; empty means <c>ai.onnx</c>.</summary>
    public string Domain { get; set; }

    /// <summary>Input value names; an empty string marks an omitted optional input.</summary>
    public List<string> Inputs { get; }

    /// <summary>Output value names; an empty string marks an omitted optional output.</summary>
    public List<string> Outputs { get; }

    /// <summary>Attributes in file order.</summary>
    public List<NodeAttribute> Attributes { get; } = new();

    /// <summary>Documentation string.</summary>
    public string? DocString { get; set; }

    /// <summary>The attribute called <paramref name="name"/>, or null.</summary>
    public NodeAttribute? Attribute(string name)
    {
        foreach (var a in Attributes)
        {
            if (a.Name == name) return a;
        }
        return null;
    }

    /// <summary>Int attribute or a default.</summary>
    public long GetInt(string name, long defaultValue) => Attribute(name)?.AsInt() ?? defaultValue;

    /// <summary>Float attribute or a default.</summary>
    public float GetFloat(string name, float defaultValue) => Attribute(name)?.AsFloat() ?? defaultValue;

    /// <summary>String attribute or a default.</summary>
    public string GetString(string name, string defaultValue) => Attribute(name)?.AsString() ?? defaultValue;

    /// <summary>Ints attribute or null.</summary>
    public IReadOnlyList<long>? GetInts(string name) => Attribute(name)?.AsInts();

    /// <summary>The domain with the default spelled out (<c>ai.onnx</c>).</summary>
    public string EffectiveDomain => Domain.Length == 0 || Domain == "ai.onnx" ? "ai.onnx" : Domain;

    /// <summary>A short description for messages: name, op and domain.</summary>
    public string Describe() =>
        (Name.Length > 0 ? $"node '{Name}' " : $"unnamed node (first output '{Outputs.FirstOrDefault()}') ") +
        $"({(Domain.Length > 0 ? Domain + "::" : "")}{OpType})";

    /// <summary>Every subgraph held by attributes of this node.</summary>
    public IEnumerable<Graph> Subgraphs => Attributes.SelectMany(a => a.Subgraphs);

    /// <inheritdoc />
    public override string ToString() => Describe();
}
