using System.Numerics.Tensors;
using AccelSdk;
using AccelSdk.Ir;
using AccelSdk.TestSupport;
using Microsoft.Extensions.DependencyInjection;

namespace AccelSdk.OnnxRuntime.Tests;

/// <summary>
/// The README's examples as code: the three lines compiled with <c>System.Numerics.Tensors</c> imported next to
/// <c>AccelSdk</c> (no CS0104; this ResNet18 ends in 512 pooled features), the DI registration and the cancellation example, on ONNX Runtime. About 10 s in all.
/// </summary>
public sealed class ReadmeExamplesTests
{
    private static float[] Pixels() => Enumerable.Range(0, 3 * 224 * 224).Select(i => (i % 255) / 255f).ToArray();

    [Fact]
    public void The_three_lines_compile_next_to_System_Numerics_Tensors_and_run()
    {
        var pixels = Pixels();
        using var session = Accel.Select(RepoPaths.ResNet18);
        var input = AccelTensor.Create(pixels, 1, 3, 224, 224);
        var features = session.Run(input)[0];

        Assert.Equal(512, features.ElementCount);
        Assert.True(TensorPrimitives.MaxMagnitude<float>(features.AsSpan<float>()) > 0);
    }

    [Fact]
    public void AddAccelSdk_gives_a_runtime_over_the_backends_it_names()
    {
        var services = new ServiceCollection();
        services.AddAccelSdk(b => b.AddOnnxRuntime());
        using var provider = services.BuildServiceProvider();
        var runtime = provider.GetRequiredService<AccelRuntime>();

        Assert.Equal(new[] { "ort" }, runtime.Backends.Select(b => b.Name));
        using var session = runtime.Select(RepoPaths.ResNet18, new SelectOptions { WarmupRuns = 1, MeasuredRuns = 2 });
        Assert.Equal("ort-cpu", session.Selection!.Chosen.Id);
        Assert.Equal(512, session.Run(AccelTensor.Create(Pixels(), 1, 3, 224, 224))[0].ElementCount);
    }

    [Fact]
    public async Task SelectAsync_reports_progress_and_a_cancelled_selection_throws()
    {
        using var runtime = new AccelRuntimeBuilder().AddOnnxRuntime().Build();
        var model = runtime.LoadModel(RepoPaths.ResNet18);
        var steps = new List<SelectionProgress>();
        using (var session = await runtime.SelectAsync(model, new SelectOptions { WarmupRuns = 1, MeasuredRuns = 2 }, new InlineProgress<SelectionProgress>(steps.Add)))
        {
            Assert.Equal(new[] { "ort-cpu", "done" }, steps.Select(s => s.Detail));
        }

        using var cancel = new CancellationTokenSource();
        var cancelling = new InlineProgress<SelectionProgress>(_ => cancel.Cancel());
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => runtime.SelectAsync(model, new SelectOptions { WarmupRuns = 1, MeasuredRuns = 2 }, cancelling, cancel.Token));
    }
}
