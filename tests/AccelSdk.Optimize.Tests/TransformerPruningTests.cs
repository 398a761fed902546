using AccelSdk.Backends;
using AccelSdk.Execution;
using AccelSdk.Ir;
using AccelSdk.Optimize.Pruning;
using AccelSdk.Optimize.Validation;
using AccelSdk.TestSupport;
using Xunit.Abstractions;

namespace AccelSdk.Optimize.Tests;

public sealed class TransformerPruningTests(ITestOutputHelper log)
{
    [Fact]
    public void MiniLm_loses_a_quarter_of_its_heads_and_30_percent_of_its_ffn_width_and_keeps_its_sentence_embeddings()
    {
        // Calibration on the first 20 sentences, judged on the 20 others by the mean-pooled sentence embedding.
        var model = TestData.MiniLm;
        var sentences = TestData.Sentences(model);
        var (calibration, evaluation) = (sentences.Take(20).ToList(), sentences.Skip(20).ToList());
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var result = ChannelPruner.Prune(model, new PruningOptions { Sparsity = 0.3, HeadSparsity = 0.25 }, calibration.Take(DebugCount).ToList());
        log.WriteLine($"pruned in {watch.Elapsed.TotalSeconds:F0} s: {result.Settings["heads_removed"]}; {result.Settings["channels_removed"]}; {result.Settings["recovery"]}");
        foreach (var (node, reason) in result.SkippedNodes.Where(s => s.Reason.Contains("attention", StringComparison.Ordinal))) log.WriteLine($"  {node}: {reason}");
        Assert.Equal("18 of 72 in 6 attention block(s) (25.0%)", result.Settings["heads_removed"]);
        var graph = result.Model.Graph;
        var attention = result.Layers.Where(l => l.OpType == "Attention").ToList();
        Assert.Equal(6, attention.Count);
        Assert.All(attention, l => Assert.Equal("heads 12 -> 9", l.Choice));
        var projections = graph.Nodes.Where(n => n.OpType == "MatMul" && graph.FindInitializer(n.Inputs[1]) is { } w && w.Shape[0] == 384 && w.Shape[1] != 1536).ToList();
        Assert.Equal(18, projections.Count(n => graph.FindInitializer(n.Inputs[1])!.Shape[1] == 288));
        Assert.Equal(6, graph.Nodes.Count(n => n.OpType == "MatMul" && graph.FindInitializer(n.Inputs[1]) is { } w && w.Shape[0] == 288 && w.Shape[1] == 384));
        var path = Path.Combine(Path.GetTempPath(), $"minilm-pruned-{Guid.NewGuid():N}.onnx");
        try
        {
            OptimizedModelWriter.Write(model, result, path, new ValidationOptions { Inputs = evaluation.Take(2).ToList() });
        }
        finally
        {
            File.Delete(path);
        }
        var (mean, min) = SentenceCosines(model, result.Model, evaluation);
        log.WriteLine($"held-out sentence embeddings: mean cosine {mean:F4}, min {min:F4}");
    }

    private static readonly int DebugCount = int.Parse(Environment.GetEnvironmentVariable("DEBUG_COUNT") ?? "20");

    /// <summary>Mean and worst cosine of the mean-pooled last_hidden_state (the sentence embedding) against the original.</summary>
    private static (double Mean, double Min) SentenceCosines(Model original, Model pruned, List<IReadOnlyDictionary<string, AccelTensor>> sentences)
    {
        var (backend, device) = AccelRuntime.Default.Resolve("ort-cpu");
        using var a = new AccelSession(GraphPartitioner.WholeModel(original, backend, device));
        using var b = new AccelSession(GraphPartitioner.WholeModel(pruned, backend, device));
        var cosines = sentences.Select(s => Cosine(MeanPool(a.Run(s)["last_hidden_state"]), MeanPool(b.Run(s)["last_hidden_state"]))).ToList();
        return (cosines.Average(), cosines.Min());
    }

    private static double[] MeanPool(AccelTensor hidden)
    {
        var (tokens, width) = ((int)hidden.Shape[1], (int)hidden.Shape[2]);
        var values = hidden.AsSpan<float>();
        var pooled = new double[width];
        for (var t = 0; t < tokens; t++)
            for (var c = 0; c < width; c++) pooled[c] += values[t * width + c] / (double)tokens;
        return pooled;
    }

    private static double Cosine(double[] x, double[] y) =>
        x.Zip(y).Sum(p => p.First * p.Second) / Math.Sqrt(x.Sum(v => v * v) * y.Sum(v => v * v));
}
