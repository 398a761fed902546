using AccelSdk.TfLite.Native;

namespace AccelSdk.TfLite.Tests;

/// <summary>
/// Where the tests find the real TFLite runtime and models. Both are required: a missing runtime or model fails the
/// test with the command that installs it, so CI can never pass by skipping.
/// </summary>
internal static class TestEnvironment
{
    public static string RepoRoot => AccelSdk.TestSupport.RepoPaths.Root;

    public static string ModelDir => Path.Combine(RepoRoot, ".models", "tflite");

    public static string Model(string fileName)
    {
        var path = Path.Combine(ModelDir, fileName);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"test model {path} is missing: run scripts/setup-tflite.sh (it fetches the models)");
        }
        return path;
    }

    /// <summary>The library scripts/build-tflite.sh builds for linux-x64, or null when it has not been built.</summary>
    public static string? BuiltLibrary
    {
        get
        {
            var path = Path.Combine(RepoRoot, "artifacts", "tflite", "linux-x64", TfLiteLibrary.FileName);
            return File.Exists(path) ? path : null;
        }
    }

    /// <summary>
    /// True when the loaded TFLite library is the one scripts/build-tflite.sh built with XNNPACK (its BUILD-INFO says
    /// <c>xnnpack=on</c>): it must then have the delegate. Otherwise (Debian's own TFLite, the fallback) it must not,
    /// and the caller checks the absence instead. Either way a library that contradicts its build fails the test.
    /// </summary>
    public static bool XnnPackOrAbsenceChecked()
    {
        var built = BuiltLibrary;
        var info = built is null ? null : Path.Combine(Path.GetDirectoryName(built)!, "BUILD-INFO");
        var builtWithXnnPack = info is not null && File.Exists(info) && File.ReadLines(info).Any(l => l.StartsWith("xnnpack=on", StringComparison.Ordinal));
        var loaded = TfLiteLibrary.LoadedFrom;
        var loadedIsBuilt = built is not null && loaded is not null && File.Exists(loaded) && new FileInfo(loaded).Length == new FileInfo(built).Length;
        if (builtWithXnnPack && loadedIsBuilt)
        {
            Assert.True(TfLiteLibrary.HasXnnPack, $"{loaded} was built with XNNPACK ({info}) but has no TfLiteXNNPackDelegateCreate");
            return true;
        }
        Assert.False(TfLiteLibrary.HasXnnPack, $"{loaded} has XNNPACK, but it is not the library scripts/build-tflite.sh built with it");
        return false;
    }

    /// <summary>Fails the calling test unless the TFLite runtime is loaded.</summary>
    public static void RequireRuntime()
    {
        if (!TfLiteLibrary.IsAvailable)
        {
            Assert.Fail("The TFLite runtime is not loaded. Build it (bash scripts/build-tflite.sh, then rebuild this project) " +
                "or run scripts/setup-tflite.sh and run the tests with " +
                "'dotnet test -- RunConfiguration.DotNetHostPath=<the dotnet it prints>'. Loader said: " + TfLiteLibrary.Failure);
        }
    }
}
