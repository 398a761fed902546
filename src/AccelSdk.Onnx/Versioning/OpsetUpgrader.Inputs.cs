using AccelSdk.Ir;

namespace AccelSdk.Onnx.Versioning;

// Changes where an attribute became an input (or was renamed, or changed its type).
public static partial class OpsetUpgrader
{
    private static readonly string[] LegacyTypeNames =
    {
        "UNDEFINED", "FLOAT", "UINT8", "INT8", "UINT16", "INT16", "INT32", "INT64", "STRING", "BOOL", "FLOAT16", "DOUBLE",
        "UINT32", "UINT64", "COMPLEX64", "COMPLEX128",
    };

    private static void PadPaddingsRenamed(UpgradeStep step, Node node)
    {
        if (UpgradeStep.Take(node, "paddings") is { } paddings) node.Attributes.Add(NodeAttribute.Ints("pads", paddings.AsInts().ToArray()));
    }

    private static void SplitInputToAttribute(UpgradeStep step, Node node)
    {
        if (node.Inputs.Count < 2 || node.Inputs[1].Length == 0) return;
        var sizes = step.ConstantValue(node.Inputs[1]) ?? throw step.Refuse(node, "its 'split' input is not a constant, but opset 2 takes split sizes as an attribute");
        node.Attributes.RemoveAll(a => a.Name == "split");
        node.Attributes.Add(NodeAttribute.Ints("split", Int64Values(sizes)));
        node.Inputs.RemoveRange(1, node.Inputs.Count - 1);
    }

    private static void PowerBecameInt(UpgradeStep step, Node node)
    {
        if (node.Attribute("p") is not { Kind: AttributeKind.Float } p) return;
        var value = p.AsFloat();
        if (value != MathF.Round(value)) throw step.Refuse(node, $"p={value} is not an integer, but opset 2 takes an integer p");
        node.Attributes.Remove(p);
        node.Attributes.Add(NodeAttribute.Int("p", (long)value));
    }

    private static void ConcatAxisRequired(UpgradeStep step, Node node)
    {
        if (node.Attribute("axis") is null) node.Attributes.Add(NodeAttribute.Int("axis", 1));
    }

    private static void ReshapeShapeToInput(UpgradeStep step, Node node)
    {
        var shape = UpgradeStep.Take(node, "shape") ?? throw step.Refuse(node, "it has no 'shape' attribute to turn into the shape input");
        UpgradeStep.Take(node, "consumed_inputs");
        UpgradeStep.SetInput(node, 1, step.AddInt64s(node, "shape", shape.AsInts()));
    }

    private static void RemoveConsumedInputs(UpgradeStep step, Node node) => UpgradeStep.Take(node, "consumed_inputs");

    private static void CastToBecameEnum(UpgradeStep step, Node node)
    {
        if (node.Attribute("to") is not { Kind: AttributeKind.String } to) return;
        var index = Array.IndexOf(LegacyTypeNames, to.AsString().ToUpperInvariant());
        if (index <= 0) throw step.Refuse(node, $"'to' names the unknown type '{to.AsString()}'");
        node.Attributes.Remove(to);
        node.Attributes.Add(NodeAttribute.Int("to", index));
    }

    private static void UpsampleScalesToInput(UpgradeStep step, Node node)
    {
        var scales = UpgradeStep.Take(node, "scales") ?? throw step.Refuse(node, "it has no 'scales' attribute to turn into the scales input");
        UpgradeStep.SetInput(node, 1, step.AddConstant(UpgradeStep.Stem(node) + "_scales", AccelTensor.Create(scales.AsFloats().ToArray(), scales.AsFloats().Count)));
    }

    private static void SliceAttributesToInputs(UpgradeStep step, Node node)
    {
        var starts = UpgradeStep.Take(node, "starts") ?? throw step.Refuse(node, "it has no 'starts' attribute");
        var ends = UpgradeStep.Take(node, "ends") ?? throw step.Refuse(node, "it has no 'ends' attribute");
        var axes = UpgradeStep.Take(node, "axes");
        UpgradeStep.SetInput(node, 1, step.AddInt64s(node, "starts", starts.AsInts()));
        UpgradeStep.SetInput(node, 2, step.AddInt64s(node, "ends", ends.AsInts()));
        if (axes is not null) UpgradeStep.SetInput(node, 3, step.AddInt64s(node, "axes", axes.AsInts()));
    }

