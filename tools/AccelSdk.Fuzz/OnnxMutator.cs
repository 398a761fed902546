using System.Collections;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using OnnxProto = global::Onnx;

namespace AccelSdk.Fuzz;

/// <summary>
/// Protobuf-field-aware mutations of an ONNX <c>ModelProto</c>: declared and initializer dims, element types, value
/// names (the links between nodes, initializers and graph inputs/outputs), attribute values and kinds, removed and
/// duplicated repeated fields, truncated tensor data and external-data references, op types, domains and opsets, plus
/// any scalar field of the whole message tree set to a boundary value. Subgraphs of If/Loop/Scan are mutated as well.
/// </summary>
internal sealed class OnnxMutator : IMutator
{
    private static readonly string[] OpTypes =
    {
        "Add", "Conv", "Reshape", "Gather", "MatMul", "Relu", "Concat", "Transpose", "Resize", "Pow", "Slice", "Squeeze",
        "Unsqueeze", "Expand", "Constant", "If", "Loop", "Split", "Cast", "Softmax", "MaxPool", "Pad", "Tile", "Where",
        "ConstantOfShape", "Range", "NotAnOp",
    };

    private static readonly string[] Domains = { "", "ai.onnx", "ai.onnx.ml", "com.microsoft", "com.accelsdk", "bogus.domain" };

    private delegate string Mutation(OnnxProto.ModelProto model, Random random);

    private static readonly Mutation[] Kinds =
    {
        ShapeDim, TensorDims, ElementType, ValueName, AttributeValue, RemoveOrDuplicate, TensorData, OpTypeDomainOpset,
        AnyScalarField, AnyScalarField,
    };

    /// <inheritdoc />
    public Mutant Apply(byte[] seed, IReadOnlyList<MutationStep> steps)
    {
        var model = OnnxProto.ModelProto.Parser.ParseFrom(seed);
        var descriptions = new string[steps.Count];
        var wireSteps = new List<(int Index, Random Random)>();
        for (var i = 0; i < steps.Count; i++)
        {
            var random = new Random(steps[i].Seed);
            var kind = random.Next(Kinds.Length + 1);
            if (kind == Kinds.Length) wireSteps.Add((i, random));
            else descriptions[i] = Kinds[kind](model, random);
        }
        var bytes = model.ToByteArray();
        foreach (var (index, random) in wireSteps) descriptions[index] = WireByte(bytes, random);
        return new Mutant(bytes, steps, descriptions);
    }

    /// <summary>
    /// A byte of the serialized message rewritten after the field-aware steps: a field retagged (its number or wire type
    /// changed), a length prefix or varint corrupted.
    /// </summary>
    private static string WireByte(byte[] bytes, Random random)
    {
        if (bytes.Length == 0) return "wire: empty message";
        var at = random.Next(bytes.Length);
        var old = bytes[at];
        bytes[at] = random.Next(3) switch
        {
            0 => (byte)((random.Next(1, 16) << 3) | (old & 7)),
            1 => (byte)((old & ~7) | random.Next(8)),
            _ => (byte)random.Next(256),
        };
        return $"wire: byte {at} {old} -> {bytes[at]}";
    }

    private static List<OnnxProto.GraphProto> Graphs(OnnxProto.ModelProto model)
    {
        var result = new List<OnnxProto.GraphProto>();
        void Visit(OnnxProto.GraphProto? graph)
        {
            if (graph is null) return;
            result.Add(graph);
            foreach (var node in graph.Node)
            {
                foreach (var a in node.Attribute)
                {
                    Visit(a.G);
                    foreach (var g in a.Graphs) Visit(g);
                }
            }
        }
        Visit(model.Graph);
        return result;
    }

    private static T? Pick<T>(Random random, IReadOnlyList<T> items) where T : class =>
        items.Count == 0 ? null : items[random.Next(items.Count)];

