using AccelSdk.Execution;
using AccelSdk.Ir;

namespace AccelSdk.Autotune.Tests;

/// <summary>Runtimes over the real backends (ONNX Runtime, ILGPU's CPU accelerator). A few seconds.</summary>
public sealed class RuntimeTests
{
    [Fact]
    public async Task An_ORT_only_and_an_ILGPU_only_runtime_select_and_run_the_same_model_side_by_side()
    {
        using var ortOnly = new AccelRuntimeBuilder().AddOnnxRuntime().Build();
        using var ilgpuOnly = new AccelRuntimeBuilder().AddOnnx().AddIlgpu().Build();
        Assert.All(ortOnly.Devices, d => Assert.Equal("ort", d.Backend));
        Assert.All(ilgpuOnly.Devices, d => Assert.Equal("ilgpu", d.Backend));

        var model = TestModels.Chain();
        var options = new SelectOptions { WarmupRuns = 1, MeasuredRuns = 2, Candidates = new[] { "ort-cpu", "ilgpu-cpu" } };
        var inputs = SampleInputs.Random(model);
        // Selected concurrently: neither runtime sees the other's devices, warnings or sessions.
        var selections = await Task.WhenAll(ortOnly.SelectAsync(model, options), ilgpuOnly.SelectAsync(model, options));
        using var onOrt = selections[0];
        using var onIlgpu = selections[1];

        Assert.Equal("ort-cpu", onOrt.Selection!.Chosen.Id);
        Assert.Equal("ilgpu-cpu", onIlgpu.Selection!.Chosen.Id);
        Assert.Equal(new[] { "ort-cpu" }, onOrt.Selection.Candidates.Select(c => c.Device.Id));
        Assert.Equal(new[] { "ilgpu-cpu" }, onIlgpu.Selection.Candidates.Select(c => c.Device.Id));
        Assert.True(Autotuner.MaxRelativeDifference(onIlgpu.Run(inputs), onOrt.Run(inputs)) <= 1e-5);
    }
}
