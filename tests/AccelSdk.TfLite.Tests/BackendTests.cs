using AccelSdk.Backends;
using AccelSdk.Execution;
using AccelSdk.Ir;
using AccelSdk.Onnx;
using AccelSdk.TfLite.Import;
using Microsoft.ML.OnnxRuntime;
using DenseTensorOfFloat = Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<float>;

namespace AccelSdk.TfLite.Tests;

/// <summary>The <c>tflite</c> backend through the SDK's session API, model format discovery and ONNX conversion.</summary>
public sealed class BackendTests
{
    public BackendTests() => TestEnvironment.RequireRuntime();

    [Fact]
    public void Backend_reports_its_device_runtime_and_whether_it_has_xnnpack()
    {
        using var backend = new TfLiteBackend();
        var device = backend.Devices.Single();
        Assert.Equal("tflite-cpu", device.Id);
        Assert.True(device.IsAvailable, device.UnavailableReason);
        Assert.StartsWith("2.14", backend.Version);
        Assert.Equal(TestEnvironment.XnnPackOrAbsenceChecked() ? "available" : "absent from this build", device.Properties["xnnpack"]);
        Assert.Contains(AccelRuntime.Default.Backends, b => b.Name == "tflite");
    }

    [Fact]
    public void Model_load_finds_the_tflite_format_and_a_session_on_tflite_cpu_runs_the_file()
    {
        var path = TestEnvironment.Model("add.bin");
        var model = Model.Load(path);
        Assert.Equal(TfLiteImporter.Opset, model.OpsetOf(""));
        var (backend, device) = AccelRuntime.Default.Resolve("tflite-cpu");
        using var session = new AccelSession(GraphPartitioner.WholeModel(model, backend, device));
        var x = AccelTensor.Create(Enumerable.Range(0, 192).Select(i => i * 0.25f).ToArray(), 1, 8, 8, 3);
        var y = session.Run(x)[0];
        Assert.Equal(x.ToArray<float>().Select(v => 3 * v), y.ToArray<float>());
    }

    [Fact]
    public void Select_measures_tflite_and_ort_on_an_imported_model()
    {
        var model = Model.Load(TestEnvironment.Model("face_detection_short_range.tflite"));
        using var session = Accel.Select(model, new SelectOptions { Candidates = new[] { "tflite-cpu", "ort-cpu" }, MeasuredRuns = 3, WarmupRuns = 1 });
        var report = session.Selection!;
        Assert.All(report.Candidates, c => Assert.True(c.MedianMs > 0, $"{c.Device.Id}: {c.Error}"));
        Assert.Equal(2, report.Candidates.Count);
    }

    [Fact]
    public void Models_from_other_formats_are_refused_with_the_reason()
    {
        var graph = new Graph { Name = "relu" };
        graph.Inputs.Add(new ValueInfo("x", new TensorType(ElementType.Float32, new TensorShape(4))));
        graph.Outputs.Add(new ValueInfo("y", new TensorType(ElementType.Float32, new TensorShape(4))));
        graph.Nodes.Add(new Node("Relu", new[] { "x" }, new[] { "y" }, "relu"));
        var model = new Model(graph);
        model.OpsetImports[""] = 17;
        using var backend = new TfLiteBackend();
        var e = Assert.Throws<UnsupportedOperatorException>(() => GraphPartitioner.WholeModel(model, backend, backend.Devices[0]));
        Assert.Contains(".tflite", e.Message);
    }