    private static void TopKAttributeToInput(UpgradeStep step, Node node)
    {
        var k = UpgradeStep.Take(node, "k") ?? throw step.Refuse(node, "it has no 'k' attribute");
        UpgradeStep.SetInput(node, 1, step.AddInt64s(node, "k", new[] { k.AsInt() }));
    }

    private static void ClipBoundsToInputs(UpgradeStep step, Node node)
    {
        var min = UpgradeStep.Take(node, "min");
        var max = UpgradeStep.Take(node, "max");
        var type = step.FloatTypeOf(node, node.Inputs[0]);
        if (min is not null) UpgradeStep.SetInput(node, 1, step.AddConstant(UpgradeStep.Stem(node) + "_min", FloatScalar(step, node, type, min.AsFloat())));
        if (max is not null) UpgradeStep.SetInput(node, 2, step.AddConstant(UpgradeStep.Stem(node) + "_max", FloatScalar(step, node, type, max.AsFloat())));
    }

    private static void PadAttributesToInputs(UpgradeStep step, Node node)
    {
        var pads = UpgradeStep.Take(node, "pads") ?? throw step.Refuse(node, "it has no 'pads' attribute");
        var value = UpgradeStep.Take(node, "value");
        UpgradeStep.SetInput(node, 1, step.AddInt64s(node, "pads", pads.AsInts()));
        if (value is not null && value.AsFloat() != 0f)
        {
            var type = step.FloatTypeOf(node, node.Inputs[0]);
            UpgradeStep.SetInput(node, 2, step.AddConstant(UpgradeStep.Stem(node) + "_constant_value", FloatScalar(step, node, type, value.AsFloat())));
        }
    }

    private static void DropoutRatioToInput(UpgradeStep step, Node node)
    {
        if (UpgradeStep.Take(node, "ratio") is { } ratio) UpgradeStep.SetInput(node, 1, step.AddConstant(UpgradeStep.Stem(node) + "_ratio", AccelTensor.Scalar(ratio.AsFloat())));
    }

    private static void AxesAttributeToInput(UpgradeStep step, Node node)
    {
        if (UpgradeStep.Take(node, "axes") is { } axes) UpgradeStep.SetInput(node, 1, step.AddInt64s(node, "axes", axes.AsInts()));
    }

    private static void SplitSizesToInput(UpgradeStep step, Node node)
    {
        if (UpgradeStep.Take(node, "split") is { } split) UpgradeStep.SetInput(node, 1, step.AddInt64s(node, "split", split.AsInts()));
    }

    private static void ScatterToScatterElements(UpgradeStep step, Node node) => node.OpType = "ScatterElements";

    private static void RoiAlignKeepsOutputHalfPixel(UpgradeStep step, Node node)
    {
        // Opset 16 added the mode with default half_pixel; before, RoiAlign behaved as output_half_pixel.
        if (node.Attribute("coordinate_transformation_mode") is null) node.Attributes.Add(NodeAttribute.String("coordinate_transformation_mode", "output_half_pixel"));
    }

    private static AccelTensor FloatScalar(UpgradeStep step, Node node, ElementType type, float value) => type switch
    {
        ElementType.Float32 => AccelTensor.Scalar(value),
        ElementType.Float64 => AccelTensor.Scalar((double)value),
        ElementType.Float16 => AccelTensor.Scalar((Half)value),
        _ => throw step.Refuse(node, $"its input is {type.ShortName()}, but the bound it takes as an input must be float16, float32 or float64"),
    };

    private static long[] Int64Values(AccelTensor t) => t.ElementType switch
    {
        ElementType.Int64 => t.AsSpan<long>().ToArray(),
        ElementType.Int32 => t.AsSpan<int>().ToArray().Select(v => (long)v).ToArray(),
        _ => throw new InvalidTensorException(t.Name, $"expected int64 or int32 values, got {t.ElementType.ShortName()}"),
    };
}
