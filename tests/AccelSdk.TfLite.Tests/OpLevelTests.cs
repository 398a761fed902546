using AccelSdk.Execution;
using AccelSdk.Ir;
using AccelSdk.TfLite.Import;
using AccelSdk.TfLite.Native;
using static AccelSdk.TfLite.Tests.TfLiteModelBuilder;
using Op = AccelSdk.TfLite.Native.TfLiteBuiltinOperator;

namespace AccelSdk.TfLite.Tests;

/// <summary>
/// Single-op models written in the test (<see cref="TfLiteModelBuilder"/>), run on the real TFLite runtime and,
/// imported, on ONNX Runtime: DENSIFY (against dense tensors written out by hand), DEPTH_TO_SPACE, the int8 forms of
/// CONV_2D / DEPTHWISE_CONV_2D / FULLY_CONNECTED between QUANTIZE and DEQUANTIZE, and malformed models.
/// </summary>
public sealed class OpLevelTests : IClassFixture<OrtFixture>
{
    private const byte AddOptions = 11, Conv2DOptions = 1, DepthwiseConv2DOptions = 2, FullyConnectedOptions = 8,
        DepthToSpaceOptions = 94, QuantizeOptions = 89, DequantizeOptions = 38, DensifyOptions = 99;

    private readonly OrtFixture _ort;

    public OpLevelTests(OrtFixture ort)
    {
        TestEnvironment.RequireRuntime();
        _ort = ort;
    }

    private (AccelTensor[] Lite, IReadOnlyList<AccelTensor> Ort, Model Imported) RunBoth(byte[] bytes, string label, params AccelTensor[] inputs)
    {
        using var liteModel = LiteModel.FromBytes(bytes, label);
        using var interpreter = new LiteInterpreter(liteModel);
        var lite = interpreter.Run(inputs);
        var model = TfLiteImporter.Import(bytes, label);
        Assert.DoesNotContain(model.Graph.Nodes, n => n.Domain == TfLiteImporter.CustomDomain);
        using var session = new AccelSession(GraphPartitioner.WholeModel(model, _ort.Backend, _ort.Backend.CpuDevice));
        return (lite, session.Run(inputs), model);
    }

    public static TheoryData<string> SparseCases => new() { "csr-rows-uint8-indices", "csr-columns-first", "block-2x2", "fp16-csr-then-dequantize" };

