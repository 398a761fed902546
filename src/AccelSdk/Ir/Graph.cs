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
    public List<Tensor> Initializers { get; } = new();

    /// <summary>Sparse constant tensors, keyed by the name of their values tensor.</summary>
    public List<SparseTensor> SparseInitializers { get; } = new();

    /// <summary>Quantization annotations carried through unchanged: (tensor name, key/value pairs).</summary>
    public List<(string TensorName, IReadOnlyList<KeyValuePair<string, string>> Parameters)> QuantizationAnnotations { get; } = new();

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
    public Tensor? FindInitializer(string name) => Initializers.Find(t => t.Name == name);

    /// <summary>Every declared type in this graph (inputs, outputs, value_info and initializers) by value name.</summary>
    public Dictionary<string, ValueType> DeclaredTypes()
    {
        var types = new Dictionary<string, ValueType>(StringComparer.Ordinal);
        foreach (var t in Initializers) types[t.Name!] = t.TensorType;
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
}
