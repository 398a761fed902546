using AccelSdk.Onnx;
using AccelSdk.TestSupport;

namespace AccelSdk.Cli.Tests;

/// <summary>Issue 15's CLI wording: each problem is named for what it is.</summary>
[Collection("console")]
public sealed class CliWordingTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("accelsdk-cli-wording-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Relu => Path.Combine(RepoPaths.OnnxCase("node", "test_relu"), "model.onnx");

    private static string ReluInput => Path.Combine(RepoPaths.OnnxCase("node", "test_relu"), "test_data_set_0", "input_0.pb");

    private static string OneLine(string error) => Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));

    [Fact]
    public void A_directory_given_as_the_model_is_called_a_directory()
    {
        var (code, _, error) = CliRunner.Run("run", _dir);
        Assert.Equal(2, code);
        Assert.Equal($"accelsdk: error: MODEL '{_dir}' is a directory, not a file (see 'accelsdk run --help')", OneLine(error));
    }

    [Fact]
    public void An_unknown_flag_is_called_an_unknown_option()
    {
        var (code, _, error) = CliRunner.Run("run", Relu, "--frobnicate", "--backend", "ort-cpu");
        Assert.Equal(2, code);
        Assert.Equal("accelsdk: error: unknown option '--frobnicate' (see 'accelsdk run --help')", OneLine(error));
    }

    [Fact]
    public void More_input_files_than_model_inputs_are_refused_with_both_counts()
    {
        var (code, output, error) = CliRunner.Run("run", Relu, "--backend", "ort-cpu", "--input", ReluInput, "--input", ReluInput);
        Assert.Equal(1, code);
        Assert.Equal("", output);
        Assert.Contains("model.onnx takes 1 input(s), 2 --input files given", OneLine(error), StringComparison.Ordinal);

        // Two named files for the same input: not silently one overwriting the other.
        var named = Path.Combine(_dir, "x.pb");
        OnnxTensors.WriteFile(OnnxTensors.ReadFile(ReluInput), named);
        var twoInputs = Path.Combine(RepoPaths.OnnxCase("node", "test_add"), "model.onnx");
        (code, _, error) = CliRunner.Run("run", twoInputs, "--backend", "ort-cpu", "--input", named, "--input", named);
        Assert.Equal(1, code);
        Assert.Contains("2 --input files given but they fill only 1", OneLine(error), StringComparison.Ordinal);
    }

    [Fact]
    public void An_output_dir_that_is_a_file_is_named_as_such()
    {
        var file = Path.Combine(_dir, "taken");
        File.WriteAllText(file, "");
        var (code, _, error) = CliRunner.Run("run", Relu, "--backend", "ort-cpu", "--output-dir", file);
        Assert.Equal(2, code);
        Assert.Contains($"--output-dir '{file}' is a file, not a directory", OneLine(error), StringComparison.Ordinal);
    }
}