    private static IEnumerable<OnnxProto.ValueInfoProto> ValueInfos(OnnxProto.GraphProto g) => g.Input.Concat(g.Output).Concat(g.ValueInfo);

    private static IEnumerable<OnnxProto.TensorProto> Tensors(OnnxProto.ModelProto model) =>
        Graphs(model).SelectMany(g => g.Initializer.Concat(g.Node.SelectMany(n => n.Attribute).Where(a => a.T is not null).Select(a => a.T)));

    private static string ShapeDim(OnnxProto.ModelProto model, Random random)
    {
        var shapes = Graphs(model).SelectMany(ValueInfos)
            .Select(v => v.Type?.TensorType?.Shape).OfType<OnnxProto.TensorShapeProto>().ToList();
        var shape = Pick(random, shapes);
        if (shape is null) return "shape dim: no declared shape";
        if (shape.Dim.Count == 0 || random.Next(6) == 0)
        {
            shape.Dim.Add(new OnnxProto.TensorShapeProto.Types.Dimension { DimValue = Mutations.InterestingLong(random, 1) });
            return "shape dim: added a dim";
        }
        var index = random.Next(shape.Dim.Count);
        var dim = shape.Dim[index];
        switch (random.Next(5))
        {
            case 0:
                shape.Dim.RemoveAt(index);
                return $"shape dim: removed dim {index}";
            case 1:
                dim.DimParam = random.Next(2) == 0 ? "" : "N";
                return $"shape dim: dim {index} made symbolic";
            case 2:
                dim.ClearValue();
                return $"shape dim: dim {index} cleared";
            default:
                dim.DimValue = Mutations.InterestingLong(random, dim.DimValue);
                return $"shape dim: dim {index} = {dim.DimValue}";
        }
    }

    private static string TensorDims(OnnxProto.ModelProto model, Random random)
    {
        var tensor = Pick(random, Tensors(model).ToList());
        if (tensor is null) return "tensor dims: no tensor";
        if (tensor.Dims.Count == 0 || random.Next(5) == 0)
        {
            tensor.Dims.Add(Mutations.InterestingLong(random, 1));
            return $"tensor dims: '{tensor.Name}' gained a dim";
        }
        var index = random.Next(tensor.Dims.Count);
        if (random.Next(5) == 0)
        {
            tensor.Dims.RemoveAt(index);
            return $"tensor dims: '{tensor.Name}' lost dim {index}";
        }
        tensor.Dims[index] = Mutations.InterestingLong(random, tensor.Dims[index]);
        return $"tensor dims: '{tensor.Name}' dim {index} = {tensor.Dims[index]}";
    }

    private static int ElementTypeValue(Random random) => random.Next(4) switch
    {
        0 => 0,
        1 => random.Next(17, 30),
        2 => random.Next(2) == 0 ? -1 : 1000,
        _ => random.Next(1, 17),
    };

    private static string ElementType(OnnxProto.ModelProto model, Random random)
    {
        if (random.Next(2) == 0)
        {
            var tensor = Pick(random, Tensors(model).ToList());
            if (tensor is null) return "element type: no tensor";
            tensor.DataType = ElementTypeValue(random);
            return $"element type: tensor '{tensor.Name}' data_type = {tensor.DataType}";
        }
        var type = Pick(random, Graphs(model).SelectMany(ValueInfos).Select(v => v.Type?.TensorType).OfType<OnnxProto.TypeProto.Types.Tensor>().ToList());
        if (type is null) return "element type: no declared tensor type";
        type.ElemType = ElementTypeValue(random);
        return $"element type: declared elem_type = {type.ElemType}";
    }

    /// <summary>A slot holding a value name: a node input/output, an initializer's or a declared value's name.</summary>
    private sealed record NameSlot(string Where, Func<string> Get, Action<string> Set);

