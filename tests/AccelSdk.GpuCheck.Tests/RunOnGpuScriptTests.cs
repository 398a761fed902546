using System.Diagnostics;
using AccelSdk.TestSupport;

namespace AccelSdk.GpuCheck.Tests;

/// <summary>tests/gpu/run-on-gpu.sh on a machine without an NVIDIA GPU: it must say so and exit 3 before anything else.</summary>
public class RunOnGpuScriptTests
{
    [Fact]
    public void WithoutNvidiaSmiTheScriptSaysNoGpuAndExits3()
    {
        var output = Directory.CreateTempSubdirectory("gpu-check-out").FullName;
        var start = new ProcessStartInfo("bash", new[] { Path.Combine(RepoPaths.Root, "tests", "gpu", "run-on-gpu.sh") })
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            Environment = { ["OUT"] = output, ["ACCELSDK_GPU_CHECK_NVIDIA_SMI"] = "/nonexistent/nvidia-smi" },
        };
        using var process = Process.Start(start)!;
        var text = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
        Assert.True(process.WaitForExit(30_000), "run-on-gpu.sh did not end within 30 s");
        Assert.Equal(3, process.ExitCode);
        Assert.Contains("no NVIDIA GPU found", text);
        Assert.Contains("no NVIDIA GPU found", File.ReadAllText(Path.Combine(output, "summary.md")));
        Assert.True(File.Exists(Path.Combine(output, "run.log")));
        Directory.Delete(output, recursive: true);
    }
}
