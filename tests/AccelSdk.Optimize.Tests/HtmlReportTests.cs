using AccelSdk.Optimize.Pruning;
using AccelSdk.Optimize.Reports;

namespace AccelSdk.Optimize.Tests;

public sealed class HtmlReportTests
{
    [Fact]
    public void Prune_report_html_is_self_contained_and_shows_size_latency_accuracy_and_layer_choices()
    {
        var model = TestData.ResNet18;
        var result = ChannelPruner.Prune(model, new PruningOptions { Sparsity = 0.3 });
        var report = ModelEvaluator.Compare(model, result, TestData.Images(model, "evaluation").Take(1).ToList(),
            new EvaluationOptions { MeasuredRuns = 1, WarmupRuns = 0, Devices = new[] { "ort-cpu" } });
        var dir = Path.Combine(Path.GetTempPath(), $"prune-report-{Guid.NewGuid():N}");
        try
        {
            ReportWriter.Save(report, dir);
            var html = File.ReadAllText(Path.Combine(dir, "report.html"));
            Assert.StartsWith("<!DOCTYPE html>", html);
            Assert.DoesNotContain("http://", html);
            Assert.DoesNotContain("https://", html);
            Assert.DoesNotContain("<script src", html);
            Assert.Contains("File size", html);
            Assert.Contains("ort-cpu", html);
            Assert.Contains("Pooling395_Output_0", html);
            var stemWidth = result.Model.Graph.FindInitializer(result.Model.Graph.Nodes.First(n => n.OpType == "Conv").Inputs[1])!.Shape[0];
            Assert.InRange(stemWidth, 32, 63);
            Assert.Contains($"out 64 -&gt; {stemWidth}", html);
            Assert.Contains("<svg", html);
            Assert.Equal(report.Layers.Count, ReportWriter.FromJson(File.ReadAllText(Path.Combine(dir, "report.json"))).Layers.Count);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
