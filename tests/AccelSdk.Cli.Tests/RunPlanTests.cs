using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using AccelSdk.TestSupport;

namespace AccelSdk.Cli.Tests;

/// <summary><c>run</c> without <c>--backend</c>: the tuned plan from the cache, else ort-cpu; never a measurement of every device.</summary>
[Collection("console")]
public sealed class RunPlanTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("accelsdk-cli-run-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Relu => Path.Combine(RepoPaths.OnnxCase("node", "test_relu"), "model.onnx");

    [Fact]
    public void Without_a_tuned_plan_it_runs_on_ort_cpu_and_says_so_on_stderr()
    {
        var cache = Directory.CreateDirectory(Path.Combine(_dir, "cache")).FullName;
        var (code, output, error) = CliRunner.Run("run", Relu, "--cache", cache);
        Assert.True(code == 0, error);
        Assert.Contains("accelsdk: running on ort-cpu, the default: no tuned plan for this model and machine", error, StringComparison.Ordinal);
        // Standard output is what `--backend ort-cpu` prints: parseable as before.
        var explicitRun = CliRunner.Run("run", Relu, "--backend", "ort-cpu");
        Assert.Equal(explicitRun.Out, output);
        Assert.StartsWith("model.onnx on ort-cpu", output, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(cache)); // nothing was measured, nothing cached
    }

    [Fact]
    public void With_a_tuned_plan_in_the_cache_it_runs_that_plan()
    {
        var cache = Path.Combine(_dir, "cache");
        var tuned = CliRunner.Run("autotune", Relu, "--report", Path.Combine(_dir, "report"), "--cache", cache);
        Assert.True(tuned.Code == 0, tuned.Err);
        // The tuner keeps ort-cpu for a lone Relu; move the cached plan to ilgpu-cpu so that following it is visible.
        var cacheFile = Assert.Single(Directory.GetFiles(cache, "autotune-*.json"));
        // The cache trusts a body whose recorded SHA-256 matches (same user, same machine): record the edited body's.
        var document = JsonNode.Parse(File.ReadAllText(cacheFile))!;
        var body = document["body"]!;
        var plan = Assert.Single(body["plans"]!.AsObject()).Value!;
        plan["placements"] = new JsonArray("ilgpu-cpu");
        document["body_sha256"] = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(body.ToJsonString())));
        File.WriteAllText(cacheFile, document.ToJsonString());

        var (code, output, error) = CliRunner.Run("run", Relu, "--cache", cache);
        Assert.True(code == 0, error);
        Assert.Contains($"accelsdk: running on ilgpu-cpu: the tuned plan cached in {cacheFile}", error, StringComparison.Ordinal);
        Assert.StartsWith("model.onnx on ilgpu-cpu", output, StringComparison.Ordinal);
        var onOrt = CliRunner.Run("run", Relu, "--backend", "ort-cpu");
        Assert.Equal(onOrt.Out.Replace("on ort-cpu", "on ilgpu-cpu", StringComparison.Ordinal), output);
    }
}
