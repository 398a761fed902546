using AccelSdk.Ir;
using AccelSdk.Optimize.Data;
using AccelSdk.TestSupport;

namespace AccelSdk.Optimize.Tests;

/// <summary>Real models and real inputs shared by the tests, loaded once.</summary>
internal static class TestData
{
    private static readonly Lazy<Model> ResNet18Model = new(() => Model.Load(RepoPaths.ResNet18));
    private static readonly Lazy<Model> MiniLmModel = new(() => Model.Load(MiniLmPath));

    public static string MiniLmPath => RepoPaths.Model("minilm/model.onnx");

    public static string VocabPath => RepoPaths.Model("minilm/vocab.txt");

    public static string SentencesPath => Path.Combine(AppContext.BaseDirectory, "Data", "sentences.txt");

    /// <summary>127 other everyday sentences (none of <see cref="SentencesPath"/>), for calibrating on data the evaluation never sees.</summary>
    public static string CalibrationSentencesPath => Path.Combine(AppContext.BaseDirectory, "Data", "calibration-sentences.txt");

    /// <summary>Sample pictures of scikit-image, unpacked by scripts/setup-optimize.sh; fails loudly when missing.</summary>
    public static string ImageFolder(string split)
    {
        var path = Path.Combine(RepoPaths.Root, ".models", "images", split);
        if (!Directory.Exists(path)) throw new DirectoryNotFoundException($"{path} is missing: run scripts/setup.sh (it runs scripts/setup-optimize.sh)");
        return path;
    }

    public static Model ResNet18 => ResNet18Model.Value;

    public static Model MiniLm => MiniLmModel.Value;

    public static List<IReadOnlyDictionary<string, AccelTensor>> Sentences(Model model, int count = int.MaxValue, string? path = null) =>
        InputSets.FromSentences(model, File.ReadLines(path ?? SentencesPath).Take(count), WordPieceTokenizer.Load(VocabPath))
            .Cast<IReadOnlyDictionary<string, AccelTensor>>().ToList();

    public static List<IReadOnlyDictionary<string, AccelTensor>> Images(Model model, string split) =>
        InputSets.FromDirectory(model, ImageFolder(split)).Cast<IReadOnlyDictionary<string, AccelTensor>>().ToList();
}
