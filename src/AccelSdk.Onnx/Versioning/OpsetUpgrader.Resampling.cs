using AccelSdk.Ir;

namespace AccelSdk.Onnx.Versioning;

// Upsample's three signatures and its replacement by Resize, whose coordinate rules changed at opset 11.
public static partial class OpsetUpgrader
{
    /// <summary>Opset 7 replaced height_scale/width_scale (4-D input) by one scale per dimension, and 'bilinear' by 'linear'.</summary>
    private static void UpsampleScalesAttribute(UpgradeStep step, Node node)
    {
        var height = UpgradeStep.Take(node, "height_scale");
        var width = UpgradeStep.Take(node, "width_scale");
        if (height is null || width is null) throw step.Refuse(node, "it lacks height_scale or width_scale");
        node.Attributes.Add(NodeAttribute.Floats("scales", 1f, 1f, height.AsFloat(), width.AsFloat()));
        if (node.Attribute("mode") is { } mode && mode.AsString() == "bilinear")
        {
            node.Attributes.Remove(mode);
            node.Attributes.Add(NodeAttribute.String("mode", "linear"));
        }
    }

    /// <summary>Upsample was deprecated at opset 10; Resize-10 takes the same inputs and mode and computes the same.</summary>
    private static void UpsampleToResize(UpgradeStep step, Node node)
    {
        node.OpType = "Resize";
        step.State.FormerUpsamples.Add(node);
    }

    /// <summary>
    /// Resize-10 mapped output to input coordinates as x / scale (asymmetric) and took the nearest pixel by truncation
    /// when enlarging (rounding up when shrinking); Resize-11 defaults to half_pixel and round_prefer_floor, and takes
    /// an roi input. The old rules are written out as attributes; nearest needs constant scales to pick the rounding.
    /// </summary>
    private static void ResizeRoiAndModes(UpgradeStep step, Node node)
    {
        var mode = node.GetString("mode", "nearest");
        if (mode == "nearest")
        {
            var scales = step.ConstantValue(node.Inputs.Count > 1 ? node.Inputs[1] : "");
            var formerUpsample = step.State.FormerUpsamples.Contains(node);
            if (scales is not { ElementType: ElementType.Float32 } && !formerUpsample)
            {
                throw step.Refuse(node, "nearest mode with scales that are not a float32 constant: the rounding of opset 10 depends on whether each scale enlarges or shrinks");
            }
            var values = scales is { ElementType: ElementType.Float32 } ? scales.AsSpan<float>().ToArray() : Array.Empty<float>();
            var enlarging = formerUpsample || values.All(s => s >= 1f);
            var shrinking = !formerUpsample && values.All(s => s <= 1f);
            if (!enlarging && !shrinking) throw step.Refuse(node, "nearest mode enlarges some dimensions and shrinks others, which Resize-11 cannot round the same way");
            node.Attributes.Add(NodeAttribute.String("nearest_mode", enlarging ? "floor" : "ceil"));
        }
        node.Attributes.Add(NodeAttribute.String("coordinate_transformation_mode", "asymmetric"));
        var roi = step.AddConstant(UpgradeStep.Stem(node) + "_roi", AccelTensor.Zeros(ElementType.Float32, new long[] { 0 }));
        node.Inputs.Insert(1, roi);
    }
}