    private static List<NameSlot> NameSlots(OnnxProto.ModelProto model)
    {
        var slots = new List<NameSlot>();
        foreach (var g in Graphs(model))
        {
            foreach (var node in g.Node)
            {
                AddAll(slots, node.Input, $"node '{node.Name}' ({node.OpType}) input");
                AddAll(slots, node.Output, $"node '{node.Name}' ({node.OpType}) output");
            }
            foreach (var t in g.Initializer) slots.Add(new NameSlot("initializer name", () => t.Name, v => t.Name = v));
            foreach (var v in ValueInfos(g)) slots.Add(new NameSlot("declared value name", () => v.Name, n => v.Name = n));
        }
        return slots;
    }

    private static void AddAll(List<NameSlot> slots, Google.Protobuf.Collections.RepeatedField<string> names, string where)
    {
        for (var i = 0; i < names.Count; i++)
        {
            var index = i;
            slots.Add(new NameSlot($"{where} {index}", () => names[index], v => names[index] = v));
        }
    }

    private static string ValueName(OnnxProto.ModelProto model, Random random)
    {
        var slots = NameSlots(model);
        var slot = Pick(random, slots);
        if (slot is null) return "value name: none";
        if (random.Next(8) == 0 && Pick(random, Graphs(model).SelectMany(g => g.Initializer).ToList()) is { } unnamed)
        {
            var name = unnamed.Name;
            unnamed.ClearName();
            return $"value name: initializer '{name}' name field removed";
        }
        var old = slot.Get();
        var value = random.Next(4) switch
        {
            0 => "",
            1 => "fuzz_dangling",
            _ => slots[random.Next(slots.Count)].Get(),
        };
        slot.Set(value);
        return $"value name: {slot.Where} '{old}' -> '{value}'";
    }

    private static string AttributeValue(OnnxProto.ModelProto model, Random random)
    {
        var nodes = Graphs(model).SelectMany(g => g.Node).ToList();
        var node = Pick(random, nodes);
        if (node is null) return "attribute: no node";
        if (node.Attribute.Count == 0 || random.Next(8) == 0)
        {
            var donor = Pick(random, nodes.SelectMany(n => n.Attribute).ToList());
            var added = donor?.Clone() ?? new OnnxProto.AttributeProto { Name = "axis", Type = OnnxProto.AttributeProto.Types.AttributeType.Int, I = 7 };
            node.Attribute.Add(added);
            return $"attribute: node '{node.Name}' ({node.OpType}) got attribute '{added.Name}'";
        }
        var index = random.Next(node.Attribute.Count);
        var a = node.Attribute[index];
        var label = $"attribute: node '{node.Name}' ({node.OpType}) '{a.Name}'";
        switch (random.Next(8))
        {
            case 0:
                node.Attribute.RemoveAt(index);
                return label + " removed";
            case 1:
                node.Attribute.Add(a.Clone());
                return label + " duplicated";
            case 2:
                a.Type = (OnnxProto.AttributeProto.Types.AttributeType)random.Next(0, 16);
                return label + $" retagged as {(int)a.Type}";
            case 3:
                a.F = Mutations.InterestingFloat(random);
                return label + $" f = {a.F}";
            case 4:
                if (a.Ints.Count == 0 || random.Next(4) == 0) a.Ints.Add(Mutations.InterestingLong(random, 0));
                else if (random.Next(4) == 0) a.Ints.RemoveAt(random.Next(a.Ints.Count));
                else
                {
                    var i = random.Next(a.Ints.Count);
                    a.Ints[i] = Mutations.InterestingLong(random, a.Ints[i]);
                }
                return label + $" ints = [{string.Join(",", a.Ints)}]";
            case 5:
                a.S = ByteString.CopyFromUtf8(random.Next(2) == 0 ? "" : "fuzz");
                return label + " s changed";
            default:
                a.I = Mutations.InterestingLong(random, a.I);
                return label + $" i = {a.I}";
        }
    }

