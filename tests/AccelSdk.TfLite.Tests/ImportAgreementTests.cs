using AccelSdk.Execution;
using AccelSdk.Ir;
using AccelSdk.OnnxRuntime;
using AccelSdk.TfLite.Import;

namespace AccelSdk.TfLite.Tests;

/// <summary>
/// Every model whose ops the importer covers gives the TFLite runtime's outputs when its imported IR runs on
/// ONNX Runtime. Tolerance: |ort - tflite| &lt;= rtol x max|tflite output| per output; 1e-4 for float models (pose's
/// 256x256 segmentation logits accumulate to 5e-4 over ~400 layers), one quantization step for int8/uint8 outputs
/// (ORT and TFLite round requantization differently).
/// </summary>
public sealed class ImportAgreementTests : IClassFixture<OrtFixture>
{
    private readonly OrtFixture _ort;

    public ImportAgreementTests(OrtFixture ort)
    {
        TestEnvironment.RequireRuntime();
        _ort = ort;
    }

    public static TheoryData<string, double> FloatModels => new()
    {
        { "add.bin", 1e-6 },
        { "multi_add.bin", 1e-6 },
        { "mobilenet_like_model.bin", 1e-4 },
        { "face_detection_short_range.tflite", 1e-4 },
        { "face_detection_full_range.tflite", 1e-4 },
        { "face_detection_full_range_sparse.tflite", 1e-4 },
        { "hand_landmark_lite.tflite", 1e-4 },
        { "hand_landmark_full.tflite", 1e-4 },
        { "pose_landmark_lite.tflite", 5e-4 },
        { "pose_landmark_full.tflite", 5e-4 },
        { "embedding_model.tflite", 1e-4 },
        { "alexa_v0.1.tflite", 1e-4 },
        { "hey_mycroft_v0.1.tflite", 1e-4 },
        { "hey_rhasspy_v0.1.tflite", 1e-4 },
        { "timer_v0.1.tflite", 1e-4 },
        { "weather_v0.1.tflite", 1e-4 },
        { "okay_nabu.tflite", 1e-4 },
    };

    [Theory]
    [MemberData(nameof(FloatModels))]
    public void Imported_float_model_on_ort_agrees_with_tflite(string file, double rtol)
    {
        var path = TestEnvironment.Model(file);
        using var liteModel = LiteModel.FromFile(path);
        using var interpreter = new LiteInterpreter(liteModel);
        var inputs = TestData.RandomInputs(interpreter.Inputs);
        var expected = interpreter.Run(inputs);
        var model = TfLiteImporter.Load(path);
        Assert.DoesNotContain(model.Graph.Nodes, n => n.Domain == TfLiteImporter.CustomDomain);
        using var session = new AccelSession(GraphPartitioner.WholeModel(model, _ort.Backend, _ort.Backend.CpuDevice));
        var actual = session.Run(inputs);
        Assert.Equal(expected.Length, actual.Count);
        for (var i = 0; i < expected.Length; i++) TestData.AssertClose(expected[i], actual[i], rtol, 1e-6, $"{file} output {i}");
    }

