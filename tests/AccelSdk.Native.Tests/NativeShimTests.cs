using Xunit;

namespace AccelSdk.Native.Tests;

/// <summary>Shim discovery, including the failure an integrator sees when the shim is not deployed.</summary>
public sealed class NativeShimTests
{
    [Fact]
    public void MissingShimNamesEveryPathItLookedIn()
    {
        var empty = Directory.CreateTempSubdirectory("accelsdk-noshim-").FullName;
        try
        {
            var other = Path.Combine(empty, "runtimes", "linux-x64", "native");
            var error = Assert.Throws<NativeShimUnavailableException>(() => NativeShim.Load("accelsdk_probe", new[] { empty, other }));
            Assert.Equal("libaccelsdk_probe.so", error.Library);
            Assert.Equal(new[] { Path.Combine(empty, "libaccelsdk_probe.so"), Path.Combine(other, "libaccelsdk_probe.so") }, error.SearchedPaths);
            Assert.Contains(Path.Combine(empty, "libaccelsdk_probe.so"), error.Message);
            Assert.IsAssignableFrom<AccelSdkException>(error);
        }
        finally
        {
            Directory.Delete(empty, recursive: true);
        }
    }

    [Fact]
    public void AFileThatIsNotALibraryIsReportedNotCrashed()
    {
        var dir = Directory.CreateTempSubdirectory("accelsdk-badshim-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(dir, "libaccelsdk_probe.so"), "not an ELF file");
            var error = Assert.Throws<NativeShimUnavailableException>(() => NativeShim.Load("accelsdk_probe", new[] { dir }));
            Assert.Contains("does not load", error.Reason);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void SearchOrderPutsTheOverrideFirstThenTheRuntimesFolder()
    {
        var dirs = NativeShim.SearchDirectories();
        Assert.Contains(Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "runtimes", NativeShim.RuntimeIdentifier, "native")), dirs);
        if (Environment.GetEnvironmentVariable(NativeShim.DirectoryVariable) is { Length: > 0 } overrideDir)
            Assert.Equal(Path.TrimEndingDirectorySeparator(Path.GetFullPath(overrideDir)), dirs[0]);
    }

    [Fact]
    public void ProbeReportsUnavailableInAProcessWithoutTheShim()
    {
        // A separate process whose only copy of the shim is removed: the probe must say so, not crash.
        var source = AppContext.BaseDirectory;
        var copy = Directory.CreateTempSubdirectory("accelsdk-noshim-app-").FullName;
        try
        {
            foreach (var file in Directory.EnumerateFiles(source))
                File.Copy(file, Path.Combine(copy, Path.GetFileName(file)));
            var psi = new System.Diagnostics.ProcessStartInfo("dotnet", $"exec \"{Path.Combine(copy, "AccelSdk.Native.Tests.dll")}\" --probe-child")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            psi.Environment.Remove(NativeShim.DirectoryVariable);
            using var process = System.Diagnostics.Process.Start(psi)!;
            var output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
            Assert.True(process.WaitForExit(60_000));
            Assert.Equal(0, process.ExitCode);
            Assert.Contains("available=False", output);
            Assert.Contains(Path.Combine(copy, "runtimes", NativeShim.RuntimeIdentifier, "native", "libaccelsdk_probe.so"), output);
        }
        finally
        {
            Directory.Delete(copy, recursive: true);
        }
    }
}
