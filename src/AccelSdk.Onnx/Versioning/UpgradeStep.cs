using AccelSdk.Ir;

namespace AccelSdk.Onnx.Versioning;

/// <summary>One version step of an upgrade on one graph: what adapters need to read the graph and rewrite a node.</summary>
internal sealed class UpgradeStep
{
    private readonly OpsetUpgrader.UpgradeState _names;
    private readonly Lazy<Dictionary<string, Ir.ValueType>> _types;

    public UpgradeStep(Model model, Graph graph, OpsetUpgrader.UpgradeState names, long version, Lazy<Dictionary<string, Ir.ValueType>>? inferred)
    {
        Model = model;
        Graph = graph;
        _names = names;
        Version = version;
        // Shape inference covers the main graph; inside a subgraph only declared types are known.
        _types = inferred ?? new Lazy<Dictionary<string, Ir.ValueType>>(graph.DeclaredTypes);
    }

    public Model Model { get; }

    /// <summary>State shared by every step of this upgrade.</summary>
    public OpsetUpgrader.UpgradeState State => _names;

    public Graph Graph { get; }

    /// <summary>The opset this step goes to; nodes it creates must be valid at this version.</summary>
    public long Version { get; }

    public OpsetUpgradeException Refuse(Node node, string problem) =>
        new(Model.Label, node.Describe(), node.OpType, Version - 1, Version, problem);

    public string FreshName(string stem) => _names.Fresh(stem);

    /// <summary>The declared or inferred tensor type of <paramref name="value"/>, or null when unknown.</summary>
    public TensorType? TypeOf(string value)
    {
        if (Graph.FindInitializer(value) is { } t) return t.TensorType;
        return _types.Value.TryGetValue(value, out var type) ? type as TensorType : null;
    }

    /// <summary>The rank of <paramref name="value"/>, or null when unknown.</summary>
    public int? RankOf(string value) => TypeOf(value)?.Shape?.Rank;

    /// <summary>The constant value of <paramref name="value"/>: an initializer of this graph or the output of a Constant node.</summary>
    public AccelTensor? ConstantValue(string value)
    {
        if (value.Length == 0) return null;
        if (Graph.FindInitializer(value) is { } t) return t;
        var producer = Graph.Nodes.Find(n => n.OpType == "Constant" && n.Domain is "" or "ai.onnx" && n.Outputs.Count == 1 && n.Outputs[0] == value);
        return producer?.Attribute("value") is { Kind: AttributeKind.Tensor } a ? a.AsTensor() : null;
    }

    /// <summary>Adds <paramref name="value"/> as an initializer of this graph under a fresh name derived from <paramref name="stem"/>.</summary>
    public string AddConstant(string stem, AccelTensor value)
    {
        var name = _names.Fresh(stem);
        Graph.Initializers.Add(value.WithName(name));
        _names.AddedConstants = true;
        return name;
    }

    /// <summary>Adds an int64 vector constant (axes, pads, starts, split sizes, k...).</summary>
    public string AddInt64s(Node node, string what, IReadOnlyList<long> values) =>
        AddConstant(Stem(node) + "_" + what, AccelTensor.Create(values.ToArray(), values.Count));

    /// <summary>A name stem for values derived from <paramref name="node"/>.</summary>
    public static string Stem(Node node) => node.Name.Length > 0 ? node.Name : node.Outputs.FirstOrDefault(o => o.Length > 0) ?? node.OpType;

    /// <summary>Creates a default-domain node with a fresh name and inserts it before <paramref name="anchor"/>.</summary>
    public Node InsertBefore(Node anchor, string opType, IEnumerable<string> inputs, IEnumerable<string> outputs, params NodeAttribute[] attributes)
    {
        var node = new Node(opType, inputs, outputs, _names.Fresh(Stem(anchor) + "_" + opType));
        node.Attributes.AddRange(attributes);
        Graph.Nodes.Insert(Graph.Nodes.IndexOf(anchor), node);
        return node;
    }

    /// <summary>Removes the attribute called <paramref name="name"/> and returns it, or null when absent.</summary>
    public static NodeAttribute? Take(Node node, string name)
    {
        var a = node.Attribute(name);
        if (a is not null) node.Attributes.Remove(a);
        return a;
    }

    /// <summary>Sets input <paramref name="slot"/>, padding the skipped optional inputs with "".</summary>
    public static void SetInput(Node node, int slot, string value)
    {
        while (node.Inputs.Count <= slot) node.Inputs.Add("");
        node.Inputs[slot] = value;
    }

    /// <summary>The element type of a float constant that must match <paramref name="value"/>'s type (float32 when unknown).</summary>
    public ElementType FloatTypeOf(Node node, string value)
    {
        var type = TypeOf(value)?.ElementType ?? ElementType.Float32;
        if (type is ElementType.Undefined) type = ElementType.Float32;
        return type;
    }
}
