using System.Text.Json;
using AccelSdk.Cli;
using AccelSdk.Ir;
using AccelSdk.Onnx;
using AccelSdk.TestSupport;
using Microsoft.ML.OnnxRuntime;

namespace AccelSdk.Cli.Tests;

[CollectionDefinition("console", DisableParallelization = true)]
public sealed class ConsoleCollection;

[Collection("console")]
public class CliTests
{
    private static (int Code, string Out, string Err) Run(params string[] args) => CliRunner.Run(args);

    [Fact]
    public void Devices_json_lists_the_cpu()
    {
        var (code, output, _) = Run("devices", "--json");
        Assert.Equal(0, code);
        using var doc = JsonDocument.Parse(output);
        var devices = doc.RootElement.GetProperty("devices").EnumerateArray().ToList();
        var cpu = Assert.Single(devices, d => d.GetProperty("id").GetString() == "ort-cpu");
        Assert.True(cpu.GetProperty("available").GetBoolean());
        Assert.Equal("cpu", cpu.GetProperty("kind").GetString());
        Assert.True(doc.RootElement.GetProperty("host").GetProperty("logical_cores").GetInt32() >= 1);
    }

    [Fact]
    public void Run_resnet18_writes_outputs_that_match_plain_onnx_runtime_within_1e_5()
    {
        var dir = Directory.CreateTempSubdirectory("accelsdk-cli-").FullName;
        try
        {
            var random = new Random(3);
            var input = AccelTensor.Create(Enumerable.Range(0, 3 * 224 * 224).Select(_ => (float)random.NextDouble() * 255f).ToArray(), 1, 3, 224, 224);
            var inputFile = Path.Combine(dir, "input_0.pb");
            OnnxTensors.WriteFile(input, inputFile);
            var outDir = Path.Combine(dir, "out");
            var (code, output, error) = Run("run", RepoPaths.ResNet18, "--backend", "ort", "--input", inputFile, "--output-dir", outDir);
            Assert.True(code == 0, error);
            Assert.Contains("on ort-cpu", output);
            var actual = OnnxTensors.ReadFile(Path.Combine(outDir, "output_0.pb"));

            using var session = new InferenceSession(RepoPaths.ResNet18);
            using var value = OrtValue.CreateTensorValueFromMemory(input.ToArray<float>(), input.ShapeArray);
            using var reference = session.Run(new RunOptions(), new[] { session.InputNames[0] }, new[] { value }, session.OutputNames);
            var expected = reference[0].GetTensorDataAsSpan<float>().ToArray();
            Assert.Equal(expected.Length, actual.ElementCount);
            var max = expected.Select((e, i) => Math.Abs(e - actual.AsSpan<float>()[i])).Max();
            Assert.True(max <= 1e-5, $"max abs difference {max}");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Run_without_inputs_uses_fixed_seed_inputs_and_is_reproducible()
    {
        var model = Path.Combine(RepoPaths.OnnxCase("node", "test_softmax_axis_1"), "model.onnx");
        var first = Run("run", model, "--backend", "ort-cpu");
        var second = Run("run", model, "--backend", "ort-cpu");
        Assert.Equal(0, first.Code);
        Assert.Equal(first.Out, second.Out);
    }

    [Fact]
    public void Select_reports_every_candidate_as_json()
    {
        var (code, output, error) = Run("select", Path.Combine(RepoPaths.OnnxCase("node", "test_relu"), "model.onnx"), "--json");
        Assert.True(code == 0, error);
        using var doc = JsonDocument.Parse(output);
        Assert.Equal("ort-cpu", doc.RootElement.GetProperty("chosen").GetString());
        var chosen = doc.RootElement.GetProperty("candidates").EnumerateArray().Single(c => c.GetProperty("device").GetString() == "ort-cpu");
        Assert.True(chosen.GetProperty("median_ms").GetDouble() > 0);
    }

    [Fact]
    public void Conformance_subset_writes_the_csv()
    {
        var csv = Path.Combine(Path.GetTempPath(), $"accelsdk-conf-{Guid.NewGuid():N}.csv");
        try
        {
            var (code, output, error) = Run("conformance", RepoPaths.OnnxTestData, "--backend", "ort", "--suite", "node", "--filter", "test_conv", "--csv", csv,
                "--expected", Path.Combine(RepoPaths.Root, "tests", "conformance", "ort-expected-failures.txt"));
            Assert.True(code == 0, error);
            Assert.Contains("pass", output);
            var lines = File.ReadAllLines(csv);
            Assert.Equal("suite,test,status,reason", lines[0]);
            Assert.Contains(lines, l => l.StartsWith("node,test_conv_with_strides_padding,pass,", StringComparison.Ordinal));
        }
        finally
        {
            File.Delete(csv);
        }
    }

    [Fact]
    public void Convert_writes_a_tflite_model_as_onnx_that_plain_onnx_runtime_runs()
    {
        var dir = Directory.CreateTempSubdirectory("accelsdk-cli-").FullName;
        try
        {
            var onnx = Path.Combine(dir, "face.onnx");
            var (code, output, error) = Run("convert", RepoPaths.Model("tflite/face_detection_short_range.tflite"), onnx);
            Assert.True(code == 0, error);
            Assert.Contains("face.onnx", output);

            var model = OnnxImporter.Load(onnx);
            var input = AccelSdk.Execution.SampleInputs.Random(model).Single();
            using var session = new InferenceSession(onnx);
            using var value = OrtValue.CreateTensorValueFromMemory(input.Value.ToArray<float>(), input.Value.ShapeArray);
            using var outputs = session.Run(new RunOptions(), new[] { input.Key }, new[] { value }, session.OutputNames);
            Assert.Equal(model.Graph.Outputs.Count, outputs.Count);
            Assert.All(outputs, o => Assert.True(o.GetTensorTypeAndShape().ElementCount > 0));

            var garbage = Path.Combine(dir, "garbage.tflite");
            File.WriteAllBytes(garbage, Enumerable.Range(0, 512).Select(i => (byte)(i * 31 % 256)).ToArray());
            (code, _, error) = Run("convert", garbage, Path.Combine(dir, "g.onnx"));
            Assert.Equal(1, code);
            Assert.Contains("garbage.tflite", error);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Theory]
    [InlineData("no-such-command")]
    [InlineData("run")]
    [InlineData("devices", "--bogus")]
    [InlineData("select", "m.onnx", "--policy", "fastest")]
    public void Usage_errors_exit_2(params string[] args)
    {
        var (code, _, error) = Run(args);
        Assert.Equal(2, code);
        Assert.StartsWith("accelsdk: error: ", error);
    }

    [Fact]
    public void Bad_model_and_bad_input_exit_1_with_one_line_naming_the_problem()
    {
        var dir = Directory.CreateTempSubdirectory("accelsdk-cli-").FullName;
        try
        {
            var corrupt = Path.Combine(dir, "corrupt.onnx");
            File.WriteAllBytes(corrupt, File.ReadAllBytes(RepoPaths.ResNet18)[..5000]);
            var (code, _, error) = Run("run", corrupt);
            Assert.Equal(1, code);
            Assert.Single(error.TrimEnd().Split('\n'));
            Assert.Contains("corrupt.onnx", error);

            var wrongShape = Path.Combine(dir, "x.pb");
            OnnxTensors.WriteFile(AccelTensor.Create(new[] { 1f, 2f }, 2), wrongShape);
            (code, _, error) = Run("run", Path.Combine(RepoPaths.OnnxCase("node", "test_relu"), "model.onnx"), "--backend", "ort", "--input", wrongShape);
            Assert.Equal(1, code);
            Assert.Contains("input 'x'", error);
            Assert.Contains("[3,4,5]", error);

            (code, _, error) = Run("run", Path.Combine(RepoPaths.OnnxCase("node", "test_relu"), "model.onnx"), "--backend", "tpu");
            Assert.Equal(1, code);
            Assert.Contains("unknown backend or device 'tpu'", error);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