    [Theory]
    [InlineData("add_quantized_int8.bin")]
    [InlineData("fc_qat.bin")]
    public void Imported_quantized_model_on_ort_is_within_one_step_of_tflite(string file)
    {
        var path = TestEnvironment.Model(file);
        using var liteModel = LiteModel.FromFile(path);
        using var interpreter = new LiteInterpreter(liteModel);
        var inputs = TestData.RandomInputs(interpreter.Inputs);
        var expected = interpreter.Run(inputs);
        var model = TfLiteImporter.Load(path);
        using var session = new AccelSession(GraphPartitioner.WholeModel(model, _ort.Backend, _ort.Backend.CpuDevice));
        var actual = session.Run(inputs);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.Equal(expected[i].ElementType, actual[i].ElementType);
            TestData.AssertClose(expected[i], actual[i], 0, 1, $"{file} output {i}");
        }
    }

    [Fact]
    public void Dynamic_input_model_imports_and_agrees_after_resizing()
    {
        var path = TestEnvironment.Model("melspectrogram.tflite");
        using var liteModel = LiteModel.FromFile(path);
        using var interpreter = new LiteInterpreter(liteModel);
        var random = new Random(3);
        var audio = Tensor.Create(Enumerable.Range(0, 1280 * 4).Select(_ => (float)(random.NextDouble() * 2000 - 1000)).ToArray(), 1, 1280 * 4);
        var expected = interpreter.Run(audio);
        var model = TfLiteImporter.Load(path);
        using var session = new AccelSession(GraphPartitioner.WholeModel(model, _ort.Backend, _ort.Backend.CpuDevice));
        var actual = session.Run(audio);
        TestData.AssertClose(expected[0], actual[0], 1e-4, 1e-4, "melspectrogram");
    }

    /// <summary>
    /// selfie_segmentation needs MediaPipe's Convolution2DTransposeBias, which stock TFLite lacks. Two independent
    /// implementations must agree: AccelSdk's C# kernel registered into TFLite, and the importer's mapping of the op to
    /// ONNX ConvTranspose running on ONNX Runtime with the rest of the model.
    /// </summary>
    [Fact]
    public void Selfie_segmentation_runs_with_its_custom_op_on_tflite_and_on_ort_and_they_agree()
    {
        var path = TestEnvironment.Model("selfie_segmentation.tflite");
        using var liteModel = LiteModel.FromFile(path);
        using var interpreter = new LiteInterpreter(liteModel, new LiteInterpreterOptions { MediaPipeCustomOps = true });
        var inputs = TestData.RandomInputs(interpreter.Inputs);
        var expected = interpreter.Run(inputs);
        var model = TfLiteImporter.Load(path);
        Assert.Contains(model.Graph.Nodes, n => n.OpType == "ConvTranspose");
        Assert.DoesNotContain(model.Graph.Nodes, n => n.Domain == TfLiteImporter.CustomDomain);
        using var session = new AccelSession(GraphPartitioner.WholeModel(model, _ort.Backend, _ort.Backend.CpuDevice));
        var actual = session.Run(inputs);
        TestData.AssertClose(expected[0], actual[0], 1e-4, 1e-6, "selfie_segmentation");
        var mask = expected[0].ToArray<float>();
        Assert.All(mask, v => Assert.InRange(v, 0f, 1f));
    }

    [Theory]
    [InlineData("micro_hey_jarvis.tflite", "VarHandle")]
    [InlineData("hey_jarvis_v0.1.tflite", "If")]
    public void Ops_without_an_ir_form_are_kept_and_named_when_ort_refuses_them(string file, string op)
    {
        var model = TfLiteImporter.Load(TestEnvironment.Model(file));
        Assert.Contains(model.Graph.Nodes, n => n.Domain == TfLiteImporter.CustomDomain && n.OpType == op);
        var e = Assert.Throws<UnsupportedOperatorException>(() => GraphPartitioner.WholeModel(model, _ort.Backend, _ort.Backend.CpuDevice));
        Assert.Contains(e.Unsupported, u => u.Op == op);
        var convert = Assert.Throws<UnsupportedOperatorException>(() => TfLiteConverter.ToOnnxBytes(TestEnvironment.Model(file)));
        Assert.Contains(op, convert.Message);
    }

    [Fact]
    public void Corrupt_or_truncated_flatbuffers_are_typed_load_errors_in_the_importer()
    {
        var bytes = File.ReadAllBytes(TestEnvironment.Model("face_detection_short_range.tflite"));
        Assert.Throws<ModelLoadException>(() => TfLiteImporter.Import(bytes[..(bytes.Length / 2)], "half.tflite"));
        Assert.Throws<ModelLoadException>(() => TfLiteImporter.Import(bytes[..64], "head.tflite"));
        var random = new Random(11);
        for (var round = 0; round < 20; round++)
        {
            var corrupt = (byte[])bytes.Clone();
            for (var k = 0; k < 50; k++) corrupt[8 + random.Next(corrupt.Length - 8)] = (byte)random.Next(256);
            try
            {
                TfLiteImporter.Import(corrupt, "corrupt.tflite");
            }
            catch (AccelSdkException)
            {
                // A typed error is the expected outcome; a flipped byte inside weight data may also import fine.
            }
        }
        Assert.Throws<ModelLoadException>(() => TfLiteImporter.Import(new byte[] { 1, 2, 3 }, "tiny.tflite"));
    }
}

/// <summary>One ONNX Runtime backend for the whole test class.</summary>
public sealed class OrtFixture : IDisposable
{
    public OrtBackend Backend { get; } = new();

    public void Dispose() => Backend.Dispose();
}
