namespace AccelSdk.Optimize.Conversion;

/// <summary>
/// Operator inputs whose element type the ONNX schema fixes independently of the data type (shapes, scales, ROIs,
/// indices, axes, pads, counts). A precision rewrite must leave them as they are: converting Resize's float32
/// <c>scales</c> to float16 makes a model ONNX Runtime refuses. Inputs that follow the data type (Clip min/max, Pad
/// constant_value, Range start/limit/delta) are not listed: they must change with it.
/// </summary>
/// <remarks>
/// The same idea as onnxconverter-common's float16 converter, which keeps Resize's scales in float32 and inserts a
/// Cast to float32 in front of such inputs when they are computed in the graph.
/// </remarks>
public static class TypedInputs
{
    private static readonly Dictionary<string, int[]> KeptSlots = new(StringComparer.Ordinal)
    {
        ["Resize"] = new[] { 1, 2, 3 },             // roi (own float type T2), scales (float32 only), sizes (int64)
        ["Upsample"] = new[] { 1 },                 // scales: float32 only
        ["Reshape"] = new[] { 1 },                  // shape
        ["Expand"] = new[] { 1 },                   // shape
        ["Tile"] = new[] { 1 },                     // repeats
        ["ConstantOfShape"] = new[] { 0 },          // shape
        ["Slice"] = new[] { 1, 2, 3, 4 },           // starts, ends, axes, steps
        ["Pad"] = new[] { 1, 3 },                   // pads, axes
        ["TopK"] = new[] { 1 },                     // k
        ["Squeeze"] = new[] { 1 },                  // axes
        ["Unsqueeze"] = new[] { 1 },                // axes
        ["Split"] = new[] { 1 },                    // split
        ["ReduceSum"] = new[] { 1 },                // axes (opset 13+)
        ["ReduceMean"] = new[] { 1 },               // axes (opset 18+, the same for the other reductions)
        ["ReduceMax"] = new[] { 1 },
        ["ReduceMin"] = new[] { 1 },
        ["ReduceProd"] = new[] { 1 },
        ["ReduceL1"] = new[] { 1 },
        ["ReduceL2"] = new[] { 1 },
        ["ReduceLogSumExp"] = new[] { 1 },
        ["ReduceSumSquare"] = new[] { 1 },
        ["Gather"] = new[] { 1 },                   // indices
        ["GatherElements"] = new[] { 1 },
        ["GatherND"] = new[] { 1 },
        ["ScatterElements"] = new[] { 1 },
        ["ScatterND"] = new[] { 1 },
        ["OneHot"] = new[] { 0, 1 },                // indices, depth (values follows the output type)
        ["CumSum"] = new[] { 1 },                   // axis
        ["Trilu"] = new[] { 1 },                    // k
        ["Dropout"] = new[] { 1, 2 },               // ratio (own float type T1), training_mode
        ["NonMaxSuppression"] = new[] { 2, 3, 4 },  // max_output_boxes_per_class, iou_threshold, score_threshold (float32 only)
        ["RoiAlign"] = new[] { 2 },                 // batch_indices
        ["Compress"] = new[] { 1 },                 // condition
        ["Where"] = new[] { 0 },                    // condition
    };

    /// <summary>True when input <paramref name="slot"/> of a default-domain <paramref name="opType"/> node must keep its element type.</summary>
    public static bool MustKeepType(string opType, int slot) => KeptSlots.TryGetValue(opType, out var slots) && slots.Contains(slot);
}
