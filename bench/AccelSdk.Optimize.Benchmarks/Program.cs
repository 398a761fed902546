using System.Globalization;
using AccelSdk.Ir;
using AccelSdk.Optimize;
using AccelSdk.Optimize.Calibration;
using AccelSdk.Optimize.Conversion;
using AccelSdk.Optimize.Pruning;
using AccelSdk.Optimize.Data;
using AccelSdk.Optimize.MixedPrecision;
using AccelSdk.Optimize.Quantization;
using AccelSdk.Optimize.Reports;
using AccelSdk.TestSupport;

// Before/after rows for issue 7: each scenario optimizes a real model, then measures the original and the optimized
// model in the same run (interleaved, medians) on every available device, and accuracy on real held-out inputs.
// usage: dotnet run -c Release --project bench/AccelSdk.Optimize.Benchmarks -- [--runs N] [SCENARIO ...]
// (mixed-vs-uniform: ResNet18 mixed precision against all-int8 and all-float32 side by side, and the autotuner under the same budget)
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;

var runs = 30;
var maxCosineDrop = 0.005;
var selected = new List<string>();
for (var i = 0; i < args.Length; i++)
{
    if (args[i] == "--runs") runs = int.Parse(args[++i], CultureInfo.InvariantCulture);
    else if (args[i] == "--max-cosine-drop") maxCosineDrop = double.Parse(args[++i], CultureInfo.InvariantCulture);
    else selected.Add(args[i]);
}
if (selected.Remove("mixed-vs-uniform"))
{
    MixedVersusUniform.Run(runs, maxCosineDrop);
    if (selected.Count == 0) return;
}
var scenarios = Scenarios.All;
if (selected.Count > 0) scenarios = scenarios.Where(s => selected.Contains(s.Name)).ToArray();
var outDir = Path.Combine(RepoPaths.Root, "artifacts", "bench", "optimize");
foreach (var scenario in scenarios)
{
    var (baseline, result, evaluation, source) = scenario.Run();
    var report = ModelEvaluator.Compare(baseline, result, evaluation, new EvaluationOptions { MeasuredRuns = runs, WarmupRuns = 5 }, source);
    Console.WriteLine($"== {scenario.Name}");
    Console.WriteLine(ReportWriter.ToTable(report));
    ReportWriter.Save(report, Path.Combine(outDir, scenario.Name));
}

internal sealed record Scenario(string Name, Func<(Model Baseline, OptimizationResult Result, List<IReadOnlyDictionary<string, AccelTensor>> Evaluation, string Source)> Run);

internal static class Scenarios
{
    private static Model ResNet18 => Model.Load(RepoPaths.ResNet18);

    private static Model BlazeFace256 => Model.Load(RepoPaths.Model("blazeface/face_detection_back_256x256_barracuda.onnx"));

    private static Model MiniLm => Model.Load(RepoPaths.Model("minilm/model.onnx"));

    private static List<IReadOnlyDictionary<string, AccelTensor>> AugmentedImagesOf(Model model, string split) =>
        InputSets.FromDirectory(model, Images(split), preprocessing: new ImagePreprocessing { Augment = true }).Cast<IReadOnlyDictionary<string, AccelTensor>>().ToList();

    private static string Images(string split) => Path.Combine(RepoPaths.Root, ".models", "images", split);

    private static List<IReadOnlyDictionary<string, AccelTensor>> ImagesOf(Model model, string split) =>
        InputSets.FromDirectory(model, Images(split)).Cast<IReadOnlyDictionary<string, AccelTensor>>().ToList();

    private static List<IReadOnlyDictionary<string, AccelTensor>> SentencesOf(Model model, string vocab = "minilm/vocab.txt", string file = "sentences.txt") =>
        InputSets.FromSentences(model, File.ReadLines(Path.Combine(AppContext.BaseDirectory, "Data", file)),
            WordPieceTokenizer.Load(RepoPaths.Model(vocab))).Cast<IReadOnlyDictionary<string, AccelTensor>>().ToList();

    /// <summary>
    /// Heads and FFN width pruned, refitted on the 127 calibration sentences, judged on the 40 others. With
    /// <paramref name="longFirst"/> the first evaluation input (the one latency is measured on) is the 40 sentences as
    /// one 128-token text instead of a 12-token sentence, where per-run overhead weighs less.
    /// </summary>
    private static (Model, OptimizationResult, List<IReadOnlyDictionary<string, AccelTensor>>, string) TransformerPruned(Model m, string vocab, double heads, double ffn, bool longFirst = false)
    {
        var evaluation = SentencesOf(m, vocab);
        if (longFirst)
        {
            var text = string.Join(" ", File.ReadLines(Path.Combine(AppContext.BaseDirectory, "Data", "sentences.txt")));
            evaluation.Insert(0, InputSets.FromSentences(m, new[] { text }, WordPieceTokenizer.Load(RepoPaths.Model(vocab)), maxLength: 128).Single());
        }
        var result = ChannelPruner.Prune(m, new PruningOptions { Sparsity = ffn, HeadSparsity = heads }, SentencesOf(m, vocab, "calibration-sentences.txt"));
        return (m, result, evaluation, $"{(longFirst ? "a 128-token text (latency) and " : "")}40 English sentences (sentences.txt); refit on the 127 of calibration-sentences.txt; {heads:P0} of the heads, {ffn:P0} of the FFN width");
    }