    /// <summary>
    /// A sparse constant goes through DENSIFY into ADD with a zero input, so the model's output is the densified tensor;
    /// TFLite and the import must both give exactly the dense tensor written out below.
    /// </summary>
    [Theory]
    [MemberData(nameof(SparseCases))]
    public void Densify_of_a_hand_built_sparse_tensor_gives_the_dense_tensor_on_tflite_and_on_ort(string layout)
    {
        float[] expected;
        int[] shape;
        float[] values;
        Sparsity sparsity;
        switch (layout)
        {
            case "csr-rows-uint8-indices":
            case "fp16-csr-then-dequantize":
                shape = new[] { 3, 4 };
                expected = new float[] { 0, 1, 0, 2, /**/ 0, 0, 0, 0, /**/ 3, 0, 0, 0 };
                values = new float[] { 1, 2, 3 };
                sparsity = new Sparsity(new[] { 0, 1 }, Array.Empty<int>(), new[]
                {
                    new Level(3), new Level(0, Segments: new[] { 0, 2, 2, 3 }, Indices: new[] { 1, 3, 0 }, IndicesAsUInt8: true),
                });
                break;
            case "csr-columns-first":
                // Same dense tensor, traversed column by column: the sparse level lists rows.
                shape = new[] { 3, 4 };
                expected = new float[] { 0, 1, 0, 2, /**/ 0, 0, 0, 0, /**/ 3, 0, 0, 0 };
                values = new float[] { 3, 1, 2 };
                sparsity = new Sparsity(new[] { 1, 0 }, Array.Empty<int>(), new[]
                {
                    new Level(4), new Level(0, Segments: new[] { 0, 1, 2, 2, 3 }, Indices: new[] { 2, 0, 0 }),
                });
                break;
            case "block-2x2":
                // 4x4 in 2x2 blocks: block row 0 keeps block column 1, block row 1 keeps block column 0.
                shape = new[] { 4, 4 };
                expected = new float[] { 0, 0, 1, 2, /**/ 0, 0, 3, 4, /**/ 5, 6, 0, 0, /**/ 7, 8, 0, 0 };
                values = new float[] { 1, 2, 3, 4, 5, 6, 7, 8 };
                sparsity = new Sparsity(new[] { 0, 1, 2, 3 }, new[] { 0, 1 }, new[]
                {
                    new Level(2), new Level(0, Segments: new[] { 0, 1, 2 }, Indices: new[] { 1, 0 }), new Level(2), new Level(2),
                });
                break;
            default: throw new ArgumentOutOfRangeException(nameof(layout));
        }
        var fp16 = layout.StartsWith("fp16", StringComparison.Ordinal);
        var b = new TfLiteModelBuilder();
        var x = b.Activation("x", shape);
        var sparse = fp16
            ? b.Constant("w_sparse", shape, TensorKind.Float16, values.Select(v => (Half)v).ToArray(), sparsity: sparsity)
            : b.Constant("w_sparse", shape, TensorKind.Float32, values, sparsity: sparsity);
        var dense = b.Activation("w_dense", shape, fp16 ? TensorKind.Float16 : TensorKind.Float32);
        b.Op(Op.kTfLiteBuiltinDensify, new[] { sparse }, new[] { dense }, DensifyOptions);
        if (fp16)
        {
            var f32 = b.Activation("w_f32", shape);
            b.Op(Op.kTfLiteBuiltinDequantize, new[] { dense }, new[] { f32 }, DequantizeOptions);
            dense = f32;
        }
        var y = b.Activation("y", shape);
        b.Op(Op.kTfLiteBuiltinAdd, new[] { x, dense }, new[] { y }, AddOptions);
        b.Inputs(x);
        b.Outputs(y);
        var zeros = AccelTensor.Zeros(ElementType.Float32, shape.Select(d => (long)d).ToArray());
        var (lite, ort, _) = RunBoth(b.Build(), $"densify-{layout}.tflite", zeros);
        Assert.Equal(expected, lite[0].ToArray<float>());
        Assert.Equal(expected, ort[0].ToArray<float>());
    }

    [Fact]
    public void Depth_to_space_moves_the_same_elements_on_tflite_and_on_ort()
    {
        var b = new TfLiteModelBuilder();
        var x = b.Activation("x", new[] { 1, 2, 3, 8 });
        var y = b.Activation("y", new[] { 1, 4, 6, 2 });
        b.Op(Op.kTfLiteBuiltinDepthToSpace, new[] { x }, new[] { y }, DepthToSpaceOptions, new OptionField(0, 2));
        b.Inputs(x);
        b.Outputs(y);
        var input = AccelTensor.Create(Enumerable.Range(0, 48).Select(i => (float)i).ToArray(), 1, 2, 3, 8);
        var (lite, ort, _) = RunBoth(b.Build(), "depth_to_space.tflite", input);
        // NHWC depth-to-space: out[0, 2h+i, 2w+j, c] = in[0, h, w, (2i+j)*2 + c]; the input holds its own flat index.
        var lv = lite[0].ToArray<float>();
        for (var oh = 0; oh < 4; oh++)
        {
            for (var ow = 0; ow < 6; ow++)
            {
                for (var c = 0; c < 2; c++)
                {
                    var source = ((oh / 2) * 3 + ow / 2) * 8 + ((oh % 2) * 2 + ow % 2) * 2 + c;
                    Assert.Equal(source, lv[(oh * 6 + ow) * 2 + c]);
                }
            }
        }
        Assert.Equal(lv, ort[0].ToArray<float>());
    }

    public static TheoryData<string> Int8Ops => new() { "conv_2d", "depthwise_conv_2d", "fully_connected" };

