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