    private static string RemoveOrDuplicate(OnnxProto.ModelProto model, Random random)
    {
        var graph = Pick(random, Graphs(model));
        if (graph is null) return "remove/duplicate: no graph";
        var node = Pick(random, graph.Node.ToList());
        var lists = new List<(string Name, IList List)>
        {
            ("node", graph.Node), ("initializer", graph.Initializer), ("graph input", graph.Input), ("graph output", graph.Output),
            ("value_info", graph.ValueInfo), ("opset_import", model.OpsetImport),
        };
        if (node is not null)
        {
            lists.Add(($"inputs of node '{node.Name}'", node.Input));
            lists.Add(($"outputs of node '{node.Name}'", node.Output));
        }
        var nonEmpty = lists.Where(l => l.List.Count > 0).ToList();
        if (nonEmpty.Count == 0) return "remove/duplicate: nothing";
        var (name, list) = nonEmpty[random.Next(nonEmpty.Count)];
        var index = random.Next(list.Count);
        switch (random.Next(3))
        {
            case 0:
                list.RemoveAt(index);
                return $"remove/duplicate: removed {name} {index}";
            case 1:
                var item = list[index];
                list.Add(item is IMessage m ? m.Descriptor.Parser.ParseFrom(m.ToByteString()) : item);
                return $"remove/duplicate: duplicated {name} {index}";
            default:
                var other = random.Next(list.Count);
                (list[index], list[other]) = (list[other], list[index]);
                return $"remove/duplicate: swapped {name} {index} and {other}";
        }
    }

    private static string TensorData(OnnxProto.ModelProto model, Random random)
    {
        var tensor = Pick(random, Tensors(model).ToList());
        if (tensor is null) return "tensor data: no tensor";
        switch (random.Next(6))
        {
            case 0 when tensor.RawData.Length > 0:
                tensor.RawData = ByteString.CopyFrom(tensor.RawData.Span[..random.Next(tensor.RawData.Length)]);
                return $"tensor data: '{tensor.Name}' raw_data truncated to {tensor.RawData.Length} bytes";
            case 1:
                tensor.FloatData.Add(Mutations.InterestingFloat(random));
                tensor.Int64Data.Add(Mutations.InterestingLong(random, 0));
                return $"tensor data: '{tensor.Name}' got extra typed data";
            case 2:
                tensor.FloatData.Clear();
                tensor.Int32Data.Clear();
                tensor.Int64Data.Clear();
                tensor.RawData = ByteString.Empty;
                return $"tensor data: '{tensor.Name}' data cleared";
            case 3:
                tensor.DataLocation = OnnxProto.TensorProto.Types.DataLocation.External;
                tensor.ExternalData.Clear();
                tensor.ExternalData.Add(new OnnxProto.StringStringEntryProto { Key = "location", Value = random.Next(2) == 0 ? "fuzz_missing.bin" : "../fuzz_missing.bin" });
                if (random.Next(2) == 0) tensor.ExternalData.Add(new OnnxProto.StringStringEntryProto { Key = "offset", Value = Mutations.InterestingLong(random, 0).ToString(System.Globalization.CultureInfo.InvariantCulture) });
                return $"tensor data: '{tensor.Name}' moved to missing external data";
            case 4:
                tensor.DataLocation = (OnnxProto.TensorProto.Types.DataLocation)random.Next(2, 9);
                return $"tensor data: '{tensor.Name}' data_location = {(int)tensor.DataLocation}";
            default:
                tensor.RawData = ByteString.CopyFrom(new byte[random.Next(0, 9)]);
                return $"tensor data: '{tensor.Name}' raw_data = {tensor.RawData.Length} zero bytes";
        }
    }

