using AccelSdk.Ir;

namespace AccelSdk.Optimize.Conversion;

/// <summary>Options of float16 conversion.</summary>
public sealed record Fp16Options
{
    /// <summary>Keep float32 graph inputs and outputs (Cast nodes at the edges); false makes them float16.</summary>
    public bool KeepIoFloat32 { get; init; } = true;

    /// <summary>Operator types that keep computing in float32 (Cast nodes around them).</summary>
    public IReadOnlyCollection<string> BlockedOpTypes { get; init; } = Array.Empty<string>();

    /// <summary>Node names that keep computing in float32.</summary>
    public IReadOnlyCollection<string> BlockedNodes { get; init; } = Array.Empty<string>();

    /// <summary>
    /// Weights read only by blocked nodes stay float32 (false: they are stored in float16 and cast back on every run).
    /// Mixed precision sets it, as it blocks every layer but its float16 ones.
    /// </summary>
    public bool KeepBlockedWeightsFloat32 { get; init; }
}

/// <summary>Converts float32 weights and computation to float16, keeping blocked ops and (by default) the graph I/O in float32.</summary>
public static class Fp16Converter
{
    /// <summary>Converts a copy of <paramref name="model"/>.</summary>
    public static OptimizationResult Convert(Model model, Fp16Options? options = null)
    {
        options ??= new Fp16Options();
        if (model.Graph.Nodes.Any(n => n.Domain.Length == 0 && ModelPreparation.QuantizedOperators.Contains(n.OpType)))
        {
            throw new AlreadyQuantizedException(model.Label, "it holds quantized operators; convert the float32 model to fp16");
        }
        var copy = ModelPreparation.Clone(model);
        var graph = copy.Graph;
        var overflowing = OverflowingConstants(graph);
        if (overflowing.Count > 0 && copy.IrVersion < 4) copy.IrVersion = 4;
        var types = ShapeInference.Infer(copy);
        bool IsFloat32(string name) => name.Length > 0 && types.TryGetValue(name, out var t) && t is TensorType { ElementType: ElementType.Float32 };
        var overflowReaders = OverflowReaders(graph, overflowing);
        bool Blocked(Node n) => options.BlockedOpTypes.Contains(n.OpType) || options.BlockedNodes.Contains(n.Name) || n.Domain.Length > 0 && n.Domain != "ai.onnx"
            || overflowReaders.ContainsKey(n);
        var editor = new GraphEditor(graph);
        var changed = new List<string>();
        var skipped = new List<(string, string)>();

        var keepFloat32 = ValuesReadByTypedSlots(graph, IsFloat32, out var typedOnly);
        keepFloat32.UnionWith(overflowing.Keys);
        if (options.KeepBlockedWeightsFloat32) keepFloat32.UnionWith(InitializersOnlyBlockedNodesRead(graph, Blocked));
        ConvertInitializers(graph, editor, keepFloat32, Blocked);

        var newNodes = new List<Node>();
        foreach (var n in graph.Nodes)
        {
            var label = n.Name.Length > 0 ? n.Name : n.Outputs[0];
            if (Blocked(n))
            {
                skipped.Add((label, overflowReaders.TryGetValue(n, out var why) ? $"computes in float32: {why}" : "blocked: computes in float32"));
                for (var i = 0; i < n.Inputs.Count; i++)
                {
                    if (!IsFloat32(n.Inputs[i]) || keepFloat32.Contains(n.Inputs[i]) || IsTypedSlot(n, i)) continue;
                    var cast = editor.FreshName(n.Inputs[i] + "_float32");
                    newNodes.Add(Cast(editor, n.Inputs[i], cast, ElementType.Float32));
                    n.Inputs[i] = cast;
                }
                newNodes.Add(n);
                for (var o = 0; o < n.Outputs.Count; o++)
                {
                    if (!IsFloat32(n.Outputs[o])) continue;
                    var original = n.Outputs[o];
                    var raw = editor.FreshName(original + "_float32");
                    n.Outputs[o] = raw;
                    newNodes.Add(Cast(editor, raw, original, ElementType.Float16));
                }
                continue;
            }
            foreach (var a in n.Attributes.ToList())
            {
                if (n.OpType == "Cast" && a.Name == "to" && a.AsInt() == (long)ElementType.Float32)
                {
                    n.Attributes[n.Attributes.IndexOf(a)] = NodeAttribute.Int("to", (long)ElementType.Float16);
                }
                else if (a.Kind == AttributeKind.Tensor && a.AsTensor().ElementType == ElementType.Float32 && n.OpType is "Constant" or "ConstantOfShape"
                         && !typedOnly.Contains(n.Outputs[0]))
                {
                    n.Attributes[n.Attributes.IndexOf(a)] = NodeAttribute.FromTensor(a.Name, ToHalf(a.AsTensor()));
                }
            }
            foreach (var sub in n.Subgraphs) ConvertSubgraph(sub);
            if (n.OpType == "ConstantOfShape" && IsFloat32(n.Outputs[0]) && n.Attributes.All(a => a.Name != "value"))
            {
                // Without 'value' ONNX makes float32 zeros, which would then meet float16 values downstream.
                n.Attributes.Add(NodeAttribute.FromTensor("value", ToHalf(AccelTensor.Create(new[] { 0f }, 1))));
            }
            if (n.Outputs.Any(IsFloat32) && !(n.OpType == "Constant" && typedOnly.Contains(n.Outputs[0]))) changed.Add(label);
            newNodes.Add(n);
        }
        graph.Nodes.Clear();
        graph.Nodes.AddRange(newNodes);
        CastTypedSlotsBackToFloat32(graph, editor, name => IsFloat32(name) && !keepFloat32.Contains(name) && !typedOnly.Contains(name));

        for (var i = 0; i < graph.ValueInfos.Count; i++)
        {
            if (graph.ValueInfos[i].Type is TensorType { ElementType: ElementType.Float32 } vt && !keepFloat32.Contains(graph.ValueInfos[i].Name)
                && !typedOnly.Contains(graph.ValueInfos[i].Name))
            {
                graph.ValueInfos[i] = graph.ValueInfos[i] with { Type = vt with { ElementType = ElementType.Float16 } };
            }
        }
        var initializerNames = new HashSet<string>(graph.Initializers.Select(t => t.Name!), StringComparer.Ordinal);
        for (var i = 0; i < graph.Inputs.Count; i++)
        {
            var input = graph.Inputs[i];
            if (input.Type is not TensorType { ElementType: ElementType.Float32 } it) continue;
            if (initializerNames.Contains(input.Name))
            {
                if (!keepFloat32.Contains(input.Name)) graph.Inputs[i] = input with { Type = it with { ElementType = ElementType.Float16 } };
                continue;
            }
            if (options.KeepIoFloat32)
            {
                var half = editor.FreshName(input.Name + "_float16");
                editor.RenameUses(input.Name, half);
                foreach (var sub in graph.Nodes.SelectMany(n => n.Subgraphs)) RenameOuterScopeUses(sub, input.Name, half);
                graph.Nodes.Insert(0, Cast(editor, input.Name, half, ElementType.Float16));
            }
            else
            {
                graph.Inputs[i] = input with { Type = it with { ElementType = ElementType.Float16 } };
            }
        }
        for (var i = 0; i < graph.Outputs.Count; i++)
        {
            var output = graph.Outputs[i];
            if (output.Type is not TensorType { ElementType: ElementType.Float32 } ot) continue;
            if (!options.KeepIoFloat32)
            {
                graph.Outputs[i] = output with { Type = ot with { ElementType = ElementType.Float16 } };
                continue;
            }
            var half = editor.FreshName(output.Name + "_float16");
            foreach (var n in graph.Nodes)
            {
                for (var o = 0; o < n.Outputs.Count; o++) if (n.Outputs[o] == output.Name) n.Outputs[o] = half;
            }
            editor.RenameUses(output.Name, half);
            foreach (var sub in graph.Nodes.SelectMany(n => n.Subgraphs)) RenameOuterScopeUses(sub, output.Name, half);
            graph.Nodes.Add(Cast(editor, half, output.Name, ElementType.Float32));
        }
        editor.SortTopologically();
        copy.ProducerName = "AccelSdk.Optimize";
        copy.MetadataProps.Add(new("accelsdk.optimization", "fp16"));
        var settings = new Dictionary<string, string>
        {
            ["io"] = options.KeepIoFloat32 ? "float32 (Cast at the edges)" : "float16",
            ["blocked_ops"] = options.BlockedOpTypes.Count == 0 ? "none" : string.Join(" ", options.BlockedOpTypes),
        };
        if (overflowing.Count > 0)
        {
            settings["kept_float32"] = $"{overflowing.Count} constant(s) beyond float16's range (largest {overflowing.Values.Max():G3}) and the {overflowReaders.Count} node(s) reading them";
        }
        return new OptimizationResult("fp16", copy, changed, skipped, settings);
    }

