namespace AccelSdk.TestSupport;

/// <summary>Locations of the repository, the fetched models and the ONNX test data, for tests.</summary>
internal static class RepoPaths
{
    public static string Root { get; } = FindRoot();

    /// <summary>Debian libonnx-testdata's ONNX backend test suite.</summary>
    public const string OnnxTestData = "/usr/share/libonnx-testdata/data";

    /// <summary>The suites of the ONNX backend test data.</summary>
    public static readonly string[] OnnxSuites = { "node", "pytorch-converted", "pytorch-operator", "simple" };

    /// <summary>A model fetched by scripts/fetch-models.sh; fails loudly (never skips) when it is missing.</summary>
    public static string Model(string relative)
    {
        var path = Path.Combine(Root, ".models", relative);
        if (!File.Exists(path)) throw new FileNotFoundException($"{path} is missing: run scripts/setup.sh (it fetches the models listed in models/models.tsv)");
        return path;
    }

    public static string ResNet18 => Model("resnet18/ResNet18.onnx");

    /// <summary>A case folder of the ONNX suite; fails loudly when the test data is not installed.</summary>
    public static string OnnxCase(string suite, string name)
    {
        var path = Path.Combine(OnnxTestData, suite, name);
        if (!Directory.Exists(path)) throw new DirectoryNotFoundException($"{path} is missing: run scripts/setup.sh (installs libonnx-testdata)");
        return path;
    }

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "AccelSdk.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("AccelSdk.sln not found above " + AppContext.BaseDirectory);
    }
}