    [Theory]
    [InlineData("face_detection_short_range.tflite")]
    [InlineData("hand_landmark_lite.tflite")]
    [InlineData("embedding_model.tflite")]
    [InlineData("hey_jarvis_v0.1.tflite")] // If with branch subgraphs
    [InlineData("face_detection_full_range_sparse.tflite")] // DENSIFY, DEPTH_TO_SPACE
    public void Converted_onnx_runs_on_plain_onnx_runtime_with_tflites_outputs(string file)
    {
        var path = TestEnvironment.Model(file);
        using var liteModel = LiteModel.FromFile(path);
        using var interpreter = new LiteInterpreter(liteModel);
        var inputs = TestData.RandomInputs(interpreter.Inputs);
        var expected = interpreter.Run(inputs);
        var onnx = Path.Combine(Path.GetTempPath(), $"accelsdk-{Guid.NewGuid():N}.onnx");
        try
        {
            TfLiteConverter.Convert(path, onnx);
            using var plain = new InferenceSession(onnx);
            var feeds = plain.InputMetadata.Keys.Select((name, i) =>
                NamedOnnxValue.CreateFromTensor(name, new DenseTensorOfFloat(inputs[i].ToArray<float>(), inputs[i].ShapeArray.Select(d => (int)d).ToArray()))).ToList();
            using var results = plain.Run(feeds);
            var outputs = results.ToList();
            Assert.Equal(expected.Length, outputs.Count);
            for (var i = 0; i < expected.Length; i++)
            {
                var t = outputs[i].AsTensor<float>();
                var actual = AccelTensor.Create(t.ToArray(), t.Dimensions.ToArray().Select(d => (long)d).ToArray());
                TestData.AssertClose(expected[i], actual, 1e-4, 1e-6, $"{file} output {i}");
            }
            Assert.Equal(OnnxImporter.Load(onnx).Graph.Nodes.Count, TfLiteImporter.Load(path).Graph.Nodes.Count);
        }
        finally
        {
            File.Delete(onnx);
        }
    }

    /// <summary>
    /// A converted streaming model is plain ONNX with its state as inputs/outputs: plain ONNX Runtime, fed the initial
    /// values <see cref="TfLiteImporter.StateVariables"/> names and then its own state outputs, follows TFLite frame by
    /// frame (the uint8 probability within one step, as through StatefulSession).
    /// </summary>
    [Fact]
    public void Converted_streaming_model_runs_on_plain_onnx_runtime_when_the_state_is_fed_back()
    {
        var path = TestEnvironment.Model("micro_hey_mycroft.tflite");
        var state = TfLiteImporter.StateVariables(TfLiteImporter.Load(path));
        using var liteModel = LiteModel.FromFile(path);
        using var interpreter = new LiteInterpreter(liteModel);
        var inputName = interpreter.Inputs[0].Name;
        using var plain = new InferenceSession(TfLiteConverter.ToOnnxBytes(path));
        Assert.Equal(state.Count + 1, plain.InputMetadata.Count);
        var current = state.ToDictionary(v => v.Input, v => v.Initial!);
        var random = new Random(7);
        var nonZero = 0;
        for (var frame = 0; frame < 40; frame++)
        {
            var input = TestData.RandomInputs(interpreter.Inputs, seed: random.Next())[0];
            var expected = interpreter.Run(input)[0].GetAsDouble(0);
            var feeds = current.Select(kv => Int8Value(kv.Key, kv.Value)).Append(Int8Value(inputName, input)).ToList();
            using var results = plain.Run(feeds);
            var byName = results.ToDictionary(r => r.Name);
            foreach (var variable in state.Where(v => v.Output.Length > 0))
            {
                var t = byName[variable.Output].AsTensor<sbyte>();
                current[variable.Input] = AccelTensor.Create(t.ToArray(), t.Dimensions.ToArray().Select(d => (long)d).ToArray());
            }
            var probability = results.First(r => !state.Any(v => v.Output == r.Name)).AsTensor<byte>().GetValue(0);
            Assert.True(Math.Abs(probability - expected) <= 1, $"frame {frame}: plain ORT {probability}, TFLite {expected}");
            if (expected > 0) nonZero++;
        }
        Assert.True(nonZero > 5, $"only {nonZero} frames scored above 0: the comparison says little");
    }

    private static NamedOnnxValue Int8Value(string name, AccelTensor value) => NamedOnnxValue.CreateFromTensor(name,
        new Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<sbyte>(value.ToArray<sbyte>(), value.ShapeArray.Select(d => (int)d).ToArray()));
}
