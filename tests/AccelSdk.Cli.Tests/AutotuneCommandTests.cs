using System.Text.Json;
using AccelSdk.Ir;
using AccelSdk.Onnx;
using AccelSdk.TestSupport;

namespace AccelSdk.Cli.Tests;

[Collection("console")]
public class AutotuneCommandTests
{
    private static (int Code, string Out, string Err) Run(params string[] args) => CliRunner.Run(args);

    [Fact]
    public void Autotune_blazeface_writes_both_reports_and_a_summary()
    {
        var dir = Directory.CreateTempSubdirectory("accelsdk-cli-autotune-").FullName;
        var model = RepoPaths.Model("blazeface/face_detection_front_128x128_barracuda.onnx");
        var (code, output, error) = Run("autotune", model, "--report", Path.Combine(dir, "report"), "--cache", Path.Combine(dir, "cache"));
        Assert.True(code == 0, error);
        Assert.Contains("kept", output, StringComparison.Ordinal);
        Assert.Contains("ort-cpu", output, StringComparison.Ordinal);
        Assert.Contains("nodes ", error, StringComparison.Ordinal); // progress lines (stderr is redirected here)
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "report", "report.json")));
        Assert.True(doc.RootElement.GetProperty("plan").GetProperty("measured_ms").GetDouble() > 0);
        Assert.Equal(Model.Load(model).Graph.Nodes.Count, doc.RootElement.GetProperty("nodes").GetArrayLength());
        Assert.True(File.Exists(Path.Combine(dir, "report", "report.html")));
        Assert.Equal("AcrossProcessors", doc.RootElement.GetProperty("partition_overlap").GetString());

        // Second run: from the cache.
        var (code2, output2, error2) = Run("autotune", model, "--report", Path.Combine(dir, "report2"), "--cache", Path.Combine(dir, "cache"));
        Assert.True(code2 == 0, error2);
        Assert.Contains("from cache", output2, StringComparison.Ordinal);

        // Another overlap setting is another tuning (node timings still come from the cache), reported as such.
        var (code3, output3, error3) = Run("autotune", model, "--report", Path.Combine(dir, "report3"), "--cache", Path.Combine(dir, "cache"), "--overlap", "devices");
        Assert.True(code3 == 0, error3);
        Assert.DoesNotContain("from cache", output3, StringComparison.Ordinal);
        using var doc3 = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "report3", "report.json")));
        Assert.Equal("AcrossDevices", doc3.RootElement.GetProperty("partition_overlap").GetString());
    }

    [Fact]
    public void Autotune_fails_naming_the_nodes_no_device_runs()
    {
        var dir = Directory.CreateTempSubdirectory("accelsdk-cli-autotune-").FullName;
        var graph = new Graph { Name = "unclaimed" };
        graph.Inputs.Add(new ValueInfo("x", new TensorType(ElementType.Float32, new TensorShape(1, 8))));
        graph.Outputs.Add(new ValueInfo("y", new TensorType(ElementType.Float32, new TensorShape(1, 8))));
        graph.Nodes.Add(new Node("Relu", new[] { "x" }, new[] { "r" }, "relu"));
        graph.Nodes.Add(new Node("Frobnicate", new[] { "r" }, new[] { "y" }, "frob", "test.custom"));
        var model = new Model(graph) { IrVersion = 8 };
        model.OpsetImports[""] = 13;
        model.OpsetImports["test.custom"] = 1;
        var path = Path.Combine(dir, "unclaimed.onnx");
        OnnxExporter.Save(model, path);

        var (code, _, error) = Run("autotune", path, "--report", Path.Combine(dir, "report"), "--no-cache");
        Assert.Equal(1, code);
        Assert.Contains("frob [test.custom::Frobnicate]", error, StringComparison.Ordinal);
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "report", "report.json")));
        Assert.Equal("frob", doc.RootElement.GetProperty("unsupported")[0].GetProperty("name").GetString());
    }

    [Fact]
    public void Autotune_without_report_is_a_usage_error()
    {
        var (code, _, error) = Run("autotune", RepoPaths.ResNet18);
        Assert.Equal(2, code);
        Assert.Contains("--report", error, StringComparison.Ordinal);
    }
}