    private static Model Arctic => Model.Load(RepoPaths.Model("arctic/model.onnx"));

    private static Model PpOcrDetector => Model.Load(RepoPaths.Model("ppocr/ch_PP-OCRv4_det_infer.onnx"));

    private static List<IReadOnlyDictionary<string, AccelTensor>> PicturesOf(Model model, string split, int size) =>
        InputSets.FromDirectory(model, Images(split), preprocessing: new ImagePreprocessing { DefaultSize = size }).Cast<IReadOnlyDictionary<string, AccelTensor>>().ToList();

    public static readonly Scenario[] All =
    {
        new("minilm-dynamic-int8", () =>
        {
            var m = MiniLm;
            return (m, DynamicQuantizer.Quantize(m), SentencesOf(m), "40 English sentences (tests/AccelSdk.Optimize.Tests/Data/sentences.txt)");
        }),
        new("minilm-prune-heads25-ffn30-refit", () => TransformerPruned(MiniLm, "minilm/vocab.txt", 0.25, 0.3)),
        new("minilm-prune-heads25-ffn30-refit-128-tokens", () => TransformerPruned(MiniLm, "minilm/vocab.txt", 0.25, 0.3, longFirst: true)),
        new("arctic-opset11-prune-heads25-ffn30-refit", () => TransformerPruned(Arctic, "arctic/vocab.txt", 0.25, 0.3)),
        new("arctic-opset11-dynamic-int8", () =>
        {
            var m = Arctic;
            return (m, DynamicQuantizer.Quantize(m), SentencesOf(m, "arctic/vocab.txt"), "40 English sentences, arctic-embed-xs (opset 11) at its own opset");
        }),
        new("ppocr-det-opset11-static-int8", () =>
        {
            var m = PpOcrDetector;
            var options = new StaticQuantizationOptions { Calibration = new CalibrationOptions { Method = CalibrationMethod.Percentile }, ExcludedOpTypes = new[] { "Add" } };
            return (m, StaticQuantizer.Quantize(m, PicturesOf(m, "calibration", 256), options), PicturesOf(m, "evaluation", 256),
                "8 scikit-image evaluation pictures at 256x256 (calibrated on 8 others), residual Adds in float32");
        }),
        new("resnet18-dynamic-int8-conv", () =>
        {
            var m = ResNet18;
            return (m, DynamicQuantizer.Quantize(m, new DynamicQuantizationOptions { QuantizeConv = true }), ImagesOf(m, "evaluation"), "scikit-image evaluation images");
        }),
        new("resnet18-fp16", () =>
        {
            var m = ResNet18;
            return (m, Fp16Converter.Convert(m), ImagesOf(m, "evaluation"), "scikit-image evaluation images");
        }),
        new("minilm-fp16", () =>
        {
            var m = MiniLm;
            return (m, Fp16Converter.Convert(m), SentencesOf(m), "40 English sentences");
        }),
        new("resnet18-prune-structured-30", () =>
        {
            var m = ResNet18;
            return (m, ChannelPruner.Prune(m, new PruningOptions { Sparsity = 0.3 }), ImagesOf(m, "evaluation"), "scikit-image evaluation images (no refit)");
        }),
        new("resnet18-prune-structured-30-refit", () =>
        {
            var m = ResNet18;
            return (m, ChannelPruner.Prune(m, new PruningOptions { Sparsity = 0.3 }, ImagesOf(m, "calibration")), ImagesOf(m, "evaluation"),
                "8 scikit-image evaluation images (refitted on 8 other ones)");
        }),
        new("resnet18-prune-structured-30-refit-augmented", () =>
        {
            var m = ResNet18;
            return (m, ChannelPruner.Prune(m, new PruningOptions { Sparsity = 0.3 }, AugmentedImagesOf(m, "calibration")), ImagesOf(m, "evaluation"),
                "8 scikit-image evaluation images (refitted on 8 other ones, 4 views each: mirrored, zoomed)");
        }),
        new("resnet18-prune-structured-30-refit-augmented-x1", () =>
        {
            var m = ResNet18;
            return (m, ChannelPruner.Prune(m, new PruningOptions { Sparsity = 0.3, ChannelMultiple = 1 }, AugmentedImagesOf(m, "calibration")), ImagesOf(m, "evaluation"),
                "8 scikit-image evaluation images (refitted on 8 other ones, 4 views each: mirrored, zoomed), any channel count");
        }),
        new("blazeface256-prune-structured-30-refit-held-out-face", () =>
        {
            // Agreement on a real face: the astronaut portrait (4 views) is held out of the 8 calibration photos.
            var m = BlazeFace256;
            var folder = Images("calibration");
            var others = Directory.GetFiles(folder, "*.png").Where(f => Path.GetFileName(f) != "astronaut.png").Order(StringComparer.Ordinal);
            var faces = InputSets.FromImages(m, new[] { Path.Combine(folder, "astronaut.png") }, new ImagePreprocessing { Augment = true });
            return (m, ChannelPruner.Prune(m, new PruningOptions { Sparsity = 0.3 }, InputSets.FromImages(m, others).Cast<IReadOnlyDictionary<string, AccelTensor>>().ToList()),
                faces.Cast<IReadOnlyDictionary<string, AccelTensor>>().ToList(), "the scikit-image astronaut portrait, 4 views (refitted on the 7 other calibration photos)");
        }),
        new("blazeface256-prune-structured-30-refit-augmented-x1", () =>
        {
            var m = BlazeFace256;
            return (m, ChannelPruner.Prune(m, new PruningOptions { Sparsity = 0.3, ChannelMultiple = 1 }, AugmentedImagesOf(m, "calibration")), ImagesOf(m, "evaluation"),
                "8 scikit-image evaluation images (refitted on 8 other ones, 4 views each: mirrored, zoomed), any channel count");
        }),
        new("blazeface256-prune-structured-30-refit-augmented", () =>
        {
            var m = BlazeFace256;
            return (m, ChannelPruner.Prune(m, new PruningOptions { Sparsity = 0.3 }, AugmentedImagesOf(m, "calibration")), ImagesOf(m, "evaluation"),
                "8 scikit-image evaluation images (refitted on 8 other ones, 4 views each: mirrored, zoomed)");
        }),
        new("resnet18-prune-structured-30-refit-x8", () =>
        {
            var m = ResNet18;
            return (m, ChannelPruner.Prune(m, new PruningOptions { Sparsity = 0.3, ChannelMultiple = 8 }, ImagesOf(m, "calibration")), ImagesOf(m, "evaluation"),
                "8 scikit-image evaluation images (refitted on 8 other ones)");
        }),
        new("blazeface256-prune-structured-30-refit-x8", () =>
        {
            var m = Model.Load(RepoPaths.Model("blazeface/face_detection_back_256x256_barracuda.onnx"));
            return (m, ChannelPruner.Prune(m, new PruningOptions { Sparsity = 0.3, ChannelMultiple = 8 }, ImagesOf(m, "calibration")), ImagesOf(m, "evaluation"),
                "8 scikit-image evaluation images (refitted on 8 other ones)");
        }),
        new("resnet18-mixed-cos0.995", () =>
        {
            var m = ResNet18;
            return (m, MixedPrecisionQuantizer.Quantize(m, ImagesOf(m, "calibration"), ImagesOf(m, "evaluation"), new MixedPrecisionOptions { MaxCosineDrop = 0.005 }),
                ImagesOf(m, "evaluation"), "8 scikit-image evaluation images (calibrated on 8 other ones; the budget is judged on the evaluation images)");
        }),
        new("blazeface256-prune-structured-30-refit", () =>
        {
            var m = Model.Load(RepoPaths.Model("blazeface/face_detection_back_256x256_barracuda.onnx"));
            return (m, ChannelPruner.Prune(m, new PruningOptions { Sparsity = 0.3 }, ImagesOf(m, "calibration")), ImagesOf(m, "evaluation"),
                "8 scikit-image evaluation images (refitted on 8 other ones)");
        }),
        new("resnet18-prune-unstructured-50", () =>
        {
            var m = ResNet18;
            return (m, MagnitudePruner.Prune(m, new PruningOptions { Sparsity = 0.5 }), ImagesOf(m, "evaluation"), "scikit-image evaluation images");
        }),
        new("resnet18-static-int8-minmax", () => Static(CalibrationMethod.MinMax)),
        new("resnet18-static-int8-percentile", () => Static(CalibrationMethod.Percentile)),
        new("resnet18-static-int8-entropy", () => Static(CalibrationMethod.Entropy)),
    };

    private static (Model, OptimizationResult, List<IReadOnlyDictionary<string, AccelTensor>>, string) Static(CalibrationMethod method)
    {
        var m = ResNet18;
        var options = new StaticQuantizationOptions { Calibration = new CalibrationOptions { Method = method } };
        return (m, StaticQuantizer.Quantize(m, ImagesOf(m, "calibration"), options), ImagesOf(m, "evaluation"),
            "8 scikit-image evaluation images (calibrated on 8 other ones)");
    }
}
