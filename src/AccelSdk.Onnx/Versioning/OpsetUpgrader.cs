using AccelSdk.Ir;

namespace AccelSdk.Onnx.Versioning;

/// <summary>
/// Raises a model's ai.onnx opset one version at a time, the way ONNX's version converter does: at each version every
/// node whose operator changed there is rewritten by that change's adapter (attributes that became inputs, legacy
/// broadcasting, Upsample to Resize, Softmax's new axis rule...); an operator whose change only widened its types is
/// kept as it is. A change without an adapter is an <see cref="OpsetUpgradeException"/> naming the node, never a
/// silently different model. Subgraphs (If/Loop/Scan bodies) are upgraded with their graph. Other domains are untouched.
/// </summary>
public static partial class OpsetUpgrader
{
    /// <summary>The highest opset an upgrade can reach: the last one the operator table (ONNX 1.12) describes.</summary>
    public static long HighestTarget => OnnxOperatorVersions.HighestOpset;

    /// <summary>The lowest opset ONNX Runtime still runs; older models are upgraded to it before they are handed over.</summary>
    public const long OnnxRuntimeMinimum = 7;

    /// <summary>
    /// Upgrades <paramref name="model"/> in place to ai.onnx opset <paramref name="target"/>. Returns false (and changes
    /// nothing) when the model is already at or above it. On failure the model may be partly rewritten: upgrade a copy
    /// (<see cref="Upgraded"/>) when the original must survive a refusal.
    /// </summary>
    /// <exception cref="OpsetUpgradeException">A node cannot be upgraded, or the model has no ai.onnx opset.</exception>
    public static bool Upgrade(Model model, long target)
    {
        var current = model.OpsetOf("") ?? throw new OpsetUpgradeException(model.Label, null, null, 0, target, "it imports no ai.onnx opset");
        if (current >= target) return false;
        if (current < 1) throw new OpsetUpgradeException(model.Label, null, null, current, target, $"opset {current} is no ai.onnx version (they start at 1)");
        if (target > HighestTarget)
        {
            throw new OpsetUpgradeException(model.Label, null, null, current, target, $"the operator table describes opsets up to {HighestTarget} only");
        }
        CheckOperatorsExist(model, model.Graph, current, target);
        var state = new UpgradeState(model.Graph);
        for (var version = current + 1; version <= target; version++)
        {
            var inferred = new Lazy<Dictionary<string, Ir.ValueType>>(() => ShapeInference.Infer(model));
            foreach (var graph in GraphsOf(model.Graph).ToList())
            {
                var step = new UpgradeStep(model, graph, state, version, ReferenceEquals(graph, model.Graph) ? inferred : null);
                foreach (var node in graph.Nodes.ToList())
                {
                    if (node.Domain is "" or "ai.onnx" && OnnxOperatorVersions.ChangesAt(node.OpType, version)) Adapt(step, node);
                }
            }
        }
        model.OpsetImports.Remove("ai.onnx");
        model.OpsetImports[""] = target;
        model.IrVersion = Math.Max(model.IrVersion, MinimumIrVersion(target, state.AddedConstants));
        return true;
    }

    /// <summary>An upgraded copy of <paramref name="model"/> (the original is not changed), or the model itself when it is already at or above <paramref name="target"/>.</summary>
    public static Model Upgraded(Model model, long target)
    {
        if ((model.OpsetOf("") ?? 0) >= target && model.OpsetOf("") is not null) return model;
        var copy = OnnxImporter.Parse(OnnxExporter.ToBytes(model), model.Label);
        copy.SourcePath = model.SourcePath;
        Upgrade(copy, target);
        return copy;
    }

    private static void Adapt(UpgradeStep step, Node node)
    {
        if (!Adapters.TryGetValue((node.OpType, step.Version), out var adapter))
        {
            throw step.Refuse(node, $"{node.OpType} changed at opset {step.Version} in a way AccelSdk does not rewrite");
        }
        try
        {
            adapter(step, node);
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or IndexOutOfRangeException or InvalidCastException or InvalidTensorException)
        {
            // A hostile or malformed node (an attribute of the wrong kind, a missing input) is refused, never a crash.
            throw step.Refuse(node, $"it does not fit its opset-{step.Version - 1} schema ({e.Message})");
        }
    }

    /// <summary>Every default-domain op must be known and already exist at the model's own opset.</summary>
    private static void CheckOperatorsExist(Model model, Graph graph, long current, long target)
    {
        foreach (var node in graph.Nodes)
        {
            if (node.Domain is "" or "ai.onnx")
            {
                var introduced = OnnxOperatorVersions.IntroducedAt(node.OpType);
                if (introduced is null)
                {
                    throw new OpsetUpgradeException(model.Label, node.Describe(), node.OpType, current, target, $"{node.OpType} is not an ai.onnx operator of ONNX 1.12 (experimental or unknown)");
                }
                if (introduced > current)
                {
                    throw new OpsetUpgradeException(model.Label, node.Describe(), node.OpType, current, target, $"{node.OpType} only exists from opset {introduced}, but the model declares opset {current}");
                }
            }
            foreach (var sub in node.Subgraphs) CheckOperatorsExist(model, sub, current, target);
        }
    }

    private static IEnumerable<Graph> GraphsOf(Graph graph)
    {
        yield return graph;
        foreach (var sub in graph.Nodes.SelectMany(n => n.Subgraphs))
        {
            foreach (var g in GraphsOf(sub)) yield return g;
        }
    }

    /// <summary>
    /// The IR version that carries <paramref name="opset"/> (ONNX's release table); at least 4 when constants were added,
    /// since before IR 4 every initializer also had to be a graph input.
    /// </summary>
    private static long MinimumIrVersion(long opset, bool addedConstants)
    {
        long ir = opset switch { <= 8 => 3, 9 => 4, 10 => 5, 11 => 6, <= 14 => 7, _ => 8 };
        return addedConstants ? Math.Max(ir, 4) : ir;
    }

    /// <summary>What the steps of one upgrade share: fresh names unique across the model and its subgraphs, and facts earlier steps knew.</summary>
    internal sealed class UpgradeState
    {
        private readonly HashSet<string> _used = new(StringComparer.Ordinal);

        public UpgradeState(Graph graph) => Collect(graph);

        public bool AddedConstants { get; set; }

        /// <summary>Resize nodes that were Upsample, whose scales are at least 1 by Upsample's definition.</summary>
        public HashSet<Node> FormerUpsamples { get; } = new(ReferenceEqualityComparer.Instance);

        public string Fresh(string stem)
        {
            if (_used.Add(stem)) return stem;
            for (var i = 1; ; i++)
            {
                var candidate = $"{stem}_{i}";
                if (_used.Add(candidate)) return candidate;
            }
        }

        private void Collect(Graph graph)
        {
            foreach (var i in graph.Inputs) _used.Add(i.Name);
            foreach (var t in graph.Initializers) if (t.Name is { } name) _used.Add(name);
            foreach (var n in graph.Nodes)
            {
                _used.UnionWith(n.Inputs);
                _used.UnionWith(n.Outputs);
                if (n.Name.Length > 0) _used.Add(n.Name);
                foreach (var sub in n.Subgraphs) Collect(sub);
            }
        }
    }
}
