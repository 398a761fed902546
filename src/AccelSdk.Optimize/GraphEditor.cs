using AccelSdk.Ir;

namespace AccelSdk.Optimize;

/// <summary>Edits a graph in place: fresh value names, consumer lookups, initializer replacement, node rewiring.</summary>
internal sealed class GraphEditor
{
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);
    private readonly Dictionary<string, AccelTensor> _initializers;

    public GraphEditor(Graph graph)
    {
        Graph = graph;
        foreach (var i in graph.Inputs) _names.Add(i.Name);
        foreach (var t in graph.Initializers) _names.Add(t.Name!);
        foreach (var n in graph.Nodes)
        {
            _names.UnionWith(n.Outputs);
            if (n.Name.Length > 0) _names.Add(n.Name);
        }
        _initializers = graph.Initializers.ToDictionary(t => t.Name!, StringComparer.Ordinal);
    }

    public Graph Graph { get; }

    /// <summary>A value or node name not used yet in the graph, derived from <paramref name="stem"/>.</summary>
    public string FreshName(string stem)
    {
        if (_names.Add(stem)) return stem;
        for (var i = 1; ; i++)
        {
            var candidate = $"{stem}_{i}";
            if (_names.Add(candidate)) return candidate;
        }
    }

    public AccelTensor? Initializer(string name) => name.Length > 0 && _initializers.TryGetValue(name, out var t) ? t : null;

    /// <summary>Adds a constant under a fresh name derived from <paramref name="stem"/> and returns that name.</summary>
    public string AddInitializer(string stem, AccelTensor value)
    {
        var name = FreshName(stem);
        var named = value.WithName(name);
        Graph.Initializers.Add(named);
        _initializers[name] = named;
        return name;
    }

    /// <summary>Replaces the data of an existing initializer, keeping its name and position.</summary>
    public void ReplaceInitializer(string name, AccelTensor value)
    {
        var index = Graph.Initializers.FindIndex(t => t.Name == name);
        if (index < 0) throw new InvalidOperationException($"no initializer '{name}'");
        var named = value.WithName(name);
        Graph.Initializers[index] = named;
        _initializers[name] = named;
        var input = Graph.Inputs.FindIndex(i => i.Name == name);
        if (input >= 0) Graph.Inputs[input] = Graph.Inputs[input] with { Type = named.TensorType };
    }

    /// <summary>Removes initializers no node or graph output reads any more.</summary>
    public void RemoveUnusedInitializers()
    {
        var used = new HashSet<string>(Graph.Nodes.SelectMany(n => n.Inputs), StringComparer.Ordinal);
        foreach (var sub in Graph.Nodes.SelectMany(n => n.Subgraphs)) used.UnionWith(sub.OuterScopeReferences());
        used.UnionWith(Graph.Outputs.Select(o => o.Name));
        Graph.Initializers.RemoveAll(t => !used.Contains(t.Name!));
        Graph.Inputs.RemoveAll(i => _initializers.ContainsKey(i.Name) && !used.Contains(i.Name));
        foreach (var name in _initializers.Keys.Where(k => !used.Contains(k)).ToList()) _initializers.Remove(name);
    }

    /// <summary>Nodes reading each value, with the input slot.</summary>
    public Dictionary<string, List<(Node Node, int Slot)>> Consumers()
    {
        var result = new Dictionary<string, List<(Node, int)>>(StringComparer.Ordinal);
        foreach (var n in Graph.Nodes)
        {
            for (var i = 0; i < n.Inputs.Count; i++)
            {
                if (n.Inputs[i].Length == 0) continue;
                if (!result.TryGetValue(n.Inputs[i], out var list)) result[n.Inputs[i]] = list = new List<(Node, int)>();
                list.Add((n, i));
            }
        }
        return result;
    }

    /// <summary>The node producing each value.</summary>
    public Dictionary<string, Node> Producers()
    {
        var result = new Dictionary<string, Node>(StringComparer.Ordinal);
        foreach (var n in Graph.Nodes)
        {
            foreach (var o in n.Outputs)
            {
                if (o.Length > 0) result[o] = n;
            }
        }
        return result;
    }

    public bool IsGraphOutput(string value) => Graph.Outputs.Any(o => o.Name == value);

    /// <summary>Makes every reader of <paramref name="from"/> read <paramref name="to"/> instead (graph outputs excluded).</summary>
    public void RenameUses(string from, string to, Node? except = null)
    {
        foreach (var n in Graph.Nodes)
        {
            if (ReferenceEquals(n, except)) continue;
            for (var i = 0; i < n.Inputs.Count; i++)
            {
                if (n.Inputs[i] == from) n.Inputs[i] = to;
            }
        }
    }

    /// <summary>Reorders nodes topologically (new nodes may have been appended out of order).</summary>
    public void SortTopologically()
    {
        var available = new HashSet<string>(Graph.Inputs.Select(i => i.Name), StringComparer.Ordinal);
        available.UnionWith(Graph.Initializers.Select(t => t.Name!));
        available.Add("");
        var pending = Graph.Nodes.ToList();
        var sorted = new List<Node>(pending.Count);
        while (pending.Count > 0)
        {
            var progressed = false;
            for (var i = 0; i < pending.Count; i++)
            {
                var n = pending[i];
                var outer = n.Subgraphs.SelectMany(g => g.OuterScopeReferences());
                if (!n.Inputs.All(available.Contains) || !outer.All(available.Contains)) continue;
                sorted.Add(n);
                available.UnionWith(n.Outputs);
                pending.RemoveAt(i);
                i--;
                progressed = true;
            }
            if (!progressed)
            {
                throw new InvalidModelException($"graph has a cycle or a dangling input near {pending[0].Describe()}", pending[0].Name, pending[0].OpType);
            }
        }
        Graph.Nodes.Clear();
        Graph.Nodes.AddRange(sorted);
    }

    public static Node MakeNode(string opType, IEnumerable<string> inputs, IEnumerable<string> outputs, string name, string domain = "", params NodeAttribute[] attributes)
    {
        var node = new Node(opType, inputs, outputs, name, domain);
        node.Attributes.AddRange(attributes);
        return node;
    }
}
