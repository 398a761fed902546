using AccelSdk.TfLite.Native;

namespace AccelSdk.TfLite.Tests;

/// <summary>
/// Which TFLite library the tests run on: the one built here (scripts/build-tflite.sh), copied beside this assembly
/// under runtimes/linux-x64/native and loaded by the ordinary dotnet host, or, when it has not been built, the forky
/// fallback under the patched host.
/// </summary>
public sealed class LibraryLoadingTests
{
    [Fact]
    public void The_packaged_runtimes_folder_beside_the_assembly_is_searched_first_after_explicit_paths()
    {
        var assemblyDir = Path.GetDirectoryName(typeof(TfLiteLibrary).Assembly.Location)!;
        var first = TfLiteLibrary.PackagedPaths().First();
        Assert.Equal(Path.Combine(assemblyDir, "runtimes", "linux-x64", "native", "libtensorflowlite_c.so"), first);
    }

    [Fact]
    public void The_library_built_here_is_loaded_from_the_runtimes_folder_in_the_ordinary_host_else_the_forky_fallback()
    {
        TestEnvironment.RequireRuntime();
        var loaded = TfLiteLibrary.LoadedFrom!;
        var host = Environment.ProcessPath ?? "";
        if (TestEnvironment.BuiltLibrary is { } built)
        {
            Assert.EndsWith(Path.Combine("runtimes", "linux-x64", "native", "libtensorflowlite_c.so"), loaded);
            Assert.Equal(new FileInfo(built).Length, new FileInfo(loaded).Length);
            Assert.DoesNotContain(".tflite-runtime", host);
        }
        else
        {
            Assert.Equal("libtensorflow-lite.so.2.14.1", loaded);
            Assert.Contains(".tflite-runtime", host);
        }
    }
}
