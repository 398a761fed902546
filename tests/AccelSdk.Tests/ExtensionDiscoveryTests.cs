using System.Diagnostics;
using AccelSdk.TestSupport;

namespace AccelSdk.Tests;

public class ExtensionDiscoveryTests
{
    /// <summary>
    /// This test project references no format or backend. Dropping AccelSdk.Onnx.dll and its dependency beside the
    /// application (as an integrator copying a plugin would) must be enough for Model.Load to read .onnx files.
    /// Runs in a child process so the copied files do not leak into other tests.
    /// </summary>
    [Fact]
    public void An_extension_dropped_beside_the_application_is_discovered_with_its_dependencies()
    {
        var configuration = AppContext.BaseDirectory.Contains("/Release/", StringComparison.Ordinal) ? "Release" : "Debug";
        // The ONNX tests' output folder holds AccelSdk.Onnx.dll with its package dependency Google.Protobuf.dll.
        var onnxBin = Path.Combine(RepoPaths.Root, "tests", "AccelSdk.Onnx.Tests", "bin", configuration, "net10.0");
        Assert.True(File.Exists(Path.Combine(onnxBin, "AccelSdk.Onnx.dll")), $"{onnxBin} has no AccelSdk.Onnx.dll: build the solution ({configuration}) first");
        var app = Directory.CreateTempSubdirectory("accelsdk-dropin-").FullName;
        try
        {
            foreach (var file in Directory.GetFiles(AppContext.BaseDirectory)) File.Copy(file, Path.Combine(app, Path.GetFileName(file)));
            Assert.False(File.Exists(Path.Combine(app, "AccelSdk.Onnx.dll")));
            File.Copy(Path.Combine(onnxBin, "AccelSdk.Onnx.dll"), Path.Combine(app, "AccelSdk.Onnx.dll"));
            File.Copy(Path.Combine(onnxBin, "Google.Protobuf.dll"), Path.Combine(app, "Google.Protobuf.dll"));
            var model = Path.Combine(RepoPaths.OnnxCase("node", "test_relu"), "model.onnx");
            var psi = new ProcessStartInfo("dotnet", $"exec \"{Path.Combine(app, "AccelSdk.Tests.dll")}\"")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            psi.Environment["ACCELSDK_DROPIN_PROBE"] = model;
            using var process = Process.Start(psi)!;
            var output = process.StandardOutput.ReadToEnd();
            var error = process.StandardError.ReadToEnd();
            process.WaitForExit();
            Assert.True(process.ExitCode == 0, output + error);
            Assert.Contains("formats: onnx", output);
            Assert.Contains("nodes: 1 (Relu)", output);
        }
        finally
        {
            Directory.Delete(app, recursive: true);
        }
    }
}
