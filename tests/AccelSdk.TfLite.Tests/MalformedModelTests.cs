using AccelSdk.Execution;
using AccelSdk.Ir;
using AccelSdk.TfLite.Import;
using AccelSdk.TfLite.Native;

namespace AccelSdk.TfLite.Tests;

/// <summary>
/// Regression files for issue 15's signatures, made in the test by rewriting one field of a real model: each gave an
/// untyped exception from the importer (IndexOutOfRange, Argument, Overflow) or crashed TFLite when the file reached its
/// C API. Each must now be a <see cref="ModelLoadException"/> that names the file, the table, the index and the field,
/// both from the importer and from <see cref="LiteModel"/> before TFLite sees the bytes.
/// </summary>
public sealed class MalformedModelTests
{
    private const string Add = "add.bin"; // op 0: ADD(t1, t1) -> t0; op 1: ADD(t0, t1) -> t2; input t1, output t2
    private const string Face = "face_detection_short_range.tflite"; // op 2: CONV_2D(t0, t224, t193); t1: a constant

    public static TheoryData<string, string, string[]> Cases() => new()
    {
        // Native crash: an operator's input index set to -1 (TFLite dereferences the missing tensor).
        { "op-input-minus-one", Add, new[] { "subgraph 0 operator 1 (Add)", "inputs[0] refers to tensor -1", "cannot be absent" } },
        // Native crash: an operator output index moved to another tensor (a subgraph input, another op's output).
        { "op-output-onto-subgraph-input", Add, new[] { "subgraph 0 operator 0 (Add)", "outputs[0] writes tensor 1", "subgraph input" } },
        { "op-output-onto-other-op-output", Add, new[] { "subgraph 0 operator 1 (Add)", "outputs[0] writes tensor 0", "operator 0 already writes" } },
        // IndexOutOfRange in Binary/Raw/BufferBytes: input, opcode and buffer indices past their tables.
        { "op-input-out-of-range", Add, new[] { "subgraph 0 operator 0 (Add)", "inputs[1] refers to tensor 1000", "has 3" } },
        { "opcode-index-out-of-range", Face, new[] { "subgraph 0 operator 3", "opcode_index = 9999" } },
        { "tensor-buffer-out-of-range", Face, new[] { "subgraph 0 tensor 1 (", "field buffer refers to buffer 9999" } },
        // IndexOutOfRange in Binary: an ADD left with one input.
        { "add-with-one-input", Add, new[] { "subgraph 0 operator 0 (Add)", "inputs lists 1 tensor(s)", "needs at least 2" } },
        // IndexOutOfRange in SignatureOf/DeclaredType: a subgraph output past the tensors.
        { "subgraph-output-out-of-range", Add, new[] { "subgraph 0 outputs[0] refers to tensor 3" } },
        // ArgumentException from AccelTensor.CountElements: a negative dimension.
        { "negative-dimension", Add, new[] { "subgraph 0 tensor 1", "shape has dimension 1 = -1" } },
        // OverflowException: dimensions whose product overflows.
        { "huge-dimensions", Add, new[] { "subgraph 0 tensor 0", "more than 2^63 elements" } },
        // A vector length beyond the file.
        { "vector-length-past-file", Add, new[] { "subgraph 0 operator 0", "corrupt or truncated flatbuffer" } },
        // Native crash (division by zero in TFLite's output size): a convolution stride of 0.
        { "conv-stride-zero", Face, new[] { "subgraph 0 operator 2 (Conv2d)", "builtin_options.stride_w = 0" } },
        // Native crash (SIGSEGV in RESIZE_BILINEAR further on, found by the fuzz harness): a depthwise stride_w of 255
        // in a static model whose declared shapes then no longer follow from the options.
        { "depthwise-stride-stale-shape", "selfie_segmentation.tflite", new[] { "subgraph 0 operator 31 (DepthwiseConv2d)", "is declared 32x32, but the options make 32x1 of the input's 64x64" } },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Importer_RefusesWithTypedErrorNamingField(string name, string model, string[] expected)
    {
        var bytes = Mutate(name, model);
        var error = Assert.Throws<ModelLoadException>(() => TfLiteImporter.Import(bytes, $"{name}.tflite"));
        Assert.Equal($"{name}.tflite", error.Path);
        foreach (var fragment in expected) Assert.Contains(fragment, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void LiteModel_RefusesBeforeTfLiteSeesTheFile(string name, string model, string[] expected)
    {
        TestEnvironment.RequireRuntime();
        var bytes = Mutate(name, model);
        var error = Assert.Throws<ModelLoadException>(() => LiteModel.FromBytes(bytes, $"{name}.tflite"));
        foreach (var fragment in expected) Assert.Contains(fragment, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Importer_ConvWithRank3Input_NamesOperatorAndRank()
    {
        var patch = FlatBufferPatch.Of(Face);
        patch.Set(patch.TensorShapeRank(0), 3); // [1,128,128,3] read as [1,128,128]
        var error = Assert.Throws<ModelLoadException>(() => TfLiteImporter.Import(patch.Bytes, "rank3.tflite"));
        Assert.Contains("subgraph 0 operator 2 (Conv2d): input 0 (tensor 0", error.Message, StringComparison.Ordinal);
        Assert.Contains("has rank 3; the operator needs 4", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LiteModel_DepthwiseWithoutBias_IsRefusedButStillImports()
    {
        TestEnvironment.RequireRuntime();
        var patch = FlatBufferPatch.Of(Face);
        var depthwise = patch.FirstOperator(TfLiteBuiltinOperator.kTfLiteBuiltinDepthwiseConv2d);
        patch.Set(patch.OperatorInputCount(depthwise), 2);
        // TFLite 2.14's depthwise kernel reads a bias unconditionally: the file is refused before it gets there...
        var error = Assert.Throws<ModelLoadException>(() => LiteModel.FromBytes(patch.Bytes, "no-bias.tflite"));
        Assert.Contains($"operator {depthwise} (DepthwiseConv2d): field inputs has no bias", error.Message, StringComparison.Ordinal);
        // ...while the import, where a convolution without bias is well defined, still succeeds.
        var imported = TfLiteImporter.Import(patch.Bytes, "no-bias.tflite");
        Assert.Contains(imported.Graph.Nodes, n => n.OpType == "Conv" && n.Inputs.Count == 2);
    }

    [Fact]
    public void LiteModel_TensorsLargerThanTheCap_AreRefusedBeforeAllocation()
    {
        TestEnvironment.RequireRuntime();
        var patch = FlatBufferPatch.Of(Add);
        patch.Set(patch.TensorShapeDim(1, 1), 1 << 20).Set(patch.TensorShapeDim(1, 2), 1 << 20); // input [1,2^20,2^20,3] float: 12 TiB
        var error = Assert.Throws<ModelLoadException>(() => LiteModel.FromBytes(patch.Bytes, "huge.tflite"));
        Assert.Contains("subgraph 0 tensor 1", error.Message, StringComparison.Ordinal);
        Assert.Contains($"more than the {LiteModel.MaxActivationBytes} allowed", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LiteModel_AddWithUnscaledOutput_IsRefusedWhicheverInputIsQuantized()
    {
        TestEnvironment.RequireRuntime();
        // Found by a 20-minute fuzz run (seed 23): TF's add_quantized_int8.bin with ADD(float t0, int8 t1) -> t2 retyped
        // BOOL and its scales removed. TFLite's ADD takes its output type from input 1, so it went down the int8 path
        // with an output scale of 0 and aborted the process; the rule used to look at input 0 only.
        var path = Path.Combine(TestEnvironment.RepoRoot, "tests", "AccelSdk.Fuzz.Tests", "Regressions", "tflite",
            "tflite-native_crash__signal_6__in_compile_tflite_cpu-add-output-type-from-input1.tflite");
        var error = Assert.Throws<ModelLoadException>(() => LiteModel.FromBytes(File.ReadAllBytes(path), "add-bool-output.tflite"));
        Assert.Contains("operator 1 (Add): field outputs[0]: tensor 2 ('output') has no quantization parameters, but input 1 is Int8",
            error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Session_StaleDeclaredShapes_AreSizedFromTheInputs()
    {
        TestEnvironment.RequireRuntime();
        // Found by a 20-minute fuzz run (seed 24): the wake-word classifier's input batch set to 65536 while the
        // Reshape and FullyConnected outputs stay declared [1, ...]. TFLite sizes them from the input at run time, so
        // the run needed twice what the declared shapes said, and under `ulimit -v` ruy's packing segfaulted. A batch
        // of 4096 shows it cheaply: input 34.6 MB, Reshape output 34.6 MB.
        var patch = FlatBufferPatch.Of("weather_v0.1.tflite");
        patch.Set(patch.TensorShapeDim(0, 0), 4096);
        var path = Path.Combine(Path.GetTempPath(), $"stale-shapes-{Guid.NewGuid():N}.tflite");
        File.WriteAllBytes(path, patch.Bytes);
        try
        {
            RunOverCap(TfLiteImporter.Load(path));
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static void RunOverCap(Model model)
    {
        using var backend = new TfLiteBackend();
        using var session = new AccelSession(GraphPartitioner.WholeModel(model, backend, backend.Devices[0]));
        session.Limits = new ResourceLimits { MaxTensorBytes = 50_000_000, MaxRunBytes = 50_000_000 };
        var input = AccelTensor.Zeros(ElementType.Float32, new long[] { 4096, 22, 96 });
        var error = Assert.Throws<ResourceLimitException>(() => session.Run(input));
        Assert.Contains("69,206,016 bytes, over the MaxRunBytes cap of 50,000,000", error.Message, StringComparison.Ordinal);
    }

    private static byte[] Mutate(string name, string model)
    {
        var patch = FlatBufferPatch.Of(model);
        switch (name)
        {
            case "op-input-minus-one": patch.Set(patch.OperatorInput(1, 0), -1); break;
            case "op-output-onto-subgraph-input": patch.Set(patch.OperatorOutput(0, 0), 1); break;
            case "op-output-onto-other-op-output": patch.Set(patch.OperatorOutput(1, 0), 0); break;
            case "op-input-out-of-range": patch.Set(patch.OperatorInput(0, 1), 1000); break;
            case "opcode-index-out-of-range": patch.Set(patch.OperatorOpcodeIndex(3), 9999); break;
            case "tensor-buffer-out-of-range": patch.Set(patch.TensorBuffer(1), 9999); break;
            case "add-with-one-input": patch.Set(patch.OperatorInputCount(0), 1); break;
            case "subgraph-output-out-of-range": patch.Set(patch.SubgraphOutput(0), 3); break;
            case "negative-dimension": patch.Set(patch.TensorShapeDim(1, 1), -1); break;
            case "huge-dimensions":
                for (var d = 1; d < 4; d++) patch.Set(patch.TensorShapeDim(0, d), int.MaxValue);
                break;
            case "vector-length-past-file": patch.Set(patch.OperatorInputCount(0), int.MaxValue); break;
            case "conv-stride-zero": patch.Set(patch.OperatorOption(2, 1), 0); break;
            case "depthwise-stride-stale-shape": patch.Set(patch.OperatorOption(31, 1), 255); break;
            default: throw new ArgumentOutOfRangeException(nameof(name), name, "no such mutation");
        }
        return patch.Bytes;
    }
}