    /// <summary>Largest finite magnitude of float16.</summary>
    private const float Float16Max = 65504f;

    /// <summary>
    /// Float32 constants holding a finite value beyond float16's range (a BatchNorm running variance of 1e8 in
    /// PP-OCRv4's detector): clamped to 65504 they normalise by sqrt(65504) instead of sqrt(1e8), 39x off, and the
    /// whole output is wrong (cosine 0.02). They stay float32; a Constant node holding one becomes an initializer of the
    /// same name. Returns name -> largest magnitude.
    /// </summary>
    private static Dictionary<string, float> OverflowingConstants(Graph graph)
    {
        static float Largest(AccelTensor t) => t.ElementType == ElementType.Float32
            ? t.AsSpan<float>().ToArray().Where(float.IsFinite).Select(Math.Abs).DefaultIfEmpty(0).Max() : 0;
        var result = new Dictionary<string, float>(StringComparer.Ordinal);
        foreach (var t in graph.Initializers.Where(t => Largest(t) > Float16Max)) result[t.Name!] = Largest(t);
        var outputs = new HashSet<string>(graph.Outputs.Select(o => o.Name), StringComparer.Ordinal);
        foreach (var n in graph.Nodes.Where(n => n.OpType == "Constant" && n.Domain is "" or "ai.onnx" && n.Outputs.Count == 1 && !outputs.Contains(n.Outputs[0])).ToList())
        {
            if (n.Attribute("value") is not { Kind: AttributeKind.Tensor } value || Largest(value.AsTensor()) is var largest && largest <= Float16Max) continue;
            graph.Initializers.Add(value.AsTensor().WithName(n.Outputs[0]));
            graph.Nodes.Remove(n);
            result[n.Outputs[0]] = largest;
        }
        return result;
    }

