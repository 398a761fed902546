using System.Security.Cryptography;
using System.Text.Json;
using AccelSdk.Ir;
using AccelSdk.Onnx;
using AccelSdk.TestSupport;

namespace AccelSdk.Cli.Tests;

[Collection("console")]
public sealed class OptimizeCommandsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("accelsdk-cli-optimize-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static (int Code, string Out, string Err) Run(params string[] args) => CliRunner.Run(args);

    private static string Images(string split) => Path.Combine(RepoPaths.Root, ".models", "images", split);

    [Fact]
    public void Quantize_static_writes_the_model_and_a_report_with_size_latency_and_accuracy()
    {
        var output = Path.Combine(_dir, "resnet18-int8.onnx");
        var reportDir = Path.Combine(_dir, "report");
        var hash = SHA256.HashData(File.ReadAllBytes(RepoPaths.ResNet18));
        var (code, stdout, stderr) = Run("quantize", RepoPaths.ResNet18, "--mode", "static", "--calibration", Images("calibration"),
            "--eval", Images("evaluation"), "--out", output, "--report", reportDir, "--runs", "2");
        Assert.True(code == 0, stderr);
        Assert.Contains("SPEED-UP", stdout);
        Assert.Equal(hash, SHA256.HashData(File.ReadAllBytes(RepoPaths.ResNet18)));
        Assert.Contains(OnnxImporter.Load(output).Graph.Nodes, n => n.OpType == "QuantizeLinear");
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(reportDir, "report.json")));
        var root = json.RootElement;
        Assert.Equal("static-int8", root.GetProperty("optimization").GetString());
        Assert.True(root.GetProperty("optimized_bytes").GetInt64() < root.GetProperty("baseline_bytes").GetInt64());
        // One row per available device; a backend that cannot run QDQ says why instead of giving a number.
        var rows = root.GetProperty("latency").EnumerateArray().ToList();
        Assert.All(rows, r => Assert.True(r.TryGetProperty("speedup", out _) || r.TryGetProperty("error", out _)));
        var ort = rows.Single(r => r.GetProperty("device").GetString() == "ort-cpu");
        Assert.True(ort.GetProperty("speedup").GetDouble() > 0);
        Assert.True(root.GetProperty("accuracy")[0].GetProperty("min_cosine").GetDouble() >= 0.99);
        Assert.True(File.Exists(Path.Combine(reportDir, "report.txt")));
    }

    [Fact]
    public void Quantize_dynamic_takes_an_opset_11_encoder_at_its_own_opset()
    {
        var output = Path.Combine(_dir, "arctic-int8.onnx");
        var (code, stdout, stderr) = Run("quantize", RepoPaths.Model("arctic/model.onnx"), "--mode", "dynamic", "--out", output, "--runs", "1");
        Assert.True(code == 0, stderr);
        Assert.Contains("written to", stdout);
        var written = OnnxImporter.Load(output);
        Assert.Equal(11, written.OpsetOf(""));
        Assert.Equal(36, written.Graph.Nodes.Count(n => n.OpType == "MatMulInteger"));
    }

    [Fact]
    public void Prune_structured_with_calibration_gives_a_smaller_file_that_tracks_the_original_and_an_html_report()
    {
        // About a minute on a loaded 2-core machine: refit of 21 layers on 8 images, then the report.
        var output = Path.Combine(_dir, "pruned.onnx");
        var reportDir = Path.Combine(_dir, "prune-report");
        var (code, stdout, stderr) = Run("prune", RepoPaths.ResNet18, "--sparsity", "0.3", "--structured", "--calibration", Images("calibration"),
            "--eval", Images("evaluation"), "--out", output, "--report", reportDir, "--runs", "1");
        Assert.True(code == 0, stderr);
        Assert.Contains("prune-structured", stdout);
        Assert.True(new FileInfo(output).Length < new FileInfo(RepoPaths.ResNet18).Length * 0.8);
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(reportDir, "report.json")));
        Assert.True(json.RootElement.GetProperty("accuracy")[0].GetProperty("mean_cosine").GetDouble() >= 0.95);
        Assert.Equal(22, json.RootElement.GetProperty("layers").GetArrayLength());
        Assert.Contains("Per-layer choices", File.ReadAllText(Path.Combine(reportDir, "report.html")));
    }

    [Fact]
    public void Bad_input_gets_a_clear_error_and_no_output()
    {
        var output = Path.Combine(_dir, "x.onnx");
        var empty = Directory.CreateDirectory(Path.Combine(_dir, "empty")).FullName;
        var (code, _, err) = Run("quantize", RepoPaths.ResNet18, "--mode", "static", "--calibration", empty, "--out", output);
        Assert.Equal(1, code);
        Assert.Contains("no usable samples", err);
        (code, _, err) = Run("prune", RepoPaths.ResNet18, "--sparsity", "1.5", "--out", output);
        Assert.Equal(1, code);
        Assert.Contains("sparsity", err);
        (code, _, err) = Run("quantize", RepoPaths.ResNet18, "--mode", "dynamic", "--out", RepoPaths.ResNet18);
        Assert.Equal(2, code);
        Assert.Contains("is the input model", err);
        (code, _, err) = Run("quantize", RepoPaths.ResNet18, "--mode", "static", "--out", output);
        Assert.Equal(2, code);
        Assert.Contains("--calibration", err);
        Assert.False(File.Exists(output));
    }
}
