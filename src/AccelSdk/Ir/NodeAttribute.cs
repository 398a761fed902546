namespace AccelSdk.Ir;

/// <summary>Kinds of node attribute; values equal ONNX's <c>AttributeProto.AttributeType</c>.</summary>
public enum AttributeKind
{
    /// <summary>Not set.</summary>
    Undefined = 0,
    /// <summary>float.</summary>
    Float = 1,
    /// <summary>int64.</summary>
    Int = 2,
    /// <summary>string.</summary>
    String = 3,
    /// <summary>tensor.</summary>
    Tensor = 4,
    /// <summary>subgraph.</summary>
    Graph = 5,
    /// <summary>list of float.</summary>
    Floats = 6,
    /// <summary>list of int64.</summary>
    Ints = 7,
    /// <summary>list of string.</summary>
    Strings = 8,
    /// <summary>list of tensors.</summary>
    Tensors = 9,
    /// <summary>list of subgraphs.</summary>
    Graphs = 10,
    /// <summary>sparse tensor.</summary>
    SparseTensor = 11,
    /// <summary>list of sparse tensors.</summary>
    SparseTensors = 12,
    /// <summary>type.</summary>
    TypeProto = 13,
    /// <summary>list of types.</summary>
    TypeProtos = 14,
}

/// <summary>A sparse tensor in COO form (ONNX <c>SparseTensorProto</c>).</summary>
/// <param name="Values">The non-zero values, rank 1.</param>
/// <param name="Indices">int64 indices: [NNZ] linearized or [NNZ, rank].</param>
/// <param name="Dims">The dense shape.</param>
public sealed record SparseTensor(AccelTensor Values, AccelTensor Indices, long[] Dims);

/// <summary>A named node attribute of any ONNX kind.</summary>
public sealed class NodeAttribute
{
    /// <summary>Creates an attribute; <paramref name="value"/> must match <paramref name="kind"/>.</summary>
    public NodeAttribute(string name, AttributeKind kind, object? value)
    {
        Name = name;
        Kind = kind;
        Value = value;
    }

    /// <summary>Attribute name.</summary>
    public string Name { get; }

    /// <summary>Attribute kind.</summary>
    public AttributeKind Kind { get; }

    /// <summary>
    /// The value: float, long, string, <see cref="AccelTensor"/>, <see cref="Graph"/>, <see cref="SparseTensor"/>,
    /// <see cref="ValueType"/>, or a read-only list of those. Null when <see cref="RefAttributeName"/> is set.
    /// </summary>
    public object? Value { get; }

    /// <summary>In a function body: the name of the caller's attribute this one refers to.</summary>
    public string? RefAttributeName { get; init; }

    /// <summary>Documentation string.</summary>
    public string? DocString { get; init; }

    /// <summary>Creates an int attribute.</summary>
    public static NodeAttribute Int(string name, long value) => new(name, AttributeKind.Int, value);

    /// <summary>Creates a float attribute.</summary>
    public static NodeAttribute Float(string name, float value) => new(name, AttributeKind.Float, value);

    /// <summary>Creates a string attribute.</summary>
    public static NodeAttribute String(string name, string value) => new(name, AttributeKind.String, value);

    /// <summary>Creates an ints attribute.</summary>
    public static NodeAttribute Ints(string name, params long[] value) => new(name, AttributeKind.Ints, value);

    /// <summary>Creates a floats attribute.</summary>
    public static NodeAttribute Floats(string name, params float[] value) => new(name, AttributeKind.Floats, value);

    /// <summary>Creates a tensor attribute.</summary>
    public static NodeAttribute FromTensor(string name, AccelTensor value) => new(name, AttributeKind.Tensor, value);

    /// <summary>Creates a graph attribute.</summary>
    public static NodeAttribute FromGraph(string name, Graph value) => new(name, AttributeKind.Graph, value);

    /// <summary>The int value; throws a clear error for another kind.</summary>
    public long AsInt() => Kind == AttributeKind.Int ? (long)Value! : throw KindError(AttributeKind.Int);

    /// <summary>The float value.</summary>
    public float AsFloat() => Kind == AttributeKind.Float ? (float)Value! : throw KindError(AttributeKind.Float);

    /// <summary>The string value.</summary>
    public string AsString() => Kind == AttributeKind.String ? (string)Value! : throw KindError(AttributeKind.String);

    /// <summary>The ints value.</summary>
    public IReadOnlyList<long> AsInts() => Kind == AttributeKind.Ints ? (IReadOnlyList<long>)Value! : throw KindError(AttributeKind.Ints);

    /// <summary>The floats value.</summary>
    public IReadOnlyList<float> AsFloats() => Kind == AttributeKind.Floats ? (IReadOnlyList<float>)Value! : throw KindError(AttributeKind.Floats);

    /// <summary>The strings value.</summary>
    public IReadOnlyList<string> AsStrings() => Kind == AttributeKind.Strings ? (IReadOnlyList<string>)Value! : throw KindError(AttributeKind.Strings);

    /// <summary>The tensor value.</summary>
    public AccelTensor AsTensor() => Kind == AttributeKind.Tensor ? (AccelTensor)Value! : throw KindError(AttributeKind.Tensor);

    /// <summary>The graph value.</summary>
    public Graph AsGraph() => Kind == AttributeKind.Graph ? (Graph)Value! : throw KindError(AttributeKind.Graph);

    /// <summary>Every subgraph held by this attribute (Graph or Graphs kinds), else none.</summary>
    public IEnumerable<Graph> Subgraphs => Kind switch
    {
        AttributeKind.Graph when Value is Graph g => new[] { g },
        AttributeKind.Graphs when Value is IReadOnlyList<Graph> gs => gs,
        _ => Array.Empty<Graph>(),
    };

    private InvalidOperationException KindError(AttributeKind wanted) =>
        new($"Attribute '{Name}' is of kind {Kind}, not {wanted}.");

    /// <inheritdoc />
    public override string ToString() => Kind switch
    {
        AttributeKind.Ints => $"{Name}=[{string.Join(",", AsInts())}]",
        AttributeKind.Floats => $"{Name}=[{string.Join(",", AsFloats())}]",
        AttributeKind.Graph => $"{Name}=<graph>",
        _ => $"{Name}={Value}",
    };
}
