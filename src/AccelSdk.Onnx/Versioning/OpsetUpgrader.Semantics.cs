using AccelSdk.Ir;

namespace AccelSdk.Onnx.Versioning;

// Changes of behaviour: legacy broadcasting, training-mode flags, PRelu's slope, Softmax's axis rule.
public static partial class OpsetUpgrader
{
    /// <summary>
    /// Before opset 7, broadcasting had to be asked for (broadcast=1) and aligned B with A at 'axis'; opset 7 aligns
    /// trailing dimensions (numpy). B gets trailing 1-dimensions so that both rules pick the same elements.
    /// </summary>
    private static void LegacyBroadcastToNumpy(UpgradeStep step, Node node)
    {
        var broadcast = UpgradeStep.Take(node, "broadcast")?.AsInt() ?? 0;
        var axis = UpgradeStep.Take(node, "axis");
        if (broadcast == 0 || axis is null) return; // equal shapes, or suffix-aligned: the same under numpy rules
        var rankA = step.RankOf(node.Inputs[0]);
        var rankB = step.RankOf(node.Inputs[1]);
        if (rankA is null || rankB is null) throw step.Refuse(node, "broadcast=1 with 'axis' needs the ranks of both inputs, which are not known");
        var start = axis.AsInt() < 0 ? axis.AsInt() + rankA.Value : axis.AsInt();
        var trailing = rankA.Value - (int)start - rankB.Value;
        if (start < 0 || trailing < 0) throw step.Refuse(node, $"axis={axis.AsInt()} does not fit inputs of rank {rankA} and {rankB}");
        if (trailing == 0) return;
        node.Inputs[1] = WithTrailingOnes(step, node, node.Inputs[1], rankB.Value, trailing);
    }

    /// <summary>Before opset 7, a one-dimensional slope of size C applied per channel (axis 1); numpy rules align it with the last axis.</summary>
    private static void PReluSlopePerChannel(UpgradeStep step, Node node)
    {
        var slope = step.TypeOf(node.Inputs[1])?.Shape;
        if (slope is { Rank: 0 } || slope is { Rank: 1 } && slope[0].Value == 1) return;
        var rankX = step.RankOf(node.Inputs[0]);
        if (slope is null || rankX is null) throw step.Refuse(node, "the ranks of its input and slope are not known, so the slope cannot be aligned with the channel axis");
        if (slope.Rank != 1 || rankX.Value <= 2) return;
        node.Inputs[1] = WithTrailingOnes(step, node, node.Inputs[1], 1, rankX.Value - 2);
    }

    private static string WithTrailingOnes(UpgradeStep step, Node node, string value, int rank, int trailing)
    {
        if (step.Graph.FindInitializer(value) is { } constant)
        {
            var shape = constant.ShapeArray.Concat(Enumerable.Repeat(1L, trailing)).ToArray();
            return step.AddConstant(value + "_aligned", constant.Reshape(shape));
        }
        var aligned = step.FreshName(value + "_aligned");
        var axes = Enumerable.Range(rank, trailing).Select(i => (long)i).ToArray();
        // Opset 7-12 Unsqueeze takes its axes as an attribute; the step to 13 moves them to an input.
        step.InsertBefore(node, "Unsqueeze", new[] { value }, new[] { aligned }, NodeAttribute.Ints("axes", axes));
        return aligned;
    }

    private static void GemmBroadcastRemoved(UpgradeStep step, Node node) => UpgradeStep.Take(node, "broadcast");

    private static void IsTestRemoved(UpgradeStep step, Node node)
    {
        var isTest = UpgradeStep.Take(node, "is_test")?.AsInt() ?? 0;
        if (isTest == 0) throw step.Refuse(node, "is_test=0 selects training behaviour, which opset 7 no longer expresses with this operator");
    }

    private static void SpatialRemoved(UpgradeStep step, Node node)
    {
        var spatial = UpgradeStep.Take(node, "spatial")?.AsInt() ?? 1;
        if (spatial != 1) throw step.Refuse(node, "spatial=0 (statistics per element) was removed at opset 9");
    }

    private static void OutputSequenceRemoved(UpgradeStep step, Node node) => UpgradeStep.Take(node, "output_sequence");

    private static void BatchNormalizationInferenceOnly(UpgradeStep step, Node node)
    {
        if (node.Outputs.Skip(1).Any(o => o.Length > 0)) throw step.Refuse(node, "it produces running statistics, which opset 14 only computes in training mode");
    }

    /// <summary>
    /// Up to opset 12, Softmax, LogSoftmax and Hardmax flattened the input to 2-D at 'axis' (default 1); from 13 they
    /// work along one axis (default -1). Same result when the axis is the last one; otherwise the old behaviour is
    /// spelled out: Flatten at the axis, the op along the last axis, Reshape back to the input's shape.
    /// </summary>
    private static void SoftmaxSingleAxis(UpgradeStep step, Node node)
    {
        var axis = UpgradeStep.Take(node, "axis")?.AsInt() ?? 1;
        var rank = step.RankOf(node.Inputs[0]);
        if (axis == -1 || rank is { } r && axis == r - 1)
        {
            node.Attributes.Add(NodeAttribute.Int("axis", -1));
            return;
        }
        var input = node.Inputs[0];
        var shape = step.FreshName(input + "_shape");
        var flat = step.FreshName(input + "_flat");
        step.InsertBefore(node, "Shape", new[] { input }, new[] { shape });
        step.InsertBefore(node, "Flatten", new[] { input }, new[] { flat }, NodeAttribute.Int("axis", axis));
        var output = node.Outputs[0];
        var flatOutput = step.FreshName(output + "_flat");
        node.Inputs[0] = flat;
        node.Outputs[0] = flatOutput;
        node.Attributes.Add(NodeAttribute.Int("axis", -1));
        var reshape = step.InsertBefore(node, "Reshape", new[] { flatOutput, shape }, new[] { output });
        step.Graph.Nodes.Remove(reshape);
        step.Graph.Nodes.Insert(step.Graph.Nodes.IndexOf(node) + 1, reshape);
    }
}