    private static string OpTypeDomainOpset(OnnxProto.ModelProto model, Random random)
    {
        var choice = random.Next(3);
        if (choice == 0 && model.OpsetImport.Count > 0)
        {
            var opset = model.OpsetImport[random.Next(model.OpsetImport.Count)];
            opset.Version = random.Next(2) == 0 ? random.Next(0, 25) : Mutations.InterestingLong(random, opset.Version);
            return $"opset: '{opset.Domain}' version = {opset.Version}";
        }
        var node = Pick(random, Graphs(model).SelectMany(g => g.Node).ToList());
        if (node is null) return "op type: no node";
        if (choice == 1)
        {
            node.Domain = Domains[random.Next(Domains.Length)];
            return $"op type: node '{node.Name}' domain = '{node.Domain}'";
        }
        var old = node.OpType;
        node.OpType = OpTypes[random.Next(OpTypes.Length)];
        return $"op type: node '{node.Name}' {old} -> {node.OpType}";
    }

    /// <summary>A scalar field somewhere in the message tree: singular (index -1) or one element of a repeated field.</summary>
    private sealed record ScalarSite(IMessage Message, FieldDescriptor Field, int Index);

    private static string AnyScalarField(OnnxProto.ModelProto model, Random random)
    {
        var sites = new List<ScalarSite>();
        CollectScalars(model, sites, random);
        var site = Pick(random, sites);
        if (site is null) return "scalar: none";
        var field = site.Field;
        var old = site.Index < 0 ? field.Accessor.GetValue(site.Message) : ((IList)field.Accessor.GetValue(site.Message))[site.Index];
        object? value = field.FieldType switch
        {
            FieldType.Int64 or FieldType.SInt64 or FieldType.SFixed64 => Mutations.InterestingLong(random, Convert.ToInt64(old, System.Globalization.CultureInfo.InvariantCulture)),
            FieldType.UInt64 or FieldType.Fixed64 => unchecked((ulong)Mutations.InterestingLong(random, 0)),
            FieldType.Int32 or FieldType.SInt32 or FieldType.SFixed32 => Mutations.InterestingInt(random, Convert.ToInt32(old, System.Globalization.CultureInfo.InvariantCulture)),
            FieldType.UInt32 or FieldType.Fixed32 => unchecked((uint)Mutations.InterestingInt(random, 0)),
            FieldType.Float => Mutations.InterestingFloat(random),
            FieldType.Double => (double)Mutations.InterestingFloat(random),
            FieldType.Bool => old is bool b ? !b : true,
            FieldType.String => random.Next(2) == 0 ? "" : "fuzz",
            FieldType.Enum => random.Next(-1, 20),
            _ => null,
        };
        if (value is null) return $"scalar: {field.FullName} left alone";
        if (site.Index < 0) field.Accessor.SetValue(site.Message, value);
        else ((IList)field.Accessor.GetValue(site.Message))[site.Index] = value;
        return $"scalar: {field.FullName}{(site.Index < 0 ? "" : $"[{site.Index}]")} {old} -> {value}";
    }

    private static void CollectScalars(IMessage message, List<ScalarSite> sites, Random random)
    {
        foreach (var field in message.Descriptor.Fields.InFieldNumberOrder())
        {
            var value = field.Accessor.GetValue(message);
            if (field.FieldType == FieldType.Message)
            {
                if (field.IsMap) continue;
                if (field.IsRepeated)
                {
                    foreach (var item in (IList)value) CollectScalars((IMessage)item, sites, random);
                }
                else if (value is IMessage child)
                {
                    CollectScalars(child, sites, random);
                }
                continue;
            }
            if (field.FieldType is FieldType.Bytes or FieldType.Group) continue;
            if (!field.IsRepeated)
            {
                if (field.Accessor.HasValue(message)) sites.Add(new ScalarSite(message, field, -1));
                continue;
            }
            // Bulk tensor data (float_data of a weight) would drown every other site: one random element stands for it.
            var list = (IList)value;
            if (list.Count > 0) sites.Add(new ScalarSite(message, field, random.Next(list.Count)));
        }
    }
}
