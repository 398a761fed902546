using AccelSdk.Ir;

namespace AccelSdk.Onnx.Versioning;

public static partial class OpsetUpgrader
{
    private delegate void Adapter(UpgradeStep step, Node node);

    /// <summary>
    /// One entry per (operator, opset at which it changed) that an upgrade can cross, following ONNX's Changelog.md.
    /// A change missing here (Tile 6, Scan 9, ...) refuses the upgrade, naming the node.
    /// </summary>
    private static readonly Dictionary<(string Op, long Version), Adapter> Adapters = BuildAdapters();

    /// <summary>The (op, version) changes an upgrade can cross; for tests and diagnostics.</summary>
    internal static IReadOnlyCollection<(string Op, long Version)> AdaptedChanges => Adapters.Keys;

    private static Dictionary<(string, long), Adapter> BuildAdapters()
    {
        var table = new Dictionary<(string, long), Adapter>();
        void Add(long version, Adapter adapter, params string[] ops)
        {
            foreach (var op in ops) table.Add((op, version), adapter);
        }
        Adapter keep = (_, _) => { };

        Add(2, PadPaddingsRenamed, "Pad");
        Add(2, SplitInputToAttribute, "Split");
        Add(2, PowerBecameInt, "GlobalLpPool", "LpPool");
        Add(3, keep, "GRU");
        Add(4, ConcatAxisRequired, "Concat");
        Add(5, ReshapeShapeToInput, "Reshape");
        Add(6, RemoveConsumedInputs, "Abs", "Add", "BatchNormalization", "Ceil", "Clip", "Div", "Dropout", "Elu", "Exp",
            "Floor", "Gemm", "HardSigmoid", "InstanceNormalization", "LeakyRelu", "Log", "Max", "Mean", "Min", "Mul", "Neg",
            "PRelu", "Reciprocal", "Relu", "Selu", "Sigmoid", "Sqrt", "Sub", "Sum", "Tanh");
        Add(6, CastToBecameEnum, "Cast");

        Add(7, LegacyBroadcastToNumpy, "Add", "Sub", "Mul", "Div", "Pow", "And", "Or", "Xor", "Equal", "Greater", "Less");
        Add(7, GemmBroadcastRemoved, "Gemm");
        Add(7, IsTestRemoved, "BatchNormalization", "Dropout");
        Add(7, keep, "AveragePool");
        Add(7, PReluSlopePerChannel, "PRelu");
        Add(7, UpsampleScalesAttribute, "Upsample");
        Add(7, OutputSequenceRemoved, "GRU", "LSTM", "RNN");

        Add(8, keep, "Max", "Min", "Mean", "Sum", "MaxPool");

        Add(9, SpatialRemoved, "BatchNormalization");
        Add(9, keep, "Cast", "Constant", "Flatten", "Gemm", "Greater", "Less", "MatMul", "PRelu");
        Add(9, UpsampleScalesToInput, "Upsample");

        Add(10, keep, "AveragePool", "MaxPool", "Dropout");
        Add(10, SliceAttributesToInputs, "Slice");
        Add(10, TopKAttributeToInput, "TopK");
        Add(10, UpsampleToResize, "Upsample");

        Add(11, keep, "ArgMax", "ArgMin", "AveragePool", "Compress", "Concat", "Constant", "Conv", "ConvTranspose",
            "DepthToSpace", "Equal", "Flatten", "Gather", "Gemm", "Hardmax", "If", "LogSoftmax", "Loop", "LpPool", "MaxPool",
            "MaxUnpool", "NonMaxSuppression", "OneHot", "ReduceL1", "ReduceL2", "ReduceLogSum", "ReduceLogSumExp", "ReduceMax",
            "ReduceMean", "ReduceMin", "ReduceProd", "ReduceSum", "ReduceSumSquare", "Scan", "Slice", "Softmax", "Split",
            "Squeeze", "TopK", "Unsqueeze");
        Add(11, ClipBoundsToInputs, "Clip");
        Add(11, PadAttributesToInputs, "Pad");
        Add(11, ResizeRoiAndModes, "Resize");
        Add(11, ScatterToScatterElements, "Scatter");

        Add(12, keep, "ArgMax", "ArgMin", "Clip", "Constant", "GatherND", "Max", "MaxPool", "Min", "Pow", "ReduceMax", "ReduceMin");
        Add(12, DropoutRatioToInput, "Dropout");

        Add(13, keep, "Abs", "Add", "ArgMax", "ArgMin", "Cast", "Ceil", "Clip", "Concat", "Constant", "DepthToSpace",
            "DequantizeLinear", "Div", "Dropout", "Equal", "Erf", "Exp", "Expand", "Flatten", "Floor", "Gather",
            "GatherElements", "GatherND", "Gemm", "Greater", "Identity", "If", "IsNaN", "LRN", "Less", "Log", "Loop", "MatMul",
            "Max", "Mean", "MeanVarianceNormalization", "Min", "Mod", "Mul", "Neg", "NegativeLogLikelihoodLoss", "NonZero",
            "Pad", "Pow", "QuantizeLinear", "Reciprocal", "ReduceL1", "ReduceL2", "ReduceLogSum", "ReduceLogSumExp",
            "ReduceMax", "ReduceMean", "ReduceMin", "ReduceProd", "ReduceSumSquare", "Relu", "Reshape", "Resize",
            "ScatterElements", "ScatterND", "Shape", "Sigmoid", "Sign", "Size", "Slice", "SoftmaxCrossEntropyLoss",
            "SpaceToDepth", "Sqrt", "Sub", "Sum", "Tanh", "Tile", "Transpose");
        Add(13, AxesAttributeToInput, "ReduceSum", "Squeeze", "Unsqueeze");
        Add(13, SplitSizesToInput, "Split");
        Add(13, SoftmaxSingleAxis, "Softmax", "LogSoftmax", "Hardmax");

        Add(14, keep, "Add", "CumSum", "Div", "GRU", "Identity", "LSTM", "Mul", "RNN", "Relu", "Reshape", "Sub");
        Add(14, BatchNormalizationInferenceOnly, "BatchNormalization");
        Add(15, keep, "BatchNormalization", "Pow", "Shape");
        Add(16, keep, "GreaterOrEqual", "Identity", "If", "LeakyRelu", "LessOrEqual", "Loop", "PRelu", "Scan",
            "ScatterElements", "ScatterND", "Where");
        Add(16, RoiAlignKeepsOutputHalfPixel, "RoiAlign");
        return table;
    }
}