    /// <summary>Nodes that read an overflowing constant, with the reason they compute in float32.</summary>
    private static Dictionary<Node, string> OverflowReaders(Graph graph, Dictionary<string, float> overflowing)
    {
        var result = new Dictionary<Node, string>();
        if (overflowing.Count == 0) return result;
        foreach (var n in graph.Nodes)
        {
            var read = n.Inputs.FirstOrDefault(overflowing.ContainsKey);
            if (read is not null) result[n] = $"reads '{read}', whose values reach {overflowing[read]:G3}, beyond float16's largest {Float16Max}";
        }
        return result;
    }

    private static bool IsTypedSlot(Node n, int slot) => n.Domain is "" or "ai.onnx" && TypedInputs.MustKeepType(n.OpType, slot);

    /// <summary>
    /// Float32 initializers read by a slot whose type the schema fixes (<see cref="TypedInputs"/>); <paramref name="typedOnly"/>
    /// gets the float32 values, computed or constant, that only such slots read (they stay float32 too).
    /// </summary>
    private static HashSet<string> ValuesReadByTypedSlots(Graph graph, Func<string, bool> isFloat32, out HashSet<string> typedOnly)
    {
        var typed = new HashSet<string>(StringComparer.Ordinal);
        var other = new HashSet<string>(graph.Outputs.Select(o => o.Name), StringComparer.Ordinal);
        foreach (var n in graph.Nodes)
        {
            for (var i = 0; i < n.Inputs.Count; i++)
            {
                if (!isFloat32(n.Inputs[i])) continue;
                (IsTypedSlot(n, i) ? typed : other).Add(n.Inputs[i]);
            }
            foreach (var sub in n.Subgraphs) other.UnionWith(sub.OuterScopeReferences());
        }
        var initializers = new HashSet<string>(graph.Initializers.Select(t => t.Name!), StringComparer.Ordinal);
        typedOnly = new HashSet<string>(typed.Where(v => !other.Contains(v) && !initializers.Contains(v)
            && graph.Nodes.Any(n => n.OpType == "Constant" && n.Outputs[0] == v)), StringComparer.Ordinal);
        typed.IntersectWith(initializers);
        return typed;
    }

