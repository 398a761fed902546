using AccelSdk.Backends;
using AccelSdk.Execution;
using AccelSdk.Ir;
using AccelSdk.Optimize.Conversion;
using AccelSdk.Optimize.Data;
using AccelSdk.Optimize.Reports;
using AccelSdk.Optimize.Validation;
using AccelSdk.TestSupport;
using Xunit.Abstractions;

namespace AccelSdk.Optimize.Tests;

public sealed class Fp16ValidityTests(ITestOutputHelper log) : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("accelsdk-fp16-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void Resize_with_constant_scales_converts_to_a_model_ORT_loads_and_agrees_with()
    {
        var model = ResizeModel();
        var result = Fp16Converter.Convert(model);
        var graph = result.Model.Graph;
        Assert.Equal(ElementType.Float32, graph.Initializers.Single(t => t.Name == "scales").ElementType);
        Assert.Equal(ElementType.Float16, graph.Initializers.Single(t => t.Name == "gain").ElementType);
        var constant = graph.Nodes.Single(n => n.OpType == "Constant");
        Assert.Equal(ElementType.Float32, constant.Attributes.Single(a => a.Name == "value").AsTensor().ElementType);

        var (backend, device) = AccelRuntime.Default.Resolve("ort-cpu");
        var inputs = new List<IReadOnlyDictionary<string, AccelTensor>> { SampleInputs.Random(model), SampleInputs.Random(model, seed: 7) };
        var accuracy = ModelEvaluator.MeasureAccuracy(backend, device, model, result.Model, inputs);
        Assert.All(accuracy, a => Assert.True(a.MinCosine >= 0.999, $"{a.Output}: {a.MinCosine:F6}"));

        var path = Path.Combine(_folder, "resize-fp16.onnx");
        OptimizedModelWriter.Write(model, result, path);
        Assert.Equal(new[] { path }, Directory.GetFiles(_folder));
        Assert.Equal(ElementType.Float32, Model.Load(path).Graph.Initializers.Single(t => t.Name == "scales").ElementType);
    }

    [Fact]
    public void Resize_scales_computed_in_the_graph_get_a_Cast_back_to_float32_and_ORT_agrees()
    {
        var model = ResizeModel();
        // scales = half_scales * two: the Mul computes in float16 after conversion, so Resize must read a float32 Cast of it.
        model.Graph.Initializers.Add(AccelTensor.Create(new[] { 0.5f, 0.5f, 1f, 1f }, 4).WithName("half_scales"));
        model.Graph.Initializers.Add(AccelTensor.Create(new[] { 2f }, 1).WithName("two"));
        model.Graph.Nodes.Insert(0, new Node("Mul", new[] { "half_scales", "two" }, new[] { "computed_scales" }, "compute_scales"));
        model.Graph.Nodes.Single(n => n.Name == "resize_constant_scales").Inputs[2] = "computed_scales";
        model.Graph.Initializers.RemoveAll(t => t.Name == "scales");

        var result = Fp16Converter.Convert(model);

        var graph = result.Model.Graph;
        var resize = graph.Nodes.Single(n => n.Name == "resize_constant_scales");
        var cast = graph.Nodes.Single(n => n.Outputs.Contains(resize.Inputs[2]));
        Assert.Equal("Cast", cast.OpType);
        Assert.Equal((long)ElementType.Float32, cast.GetInt("to", 0));
        Assert.Equal("computed_scales", cast.Inputs[0]);
        var path = Path.Combine(_folder, "computed.onnx");
        OptimizedModelWriter.Write(model, result, path, new ValidationOptions { MinCosine = 0.999 });
        Assert.True(File.Exists(path));
    }

    [Fact]
    public void A_model_ORT_refuses_is_not_written_the_existing_file_stays_and_the_node_is_named()
    {
        var model = ResizeModel();
        var result = Fp16Converter.Convert(model);
        // The old converter's output: Resize scales in float16, which the Resize schema forbids.
        var scales = result.Model.Graph.Initializers.FindIndex(t => t.Name == "scales");
        result.Model.Graph.Initializers[scales] = AccelTensor.Create(new[] { (Half)1, (Half)1, (Half)2, (Half)2 }, 4).WithName("scales");
        var path = Path.Combine(_folder, "out.onnx");
        File.WriteAllText(path, "previous result");

        var error = Assert.Throws<OptimizedModelRejectedException>(() => OptimizedModelWriter.Write(model, result, path));

        Assert.Equal("resize_constant_scales", error.NodeName);
        Assert.Equal("Resize", error.OpType);
        Assert.Contains("resize_constant_scales", error.Message);
        Assert.Equal("previous result", File.ReadAllText(path));
        Assert.Equal(new[] { path }, Directory.GetFiles(_folder));
    }

    [Fact]
    public void Outputs_that_disagree_with_the_original_are_refused_naming_the_output_and_nothing_is_written()
    {
        var model = ResizeModel();
        var result = Fp16Converter.Convert(model);
        var gain = result.Model.Graph.Initializers.FindIndex(t => t.Name == "gain");
        result.Model.Graph.Initializers[gain] = AccelTensor.Create(new[] { (Half)(-3) }, 1).WithName("gain");
        var path = Path.Combine(_folder, "out.onnx");

        var error = Assert.Throws<OptimizedModelRejectedException>(() => OptimizedModelWriter.Write(model, result, path));

        Assert.Equal("Y", error.OutputName);
        Assert.Empty(Directory.GetFiles(_folder));
    }

    [Fact]
    public void An_impossible_agreement_threshold_is_a_typed_option_error()
    {
        var model = ResizeModel();
        var result = Fp16Converter.Convert(model);
        var error = Assert.Throws<InvalidOptimizationOptionException>(() =>
            OptimizedModelWriter.Write(model, result, Path.Combine(_folder, "out.onnx"), new ValidationOptions { MinCosine = 1.5 }));
        Assert.Equal("MinCosine", error.Option);
        Assert.Empty(Directory.GetFiles(_folder));
    }

    [Theory]
    [InlineData("resnet18/ResNet18.onnx")]
    [InlineData("blazeface/face_detection_front_128x128_barracuda.onnx")]
    [InlineData("blazeface/face_detection_back_256x256_barracuda.onnx")]
    [InlineData("openwakeword/melspectrogram.onnx")]
    [InlineData("openwakeword/embedding_model.onnx")]
    [InlineData("openwakeword/hey_jarvis_v0.1.onnx")]
    [InlineData("silero/silero_vad_op18_ifless.onnx")]
    [InlineData("minilm/model.onnx")]
    [InlineData("arctic/model.onnx")]
    [InlineData("ppocr/ch_PP-OCRv4_det_infer.onnx")]
    [InlineData("ppocr/ch_PP-OCRv4_rec_infer.onnx")]
    [InlineData("tflite/alexa_v0.1.onnx")]
    [InlineData("tflite/hey_mycroft_v0.1.onnx")]
    [InlineData("tflite/hey_rhasspy_v0.1.onnx")]
    [InlineData("tflite/timer_v0.1.onnx")]
    [InlineData("tflite/weather_v0.1.onnx")]
    public void Fp16_of_a_shipped_model_is_written_valid_or_refused_naming_the_node(string relativePath)
    {
        var model = Model.Load(RepoPaths.Model(relativePath));
        var result = Fp16Converter.Convert(model);
        var path = Path.Combine(_folder, "model-fp16.onnx");
        var inputs = new List<IReadOnlyDictionary<string, AccelTensor>> { SampleInput(model, relativePath) };
        try
        {
            OptimizedModelWriter.Write(model, result, path, new ValidationOptions { Inputs = inputs });
        }
        catch (OptimizedModelRejectedException e)
        {
            Assert.False(File.Exists(path));
            Assert.True(e.NodeName is not null || e.OutputName is not null, e.Message);
            if (e.NodeName is not null) Assert.Contains(result.Model.Graph.Nodes, n => n.Name == e.NodeName || n.Outputs.Contains(e.NodeName));
            log.WriteLine($"refused: {e.Message}");
            return;
        }
        var written = Model.Load(path);
        var (backend, device) = AccelRuntime.Default.Resolve("ort-cpu");
        var accuracy = ModelEvaluator.MeasureAccuracy(backend, device, model, written, inputs);
        Assert.All(accuracy, a => Assert.True(a.MinCosine >= 0.999, $"{relativePath} {a.Output}: {a.MinCosine:F6}"));
        log.WriteLine($"valid: {string.Join(", ", accuracy.Select(a => $"{a.Output} cosine {a.MinCosine:F6}"))}");
    }

    [Fact]
    public void Fp16_of_the_PP_OCR_detector_keeps_its_overflowing_BatchNorm_variance_in_float32_and_agrees_on_real_text()
    {
        // PP-OCRv4's detector holds a BatchNorm running variance of 9.79e7: clamped to float16's 65504 the output was
        // garbage (cosine 0.023). The constant and its reader stay float32, named in the result.
        var model = Model.Load(RepoPaths.Model("ppocr/ch_PP-OCRv4_det_infer.onnx"));
        var result = Fp16Converter.Convert(model);
        var (node, reason) = Assert.Single(result.SkippedNodes);
        Assert.Equal("p2o.BatchNormalization.1", node);
        Assert.Contains("'batch_norm_0.w_2', whose values reach 9.79E+07, beyond float16's largest 65504", reason);
        Assert.Equal(ElementType.Float32, result.Model.Graph.FindInitializer("batch_norm_0.w_2")!.ElementType);
        var pages = new[] { "page.png", "clock_motion.png" }.Select(f => Path.Combine(TestData.ImageFolder("evaluation"), f));
        var inputs = InputSets.FromImages(model, pages, new ImagePreprocessing { DefaultSize = 256 }).Cast<IReadOnlyDictionary<string, AccelTensor>>().ToList();
        var (backend, device) = AccelRuntime.Default.Resolve("ort-cpu");
        var accuracy = Assert.Single(ModelEvaluator.MeasureAccuracy(backend, device, model, result.Model, inputs));
        log.WriteLine($"PP-OCRv4 det fp16 on 2 photos with text: cosine mean {accuracy.MeanCosine:F5}, min {accuracy.MinCosine:F5}, max abs error {accuracy.MaxAbsError:G3}");
        Assert.True(accuracy.MinCosine >= 0.999, $"cosine {accuracy.MinCosine:F5}");
    }

    [Fact]
    public void Blocking_Resize_on_the_PP_OCR_detector_keeps_its_scales_float32_and_every_Resize_input_float32_and_ORT_agrees()
    {
        // Blocking Resize made its Constant scales float16 (ORT refuses a float16 'scales'). Blocked or not, the scales
        // and ROI keep their type; blocked, the data input is read through a Cast to float32 and the output is cast back.
        var path = RepoPaths.Model("ppocr/ch_PP-OCRv4_det_infer.onnx");
        var model = Model.Load(path);
        var result = Fp16Converter.Convert(model, new Fp16Options { BlockedOpTypes = new[] { "Resize" } });
        var graph = result.Model.Graph;
        var types = ShapeInference.Infer(result.Model);
        var resizes = graph.Nodes.Where(n => n.OpType == "Resize").ToList();
        Assert.Equal(6, resizes.Count);
        foreach (var resize in resizes)
        {
            foreach (var input in resize.Inputs.Where(i => i.Length > 0))
            {
                Assert.True(types.TryGetValue(input, out var type) && type is TensorType { ElementType: ElementType.Float32 }, $"{resize.Name} reads '{input}' as {type}");
            }
            var data = graph.Nodes.Single(n => n.Outputs.Contains(resize.Inputs[0]));
            Assert.Equal("Cast", data.OpType);
            var reader = graph.Nodes.Single(n => n.Inputs.Contains(resize.Outputs[0]));
            Assert.Equal("Cast", reader.OpType);
            Assert.Equal((long)ElementType.Float16, reader.GetInt("to", 0));
        }
        Assert.Equal(6, result.SkippedNodes.Count(s => s.Reason.StartsWith("blocked", StringComparison.Ordinal)));
        var output = Path.Combine(_folder, "det-fp16.onnx");
        var inputs = new List<IReadOnlyDictionary<string, AccelTensor>> { SampleInput(model, "ppocr/ch_PP-OCRv4_det_infer.onnx") };
        OptimizedModelWriter.Write(model, result, output, new ValidationOptions { Inputs = inputs });
        Assert.Equal(new[] { output }, Directory.GetFiles(_folder));
        var (backend, device) = AccelRuntime.Default.Resolve("ort-cpu");
        var accuracy = Assert.Single(ModelEvaluator.MeasureAccuracy(backend, device, model, Model.Load(output), inputs));
        log.WriteLine($"PP-OCRv4 det fp16 with Resize blocked: cosine {accuracy.MinCosine:F6}");
        Assert.True(accuracy.MinCosine >= 0.999, $"cosine {accuracy.MinCosine:F6}");
    }

    [Fact]
    public void Blocking_any_op_type_of_the_PP_OCR_detector_keeps_the_blocked_nodes_float_inputs_float32_and_ORT_agrees()
    {
        // Every op type of the detector in turn (13 types, about 40 s on a loaded 2-core machine): each blocked node reads
        // float32 in every slot that was float32, and the model loads in ORT and agrees on a page of text.
        const string relativePath = "ppocr/ch_PP-OCRv4_det_infer.onnx";
        var model = Model.Load(RepoPaths.Model(relativePath));
        var originalTypes = ShapeInference.Infer(model);
        var inputs = new List<IReadOnlyDictionary<string, AccelTensor>> { SampleInput(model, relativePath) };
        var opTypes = model.Graph.Nodes.Select(n => n.OpType).Where(op => op != "Constant").Distinct().ToList();
        Assert.True(opTypes.Count >= 10, string.Join(" ", opTypes));
        foreach (var opType in opTypes)
        {
            var result = Fp16Converter.Convert(model, new Fp16Options { BlockedOpTypes = new[] { opType } });
            var types = ShapeInference.Infer(result.Model);
            var originals = model.Graph.Nodes.Where(n => n.OpType == opType).ToList();
            var blocked = result.Model.Graph.Nodes.Where(n => n.OpType == opType).ToList();
            Assert.Equal(originals.Count, blocked.Count);
            foreach (var (before, after) in originals.Zip(blocked))
            {
                for (var i = 0; i < before.Inputs.Count; i++)
                {
                    if (!originalTypes.TryGetValue(before.Inputs[i], out var was) || was is not TensorType { ElementType: ElementType.Float32 }) continue;
                    Assert.True(types.TryGetValue(after.Inputs[i], out var now) && now is TensorType { ElementType: ElementType.Float32 },
                        $"blocked {opType} '{after.Name}' reads input {i} '{after.Inputs[i]}' as {now}");
                }
            }
            ModelValidator.Validate(model, result, new ValidationOptions { Inputs = inputs });
        }
    }

    [Fact]
    public void Float16_graph_io_is_validated_on_float16_inputs_and_written()
    {
        // Validation fed the original's float32 inputs to a model declaring float16 ones, so ORT refused every such model.
        var model = ResizeModel();
        var result = Fp16Converter.Convert(model, new Fp16Options { KeepIoFloat32 = false });
        var path = Path.Combine(_folder, "half-io.onnx");
        OptimizedModelWriter.Write(model, result, path);
        var written = Model.Load(path);
        Assert.Equal(ElementType.Float16, written.Graph.Inputs.Single(i => i.Name == "X").TensorType!.ElementType);
        Assert.Equal(ElementType.Float16, written.Graph.Outputs.Single().TensorType!.ElementType);
        var (backend, device) = AccelRuntime.Default.Resolve("ort-cpu");
        var accuracy = Assert.Single(ModelEvaluator.MeasureAccuracy(backend, device, model, written, new[] { SampleInputs.Random(model) }));
        Assert.True(accuracy.MinCosine >= 0.999, $"cosine {accuracy.MinCosine:F6}");
    }

    /// <summary>
    /// The fixed-seed sample input, with audio long enough for the audio front ends (their sample count is symbolic)
    /// and Silero's sample rate set to 16 kHz.
    /// </summary>
    private static Dictionary<string, AccelTensor> SampleInput(Model model, string relativePath)
    {
        if (relativePath.Contains("_det_", StringComparison.Ordinal))
        {
            // A real page of text: on noise the detector's probability map is ~1e-7 everywhere and its cosine says nothing.
            return InputSets.FromImages(model, new[] { Path.Combine(TestData.ImageFolder("evaluation"), "page.png") }, new ImagePreprocessing { DefaultSize = 256 }).Single();
        }
        if (relativePath.StartsWith("ppocr/", StringComparison.Ordinal))
        {
            // PaddleOCR's image sizes are symbolic: the detector takes multiples of 32, the recogniser 48-pixel lines.
            var name = model.Graph.RequiredInputs.Single().Name;
            var shape = relativePath.Contains("_det_", StringComparison.Ordinal) ? new long[] { 1, 3, 96, 96 } : new long[] { 1, 3, 48, 160 };
            var pixelSource = new Random(42);
            var pixels = new float[AccelTensor.CountElements(shape)];
            for (var i = 0; i < pixels.Length; i++) pixels[i] = (float)(pixelSource.NextDouble() * 2 - 1);
            return new Dictionary<string, AccelTensor>(StringComparer.Ordinal) { [name] = AccelTensor.Create(pixels, shape) };
        }
        var input = SampleInputs.Random(model);
        var samples = relativePath.EndsWith("melspectrogram.onnx", StringComparison.Ordinal) ? 1280 : relativePath.StartsWith("silero/", StringComparison.Ordinal) ? 512 : 0;
        if (samples == 0) return input;
        var random = new Random(42);
        var audio = Enumerable.Range(0, samples).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        foreach (var declared in model.Graph.RequiredInputs)
        {
            if (declared.TensorType is { ElementType: ElementType.Float32, Shape.Rank: 2 }) input[declared.Name] = AccelTensor.Create(audio, 1, samples);
            else if (declared.TensorType is { ElementType: ElementType.Int64 }) input[declared.Name] = AccelTensor.Scalar(16000L);
        }
        return input;
    }

    /// <summary>
    /// Conv, then Resize by a scales initializer, then Resize by scales from a Constant node, then Mul by a gain:
    /// X [1, 3, 8, 8] -> Y [1, 4, 32, 32].
    /// </summary>
    private static Model ResizeModel()
    {
        var random = new Random(11);
        float[] Values(int n) => Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        var graph = new Graph { Name = "resize" };
        graph.Initializers.Add(AccelTensor.Create(Values(4 * 3 * 3 * 3), 4, 3, 3, 3).WithName("W"));
        graph.Initializers.Add(AccelTensor.Create(new[] { 1f, 1f, 2f, 2f }, 4).WithName("scales"));
        graph.Initializers.Add(AccelTensor.Create(new[] { 1.7f }, 1).WithName("gain"));
        graph.Inputs.Add(new ValueInfo("X", new TensorType(ElementType.Float32, new TensorShape(1, 3, 8, 8))));
        graph.Outputs.Add(new ValueInfo("Y", new TensorType(ElementType.Float32, new TensorShape(1, 4, 32, 32))));
        var conv = new Node("Conv", new[] { "X", "W" }, new[] { "features" }, "conv");
        conv.Attributes.Add(NodeAttribute.Ints("pads", 1, 1, 1, 1));
        graph.Nodes.Add(conv);
        graph.Nodes.Add(new Node("Resize", new[] { "features", "", "scales" }, new[] { "up1" }, "resize_constant_scales"));
        var constant = new Node("Constant", Array.Empty<string>(), new[] { "scales2" }, "scales2");
        constant.Attributes.Add(NodeAttribute.FromTensor("value", AccelTensor.Create(new[] { 1f, 1f, 2f, 2f }, 4)));
        graph.Nodes.Add(constant);
        var linear = new Node("Resize", new[] { "up1", "", "scales2" }, new[] { "up2" }, "resize_constant_node");
        linear.Attributes.Add(NodeAttribute.String("mode", "linear"));
        graph.Nodes.Add(linear);
        graph.Nodes.Add(new Node("Mul", new[] { "up2", "gain" }, new[] { "Y" }, "scale_by_gain"));
        var model = new Model(graph) { IrVersion = 8 };
        model.OpsetImports[""] = 13;
        return model;
    }
}
