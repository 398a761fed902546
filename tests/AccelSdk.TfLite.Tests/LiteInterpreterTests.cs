using AccelSdk.Ir;

namespace AccelSdk.TfLite.Tests;

/// <summary>The TFLite runtime itself, driven through the generated bindings.</summary>
public class LiteInterpreterTests
{
    public LiteInterpreterTests() => TestEnvironment.RequireRuntime();

    private static AccelTensor Ramp(long[] shape, float step)
    {
        var count = (int)AccelTensor.CountElements(shape);
        return AccelTensor.Create(Enumerable.Range(0, count).Select(i => (i - count / 2) * step).ToArray(), shape);
    }

    [Fact]
    public void AddBin_computes_three_times_its_input_exactly()
    {
        using var model = LiteModel.FromFile(TestEnvironment.Model("add.bin"));
        using var interpreter = new LiteInterpreter(model);
        var input = interpreter.Inputs.Single();
        Assert.Equal(ElementType.Float32, input.ElementType);
        Assert.Equal(new[] { 1, 8, 8, 3 }, input.Shape);
        var x = Ramp(new long[] { 1, 8, 8, 3 }, 0.37f);
        var output = interpreter.Run(x).Single();
        Assert.Equal(x.ShapeArray, output.ShapeArray);
        var xs = x.ToArray<float>();
        var ys = output.ToArray<float>();
        for (var i = 0; i < xs.Length; i++) Assert.Equal(3 * xs[i], ys[i]);
    }

    [Fact]
    public void Inputs_of_a_new_shape_are_resized()
    {
        using var model = LiteModel.FromFile(TestEnvironment.Model("add.bin"));
        using var interpreter = new LiteInterpreter(model);
        var x = Ramp(new long[] { 2, 4, 5, 3 }, 0.5f);
        var y = interpreter.Run(x).Single();
        Assert.Equal(new long[] { 2, 4, 5, 3 }, y.ShapeArray);
        Assert.Equal(x.ToArray<float>().Select(v => 3 * v), y.ToArray<float>());
        Assert.Equal(new[] { 2, 4, 5, 3 }, interpreter.Inputs[0].Shape);
    }

    [Fact]
    public void Quantized_int8_add_follows_its_quantization()
    {
        using var model = LiteModel.FromFile(TestEnvironment.Model("add_quantized_int8.bin"));
        using var interpreter = new LiteInterpreter(model);
        var input = interpreter.Inputs.Single();
        var output = interpreter.Outputs.Single();
        Assert.Equal(ElementType.Int8, input.ElementType);
        var values = Enumerable.Range(0, 192).Select(i => (sbyte)(i % 40 - 20)).ToArray();
        var y = interpreter.Run(AccelTensor.Create(values, 1, 8, 8, 3)).Single().ToArray<sbyte>();
        for (var i = 0; i < values.Length; i++)
        {
            var real = 3 * input.Scale * (values[i] - input.ZeroPoint);
            var expected = Math.Clamp(Math.Round(real / output.Scale) + output.ZeroPoint, -128, 127);
            Assert.InRange(y[i], expected - 1, expected + 1);
        }
    }

    [Fact]
    public void Signature_runner_runs_by_input_name()
    {
        using var model = LiteModel.FromFile(TestEnvironment.Model("multi_add.bin"));
        using var interpreter = new LiteInterpreter(model);
        Assert.Contains("serving_default", interpreter.SignatureKeys);
        var names = interpreter.SignatureInputs("serving_default");
        Assert.Equal(4, names.Count);
        var inputs = names.Select((n, k) => (n, Ramp(new long[] { 1, 8, 8, 3 }, 0.1f * (k + 1)))).ToDictionary(p => p.n, p => p.Item2);
        var outputs = interpreter.RunSignature("serving_default", inputs);
        Assert.Equal(2, outputs.Count);
        var plain = interpreter.Run(interpreter.Inputs.Select(i => inputs[names.Single(n => i.Name.EndsWith(n, StringComparison.Ordinal))]).ToArray());
        Assert.Contains(outputs.Values, o => o.ToArray<float>().SequenceEqual(plain[0].ToArray<float>()));
        Assert.Throws<InvalidModelException>(() => interpreter.RunSignature("nope", inputs));
    }

    [Fact]
    public void Threads_option_gives_the_same_results()
    {
        using var model = LiteModel.FromFile(TestEnvironment.Model("face_detection_short_range.tflite"));
        using var one = new LiteInterpreter(model, new LiteInterpreterOptions { Threads = 1 });
        using var two = new LiteInterpreter(model, new LiteInterpreterOptions { Threads = 2 });
        var x = TestData.RandomInputs(one.Inputs);
        var a = one.Run(x);
        var b = two.Run(x);
        for (var i = 0; i < a.Length; i++) TestData.AssertClose(a[i], b[i], 1e-5, 1e-6, $"output {i}");
    }

