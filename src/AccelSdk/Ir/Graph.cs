namespace AccelSdk.Ir;

/// <summary>A dataflow graph: nodes in topological order, inputs, outputs and constant initializers (ONNX <c>GraphProto</c>).</summary>
public sealed class Graph
{
    /// <summary>Graph name.</summary>
    public string Name { get; set; } = "";

    /// <summary>Nodes in topological order.</summary>
    public List<Node> Nodes { get; } = new();

    /// <summary>Graph inputs. An input with the name of an initializer has a default value.</summary>
    public List<ValueInfo> Inputs { get; } = new();

    /// <summary>Graph outputs.</summary>
    public List<ValueInfo> Outputs { get; } = new();

    /// <summary>Declared types of intermediate values (ONNX <c>value_info</c>).</summary>
    public List<ValueInfo> ValueInfos { get; } = new();

    /// <summary>Constant tensors by name, in file order.</summary>
    public List<AccelTensor> Initializers { get; } = new();

    /// <summary>Sparse constant tensors, keyed by the name of their values tensor.</summary>
    public List<SparseTensor> SparseInitializers { get; } = new();

    /// <summary>Quantization annotations carried through unchanged: (tensor name, key/value pairs).</summary>
    public List<QuantizationAnnotation> QuantizationAnnotations { get; } = new();

    /// <summary>Documentation string.</summary>
    public string? DocString { get; set; }

    /// <summary>Inputs the caller must feed (inputs that are not initializers).</summary>
    public IEnumerable<ValueInfo> RequiredInputs
    {
        get
        {
            var constants = new HashSet<string>(Initializers.Select(i => i.Name!));
            foreach (var s in SparseInitializers) constants.Add(s.Values.Name!);
            return Inputs.Where(i => !constants.Contains(i.Name));
        }
    }

    /// <summary>
    /// The first graph input or output whose declared type is not a dense tensor (a sequence, map, optional or sparse
    /// tensor), or null. AccelSdk sessions exchange dense tensors only.
    /// </summary>
    public ValueInfo? FirstNonTensorInputOrOutput() =>
        Inputs.Concat(Outputs).FirstOrDefault(v => v.Type is not null and not TensorType);

    /// <summary>The initializer called <paramref name="name"/>, or null.</summary>
    public AccelTensor? FindInitializer(string name) => Initializers.Find(t => t.Name == name);

    /// <summary>Every declared type in this graph (inputs, outputs, value_info and initializers) by value name.</summary>
    public Dictionary<string, ValueType> DeclaredTypes()
    {
        var types = new Dictionary<string, ValueType>(StringComparer.Ordinal);
        foreach (var t in Initializers)
        {
            if (t.Name is { } name) types[name] = t.TensorType;
        }
        foreach (var v in ValueInfos.Concat(Inputs).Concat(Outputs))
        {
            if (v.Type is not null) types[v.Name] = v.Type;
        }
        return types;
    }

    /// <summary>Names of values read inside this graph (its subgraphs included) that nothing in it defines: outer-scope captures.</summary>
    public HashSet<string> OuterScopeReferences()
    {
        var defined = new HashSet<string>(StringComparer.Ordinal);
        foreach (var i in Inputs) defined.Add(i.Name);
        foreach (var t in Initializers) defined.Add(t.Name!);
        foreach (var s in SparseInitializers) defined.Add(s.Values.Name!);
        var used = new HashSet<string>(StringComparer.Ordinal);
        foreach (var n in Nodes)
        {
            foreach (var i in n.Inputs)
            {
                if (i.Length > 0 && !defined.Contains(i)) used.Add(i);
            }
            foreach (var g in n.Subgraphs)
            {
                foreach (var r in g.OuterScopeReferences())
                {
                    if (!defined.Contains(r)) used.Add(r);
                }
            }
            foreach (var o in n.Outputs)
            {
                if (o.Length > 0) defined.Add(o);
            }
        }
        return used;
    }

    /// <summary>
    /// Checks the names every lookup by name relies on: each initializer (sparse ones included) has a name, and no
    /// initializer, graph input or graph output name is listed twice. Throws <see cref="InvalidModelException"/> naming
    /// the list, the position and the name at fault; <paramref name="label"/> (the model) starts the message.
    /// </summary>
    public void CheckNames(string label)
    {
        var initializers = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < Initializers.Count; i++)
        {
            CheckUnique(label, "initializer", i, Initializers[i].Name, initializers);
        }
        for (var i = 0; i < SparseInitializers.Count; i++)
        {
            CheckUnique(label, "sparse initializer", i, SparseInitializers[i].Values.Name, initializers);
        }
        var inputs = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < Inputs.Count; i++) CheckUnique(label, "graph input", i, Inputs[i].Name, inputs);
        var outputs = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < Outputs.Count; i++) CheckUnique(label, "graph output", i, Outputs[i].Name, outputs);
    }

    private static void CheckUnique(string label, string list, int index, string? name, Dictionary<string, int> seen)
    {
        if (string.IsNullOrEmpty(name)) throw new InvalidModelException($"{label}: {list} #{index} has no name");
        if (!seen.TryAdd(name, index))
        {
            throw new InvalidModelException($"{label}: {list} '{name}' is listed twice (#{seen[name]} and #{index})");
        }
    }
}

/// <summary>ONNX's quantization annotation of one tensor: the names of the tensors holding its parameters.</summary>
/// <param name="TensorName">The annotated tensor.</param>
/// <param name="Parameters">Parameter role (<c>SCALE_TENSOR</c>, <c>ZERO_POINT_TENSOR</c>) to tensor name.</param>
public sealed record QuantizationAnnotation(string TensorName, IReadOnlyList<KeyValuePair<string, string>> Parameters);