    /// <summary>Float32 initializers become float16, except those typed slots read; a float16 copy serves their other readers.</summary>
    /// <summary>
    /// Weights that only float32 (blocked) nodes read, to keep in float32 (<see cref="Fp16Options.KeepBlockedWeightsFloat32"/>).
    /// None in graphs with subgraphs, whose bodies may read outer weights by name.
    /// </summary>
    private static IEnumerable<string> InitializersOnlyBlockedNodesRead(Graph graph, Func<Node, bool> blocked)
    {
        if (graph.Nodes.Any(n => n.Attributes.Any(a => a.Kind is AttributeKind.Graph or AttributeKind.Graphs))) return [];
        var outputs = graph.Outputs.Select(o => o.Name).ToHashSet(StringComparer.Ordinal);
        var readByConverted = graph.Nodes.Where(n => !blocked(n)).SelectMany(n => n.Inputs).ToHashSet(StringComparer.Ordinal);
        return graph.Initializers.Where(t => t.ElementType == ElementType.Float32 && !readByConverted.Contains(t.Name!) && !outputs.Contains(t.Name!)).Select(t => t.Name!).ToList();
    }

    private static void ConvertInitializers(Graph graph, GraphEditor editor, HashSet<string> keepFloat32, Func<Node, bool> blocked)
    {
        var halfCopies = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var n in graph.Nodes.Where(n => !blocked(n)))
        {
            for (var i = 0; i < n.Inputs.Count; i++)
            {
                var name = n.Inputs[i];
                if (!keepFloat32.Contains(name) || IsTypedSlot(n, i)) continue;
                if (!halfCopies.TryGetValue(name, out var copy))
                {
                    halfCopies[name] = copy = editor.AddInitializer(name + "_float16", ToHalf(editor.Initializer(name)!));
                }
                n.Inputs[i] = copy;
            }
        }
        var copies = new HashSet<string>(halfCopies.Values, StringComparer.Ordinal);
        for (var i = 0; i < graph.Initializers.Count; i++)
        {
            var t = graph.Initializers[i];
            if (t.ElementType == ElementType.Float32 && !keepFloat32.Contains(t.Name!) && !copies.Contains(t.Name!)) graph.Initializers[i] = ToHalf(t).WithName(t.Name);
        }
    }

    /// <summary>
    /// The body of an If, Loop or Scan reads the converted outer values, so it computes in float16 too: its float32
    /// constants, Casts to float32 and declared float32 values become float16 (typed slots keep their constants).
    /// </summary>
    private static void ConvertSubgraph(Graph sub)
    {
        var typed = new HashSet<string>(StringComparer.Ordinal);
        foreach (var n in sub.Nodes)
        {
            for (var i = 0; i < n.Inputs.Count; i++) if (IsTypedSlot(n, i)) typed.Add(n.Inputs[i]);
        }
        for (var i = 0; i < sub.Initializers.Count; i++)
        {
            var t = sub.Initializers[i];
            if (t.ElementType == ElementType.Float32 && !typed.Contains(t.Name!)) sub.Initializers[i] = ToHalf(t).WithName(t.Name);
        }
        foreach (var n in sub.Nodes)
        {
            for (var a = 0; a < n.Attributes.Count; a++)
            {
                var attribute = n.Attributes[a];
                if (n.OpType == "Cast" && attribute.Name == "to" && attribute.AsInt() == (long)ElementType.Float32)
                {
                    n.Attributes[a] = NodeAttribute.Int("to", (long)ElementType.Float16);
                }
                else if (attribute.Kind == AttributeKind.Tensor && attribute.AsTensor().ElementType == ElementType.Float32
                         && n.OpType is "Constant" or "ConstantOfShape" && !typed.Contains(n.Outputs[0]))
                {
                    n.Attributes[a] = NodeAttribute.FromTensor(attribute.Name, ToHalf(attribute.AsTensor()));
                }
            }
            if (n.OpType == "ConstantOfShape" && n.Attributes.All(a => a.Name != "value"))
            {
                n.Attributes.Add(NodeAttribute.FromTensor("value", ToHalf(AccelTensor.Create(new[] { 0f }, 1))));
            }
            foreach (var nested in n.Subgraphs) ConvertSubgraph(nested);
        }
        HalveDeclaredTypes(sub.Inputs, typed);
        HalveDeclaredTypes(sub.Outputs, typed);
        HalveDeclaredTypes(sub.ValueInfos, typed);
    }

    /// <summary>Makes the nodes of <paramref name="sub"/> (and of its own subgraphs) read <paramref name="to"/> instead of the outer value <paramref name="from"/>.</summary>
    private static void RenameOuterScopeUses(Graph sub, string from, string to)
    {
        if (sub.Inputs.Any(i => i.Name == from) || sub.Initializers.Any(t => t.Name == from) || sub.Nodes.Any(n => n.Outputs.Contains(from))) return;
        foreach (var n in sub.Nodes)
        {
            for (var i = 0; i < n.Inputs.Count; i++) if (n.Inputs[i] == from) n.Inputs[i] = to;
            foreach (var nested in n.Subgraphs) RenameOuterScopeUses(nested, from, to);
        }
        for (var o = 0; o < sub.Outputs.Count; o++)
        {
            if (sub.Outputs[o].Name == from) sub.Outputs[o] = sub.Outputs[o] with { Name = to };
        }
    }

    private static void HalveDeclaredTypes(List<ValueInfo> values, HashSet<string> keep)
    {
        for (var i = 0; i < values.Count; i++)
        {
            if (values[i].Type is TensorType { ElementType: ElementType.Float32 } t && !keep.Contains(values[i].Name))
            {
                values[i] = values[i] with { Type = t with { ElementType = ElementType.Float16 } };
            }
        }
    }

    /// <summary>A computed value that became float16 gets a Cast to float32 in front of every typed slot reading it.</summary>
    private static void CastTypedSlotsBackToFloat32(Graph graph, GraphEditor editor, Func<string, bool> becameFloat16)
    {
        var casts = new Dictionary<string, string>(StringComparer.Ordinal);
        var added = new List<Node>();
        foreach (var n in graph.Nodes)
        {
            for (var i = 0; i < n.Inputs.Count; i++)
            {
                if (!IsTypedSlot(n, i) || !becameFloat16(n.Inputs[i])) continue;
                if (!casts.TryGetValue(n.Inputs[i], out var float32))
                {
                    casts[n.Inputs[i]] = float32 = editor.FreshName(n.Inputs[i] + "_float32");
                    added.Add(Cast(editor, n.Inputs[i], float32, ElementType.Float32));
                }
                n.Inputs[i] = float32;
            }
        }
        graph.Nodes.AddRange(added);
    }

    private static Node Cast(GraphEditor editor, string input, string output, ElementType to) =>
        GraphEditor.MakeNode("Cast", new[] { input }, new[] { output }, editor.FreshName(output + "_Cast"), "", NodeAttribute.Int("to", (long)to));

    private static AccelTensor ToHalf(AccelTensor t)
    {
        var src = t.AsSpan<float>();
        var result = AccelTensor.Zeros(ElementType.Float16, t.Shape);
        var dst = result.AsSpan<Half>();
        for (var i = 0; i < src.Length; i++) dst[i] = (Half)Math.Clamp(src[i], -65504f, 65504f);
        return result;
    }
}
