using AccelSdk.Backends;
using AccelSdk.Ilgpu;

namespace AccelSdk.Ilgpu.Tests;

/// <summary>The NuGet package folder at build time, where PackageDownload put the reference models.</summary>
[AttributeUsage(AttributeTargets.Assembly)]
public sealed class NuGetPackageRootAttribute(string path) : Attribute
{
    public string Path { get; } = path;
}

/// <summary>One ILGPU backend for the whole test run: accelerators and compiled kernels are shared like in an application.</summary>
public static class Shared
{
    private static readonly Lazy<IlgpuBackend> LazyBackend = new(() => new IlgpuBackend());

    public static IlgpuBackend Backend => LazyBackend.Value;

    public static Device Cpu => Backend.Devices.Single(d => d.Id == "ilgpu-cpu");

    /// <summary>The repository root (the folder holding Directory.Build.props).</summary>
    public static string RepoRoot
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Directory.Build.props"))) dir = dir.Parent;
            return dir?.FullName ?? throw new InvalidOperationException("repository root not found above " + AppContext.BaseDirectory);
        }
    }

    public const string OnnxTestData = "/usr/share/libonnx-testdata/data";

    public static string PackageRoot =>
        typeof(Shared).Assembly.GetCustomAttributes(typeof(NuGetPackageRootAttribute), false).Cast<NuGetPackageRootAttribute>().Single().Path;
}