    /// <summary>
    /// float input -> QUANTIZE (int8) -> the op with int8 activations, per-channel int8 weights (per-tensor for FC) and
    /// int32 bias -> DEQUANTIZE. TFLite computes in integers with fixed-point requantization, the import in float
    /// between DequantizeLinear/QuantizeLinear: outputs agree within one output quantization step.
    /// </summary>
    [Theory]
    [MemberData(nameof(Int8Ops))]
    public void Int8_op_between_quantize_and_dequantize_is_within_one_step_of_tflite(string op)
    {
        var random = new Random(op.GetHashCode(StringComparison.Ordinal) & 0xffff);
        const float inScale = 1f / 255, outScale = 8f / 127;
        const long inZero = -128, outZero = 3;
        var b = new TfLiteModelBuilder();
        int[] inShape, outShape;
        int channels;
        switch (op)
        {
            // VALID, 3x3, stride 2 on 6x6: (6 + 2 - 3) / 2 = 2, the size TFLite computes (the validator checks it).
            case "conv_2d": inShape = new[] { 1, 6, 6, 4 }; outShape = new[] { 1, 2, 2, 5 }; channels = 5; break;
            case "depthwise_conv_2d": inShape = new[] { 1, 6, 6, 4 }; outShape = new[] { 1, 6, 6, 8 }; channels = 8; break;
            default: inShape = new[] { 1, 16 }; outShape = new[] { 1, 8 }; channels = 8; break;
        }
        var x = b.Activation("x", inShape);
        var q = b.Activation("x_int8", inShape, TensorKind.Int8, inScale, inZero);
        b.Op(Op.kTfLiteBuiltinQuantize, new[] { x }, new[] { q }, QuantizeOptions);
        var weightScales = Enumerable.Range(0, channels).Select(c => 0.004f * (1 + c % 3)).ToArray();
        sbyte[] RandomWeights(int n) => Enumerable.Range(0, n).Select(_ => (sbyte)random.Next(-127, 128)).ToArray();
        int[] weightShape;
        float[] scales;
        int quantizedDimension;
        switch (op)
        {
            case "conv_2d": weightShape = new[] { 5, 3, 3, 4 }; scales = weightScales; quantizedDimension = 0; break;
            case "depthwise_conv_2d": weightShape = new[] { 1, 3, 3, 8 }; scales = weightScales; quantizedDimension = 3; break;
            default: weightShape = new[] { 8, 16 }; scales = new[] { 0.004f }; quantizedDimension = 0; break;
        }
        var weights = b.Constant("w", weightShape, TensorKind.Int8, RandomWeights(weightShape.Aggregate(1, (a, d) => a * d)), scales, quantizedDimension: quantizedDimension);
        var biasScales = Enumerable.Range(0, scales.Length).Select(c => inScale * scales[c]).ToArray();
        var bias = b.Constant("b", new[] { channels }, TensorKind.Int32, Enumerable.Range(0, channels).Select(_ => random.Next(-2000, 2000)).ToArray(), biasScales);
        var yq = b.Activation("y_int8", outShape, TensorKind.Int8, outScale, outZero);
        switch (op)
        {
            case "conv_2d":
                // VALID padding, stride 2.
                b.Op(Op.kTfLiteBuiltinConv2d, new[] { q, weights, bias }, new[] { yq }, Conv2DOptions,
                    new OptionField(0, 1, IsByte: true), new OptionField(1, 2), new OptionField(2, 2), new OptionField(4, 1), new OptionField(5, 1));
                break;
            case "depthwise_conv_2d":
                // SAME padding, stride 1, depth multiplier 2.
                b.Op(Op.kTfLiteBuiltinDepthwiseConv2d, new[] { q, weights, bias }, new[] { yq }, DepthwiseConv2DOptions,
                    new OptionField(1, 1), new OptionField(2, 1), new OptionField(3, 2), new OptionField(5, 1), new OptionField(6, 1));
                break;
            default:
                b.Op(Op.kTfLiteBuiltinFullyConnected, new[] { q, weights, bias }, new[] { yq }, FullyConnectedOptions);
                break;
        }
        var y = b.Activation("y", outShape);
        b.Op(Op.kTfLiteBuiltinDequantize, new[] { yq }, new[] { y }, DequantizeOptions);
        b.Inputs(x);
        b.Outputs(y);
        var input = AccelTensor.Create(Enumerable.Range(0, inShape.Aggregate(1, (a, d) => a * d)).Select(_ => (float)random.NextDouble()).ToArray(), inShape.Select(d => (long)d).ToArray());
        var (lite, ort, model) = RunBoth(b.Build(), $"{op}_int8.tflite", input);
        Assert.Contains(model.Graph.Nodes, n => n.OpType == "QuantizeLinear");
        Assert.Contains(model.Graph.Nodes, n => n.OpType == "DequantizeLinear");
        var expected = lite[0].ToArray<float>();
        // The data must exercise the op: most outputs inside the int8 range, not clamped at its ends.
        var inside = expected.Count(v => v > (-128 - outZero) * outScale + 1e-6 && v < (127 - outZero) * outScale - 1e-6);
        Assert.True(inside > expected.Length * 3 / 4, $"{op}: only {inside} of {expected.Length} outputs are unclamped");
        TestData.AssertClose(lite[0], ort[0], 0, outScale * 1.0001, $"{op} int8");
    }

