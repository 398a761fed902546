using System.Diagnostics;
using AccelSdk.Onnx;
using AccelSdk.TestSupport;

namespace AccelSdk.Cluster.Tests;

/// <summary>
/// <c>accelsdk cluster status</c>, <c>accelsdk cluster run</c> and <c>accelsdk cluster autotune</c> as real processes
/// against the two shared nodes, and the node verb's command-line errors. About 1-3 minutes (each CLI process is a cold
/// .NET start; the autotune tunes BlazeFace's back model on one node and measures links and splits).
/// </summary>
[Collection("cluster")]
public sealed class CliClusterTests(TwoNodeCluster cluster) : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("accelsdk-cli-cluster-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void Status_lists_every_node_with_its_devices()
    {
        var (code, stdout, stderr) = Cli("cluster", "status", "--cluster", cluster.Redis.Connection);
        Assert.True(code == 0, stderr);
        Assert.Contains("2 node(s)", stdout);
        foreach (var node in cluster.Nodes)
            Assert.Contains($"{node.Name}: process {node.ProcessId}", stdout);
        Assert.Contains("ort-cpu", stdout);
    }

    [Fact]
    public void Run_places_the_model_and_writes_outputs_equal_to_the_local_run()
    {
        var model = RepoPaths.Model("blazeface/face_detection_front_128x128_barracuda.onnx");
        var (code, stdout, stderr) = Cli("cluster", "run", model, "--cluster", cluster.Redis.Connection, "--backend", "ort-cpu", "--output-dir", _directory);
        Assert.True(code == 0, stderr);
        Assert.Contains("on node ", stdout);
        Assert.Contains("accelsdk: measure", stderr);
        using var local = LocalReference.Open(model);
        var expected = local.Run(LocalReference.Inputs(model, 42));
        var written = Enumerable.Range(0, expected.Count).Select(i => OnnxTensors.ReadFile(Path.Combine(_directory, $"output_{i}.pb"))).ToList();
        LocalReference.AssertSameBits(expected, written, "cluster run");
    }

    [Theory]
    [InlineData("node --cluster mysql:somewhere", "--cluster")]
    [InlineData("node --port 70000", "--port")]
    [InlineData("cluster status --gateway-port x", "--gateway-port")]
    [InlineData("cluster run", "MODEL")]
    public void Bad_options_are_one_line_usage_errors(string commandLine, string named)
    {
        var (code, _, stderr) = Cli(commandLine.Split(' '));
        Assert.Equal(2, code);
        var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("accelsdk: error: ", line);
        Assert.Contains(named, line);
    }

    [Fact]
    public void A_client_command_with_no_cluster_there_fails_with_one_line()
    {
        var (code, _, stderr) = Cli("cluster", "status", "--cluster", $"localhost:{FreePorts.Next()}", "--gateway-port", FreePorts.Next().ToString());
        Assert.Equal(1, code);
        var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("could not connect to the cluster", line);
    }

    [Fact]
    public void Cluster_autotune_reports_links_layers_and_the_plan_taken_from_the_fleet()
    {
        // A model no other test tunes on this cluster: node a tunes it first, node b (same fingerprint) takes a's plan.
        var model = RepoPaths.Model("blazeface/face_detection_back_256x256_barracuda.onnx");
        var report = Path.Combine(_directory, "cluster-report");
        var (code, stdout, stderr) = Cli(TimeSpan.FromMinutes(8), "cluster", "autotune", model, "--cluster", cluster.Redis.Connection, "--backend", "ort-cpu",
            "--node", "a", "--node", "b", "--report", report);
        Assert.True(code == 0, stderr);
        foreach (var stage in new[] { "upload", "prepare", "link", "profile", "split", "runoff", "placement" })
            Assert.Contains($"s {stage}", stderr);
        Assert.Contains("fleet cache: tuned by node 'a'", stdout);

        using var json = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(report, "report.json")));
        var root = json.RootElement;
        var nodes = root.GetProperty("nodes").EnumerateArray().ToDictionary(n => n.GetProperty("name").GetString()!);
        Assert.Equal("measured", nodes["a"].GetProperty("tuning_source").GetString());
        Assert.False(nodes["a"].GetProperty("plan_from_fleet").GetBoolean());
        Assert.Equal("fleet:a", nodes["b"].GetProperty("tuning_source").GetString());
        Assert.True(nodes["b"].GetProperty("plan_from_fleet").GetBoolean());
        Assert.Contains(nodes["a"].GetProperty("devices").EnumerateArray(), d => d.GetProperty("id").GetString() == "ort-cpu");
        Assert.Equal(4, root.GetProperty("links").GetArrayLength());
        Assert.NotEqual(0, root.GetProperty("splits").GetArrayLength());
        var layerCount = AccelSdk.Ir.Model.Load(model).Graph.Nodes.Count;
        Assert.Equal(layerCount, root.GetProperty("layers").GetArrayLength());
        Assert.All(root.GetProperty("layers").EnumerateArray(), l => Assert.NotEqual(0, l.GetProperty("nodes").GetArrayLength()));
        Assert.True(root.GetProperty("kept_measured_ms").GetDouble() > 0);
        Assert.True(root.GetProperty("kept_predicted_ms").GetDouble() > 0);

        var html = File.ReadAllText(Path.Combine(report, "report.html"));
        Assert.Contains("fleet cache: tuned by node &#39;a&#39;", html);
        Assert.Contains("Measured links", html);
        Assert.Contains("Where each layer runs", html);
        Assert.Contains("Predicted against measured", html);
        Assert.DoesNotContain("<script src", html);
        Assert.DoesNotContain("<link", html);
    }

    internal static (int Code, string Out, string Err) Cli(params string[] args) => Cli(TimeSpan.FromSeconds(120), args);

    internal static (int Code, string Out, string Err) Cli(TimeSpan timeout, params string[] args)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "AccelSdk.Cli.dll"));
        foreach (var a in args) info.ArgumentList.Add(a);
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"accelsdk {string.Join(' ', args)} ran over {timeout.TotalSeconds:0} s");
        }
        return (process.ExitCode, stdout.Result, stderr.Result);
    }
}