    [Fact]
    public void Streaming_int8_model_with_resource_variables_keeps_state_until_reset()
    {
        using var model = LiteModel.FromFile(TestEnvironment.Model("micro_hey_jarvis.tflite"));
        using var interpreter = new LiteInterpreter(model);
        Assert.Equal(new[] { 1, 3, 40 }, interpreter.Inputs[0].Shape);
        Assert.Equal(ElementType.UInt8, interpreter.Outputs[0].ElementType);
        var frames = Enumerable.Range(0, 20).Select(k => TestData.RandomInputs(interpreter.Inputs, seed: k)[0]).ToArray();
        var first = frames.Select(f => interpreter.Run(f)[0].ToArray<byte>()[0]).ToArray();
        interpreter.ResetVariables();
        var again = frames.Select(f => interpreter.Run(f)[0].ToArray<byte>()[0]).ToArray();
        Assert.Equal(first, again);
    }

    [Fact]
    public void Unresolved_custom_op_fails_with_tflites_own_message()
    {
        using var model = LiteModel.FromFile(TestEnvironment.Model("selfie_segmentation.tflite"));
        var e = Assert.Throws<BackendException>(() => new LiteInterpreter(model));
        Assert.Contains("Convolution2DTransposeBias", e.Message);
        Assert.Contains("unresolved custom op", e.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Truncated_corrupt_and_foreign_files_are_typed_load_errors()
    {
        var bytes = File.ReadAllBytes(TestEnvironment.Model("face_detection_short_range.tflite"));
        var truncated = Assert.Throws<ModelLoadException>(() => LiteModel.FromBytes(bytes.AsSpan(0, bytes.Length / 3), "truncated.tflite"));
        Assert.Equal("truncated.tflite", truncated.Path);
        var corrupt = (byte[])bytes.Clone();
        new Random(7).NextBytes(corrupt.AsSpan(8, 4000));
        Assert.Throws<ModelLoadException>(() => LiteModel.FromBytes(corrupt, "corrupt.tflite"));
        var foreign = Assert.Throws<ModelLoadException>(() => LiteModel.FromBytes(new byte[] { 8, 1, 18, 4, 116, 101, 115, 116 }, "model.onnx"));
        Assert.Contains("TFL3", foreign.Message);
        Assert.Throws<ModelLoadException>(() => LiteModel.FromFile(Path.Combine(TestEnvironment.ModelDir, "missing.tflite")));
    }

    [Fact]
    public void Wrong_input_type_or_size_names_the_input()
    {
        using var model = LiteModel.FromFile(TestEnvironment.Model("add.bin"));
        using var interpreter = new LiteInterpreter(model);
        var type = Assert.Throws<InputMismatchException>(() => interpreter.Run(AccelTensor.Zeros(ElementType.Int32, new long[] { 1, 8, 8, 3 })));
        Assert.Equal("input", type.TensorName);
        Assert.Contains("int32", type.Message);
        var count = Assert.Throws<InputMismatchException>(() => interpreter.Run(AccelTensor.Zeros(ElementType.Float32, new long[] { 1, 8, 8, 3 }), AccelTensor.Zeros(ElementType.Float32, new long[] { 1 })));
        Assert.Contains("1 input", count.Message);
    }

    [Fact]
    public void Per_op_timings_cover_every_invoked_operator_and_map_to_imported_nodes()
    {
        var path = TestEnvironment.Model("face_detection_short_range.tflite");
        using var model = LiteModel.FromFile(path);
        using var interpreter = new LiteInterpreter(model, new LiteInterpreterOptions { ProfileOps = true });
        var inputs = TestData.RandomInputs(interpreter.Inputs);
        interpreter.Run(inputs);
        interpreter.ResetOpTimings();
        var watch = System.Diagnostics.Stopwatch.StartNew();
        for (var i = 0; i < 3; i++) interpreter.Run(inputs);
        var wall = watch.Elapsed;
        var timings = interpreter.OpTimings;
        Assert.NotEmpty(timings);
        Assert.All(timings, t => Assert.Equal(3, t.Invocations));
        Assert.Contains(timings, t => t.Op == "CONV_2D");
        Assert.True(timings.Sum(t => t.Total.Ticks) <= wall.Ticks, "op time exceeds wall time");
        var imported = AccelSdk.TfLite.Import.TfLiteImporter.Load(path);
        foreach (var t in timings.Where(t => t.Subgraph == 0 && t.Op != "DEQUANTIZE"))
        {
            Assert.Contains(imported.Graph.Nodes, n => n.Name.Contains($"_{t.OpIndex}/", StringComparison.Ordinal));
        }
        using var plain = new LiteInterpreter(model);
        plain.Run(inputs);
        Assert.Empty(plain.OpTimings);
    }
}