    [Fact]
    public void Constant_whose_buffer_is_too_short_is_a_load_error_naming_the_tensor()
    {
        var b = new TfLiteModelBuilder();
        var x = b.Activation("x", new[] { 4 });
        var c = b.Constant("short_constant", new[] { 4 }, TensorKind.Float32, new float[] { 1, 2, 3 });
        var y = b.Activation("y", new[] { 4 });
        b.Op(Op.kTfLiteBuiltinAdd, new[] { x, c }, new[] { y }, AddOptions);
        b.Inputs(x);
        b.Outputs(y);
        var e = Assert.Throws<ModelLoadException>(() => TfLiteImporter.Import(b.Build(), "short.tflite"));
        Assert.Contains("short_constant", e.Message);
    }

    [Fact]
    public void Sparse_indices_outside_the_dense_shape_are_a_load_error_naming_the_tensor()
    {
        var b = new TfLiteModelBuilder();
        var x = b.Activation("x", new[] { 2, 2 });
        var sparsity = new Sparsity(new[] { 0, 1 }, Array.Empty<int>(), new[] { new Level(2), new Level(0, Segments: new[] { 0, 1, 2 }, Indices: new[] { 0, 7 }) });
        var w = b.Constant("bad_sparse", new[] { 2, 2 }, TensorKind.Float32, new float[] { 1, 2 }, sparsity: sparsity);
        var d = b.Activation("dense", new[] { 2, 2 });
        b.Op(Op.kTfLiteBuiltinDensify, new[] { w }, new[] { d }, DensifyOptions);
        var y = b.Activation("y", new[] { 2, 2 });
        b.Op(Op.kTfLiteBuiltinAdd, new[] { x, d }, new[] { y }, AddOptions);
        b.Inputs(x);
        b.Outputs(y);
        var e = Assert.Throws<ModelLoadException>(() => TfLiteImporter.Import(b.Build(), "bad_sparse.tflite"));
        Assert.Contains("bad_sparse", e.Message);
    }

    /// <summary>A builtin code this TFLite does not know: TFLite refuses it with its own text, import keeps it named and ORT refuses it.</summary>
    [Fact]
    public void Unknown_builtin_op_is_refused_by_tflite_and_by_ort_naming_it()
    {
        var b = new TfLiteModelBuilder();
        var x = b.Activation("x", new[] { 4 });
        var y = b.Activation("y", new[] { 4 });
        b.Op((Op)250, new[] { x }, new[] { y });
        b.Inputs(x);
        b.Outputs(y);
        var bytes = b.Build();
        using var liteModel = LiteModel.FromBytes(bytes, "unknown_op.tflite");
        var lite = Assert.ThrowsAny<AccelSdkException>(() => new LiteInterpreter(liteModel));
        Assert.Contains("unknown_op.tflite", lite.Message);
        var model = TfLiteImporter.Import(bytes, "unknown_op.tflite");
        var node = Assert.Single(model.Graph.Nodes);
        Assert.Equal(TfLiteImporter.CustomDomain, node.Domain);
        var e = Assert.Throws<UnsupportedOperatorException>(() => GraphPartitioner.WholeModel(model, _ort.Backend, _ort.Backend.CpuDevice));
        Assert.Contains(e.Unsupported, u => u.Op == node.OpType);
    }
}
