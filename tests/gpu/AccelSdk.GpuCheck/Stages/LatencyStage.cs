using System.Text.Json.Nodes;
using AccelSdk.Execution;
using AccelSdk.Ir;

namespace AccelSdk.GpuCheck.Stages;

/// <summary>
/// Batch-1 latency of each model run whole on the ILGPU device (its default variant) and on ONNX Runtime's CPU EP,
/// interleaved, host tensors in and out (what <see cref="AccelSession.Run(IReadOnlyDictionary{string, AccelTensor})"/>
/// costs a caller); ResNet18 next to PyTorch's forward pass on the GPU from the anchors.
/// </summary>
internal static class LatencyStage
{
    public static void Run(CheckContext context, StageReport report)
    {
        if (context.Options.Models.Count == 0)
        {
            report.Skip("no model given (--resnet18, --blazeface)");
            return;
        }
        var (backend, device) = context.Device;
        var (refBackend, refDevice) = context.Reference;
        var rows = new List<IReadOnlyList<string>>();
        var json = new JsonArray();
        foreach (var path in context.Options.Models)
        {
            var model = GpuCheckRuntime.Instance.LoadModel(path);
            context.Log($"latency: {model.Label}");
            var inputs = SampleInputs.Random(model, seed: 7);
            using var onDevice = new AccelSession(GraphPartitioner.WholeModel(model, backend, device));
            using var onCpu = new AccelSession(GraphPartitioner.WholeModel(model, refBackend, refDevice));
            var medians = Interleaved.MedianMs(new Action[] { () => onDevice.Run(inputs), () => onCpu.Run(inputs) }, context.Options.Runs, warmups: 3);
            context.WholeModelMs[path] = (medians[0], medians[1]);
            var torch = path == context.Options.ResNet18 ? context.Anchor("resnet18_ms") : null;
            rows.Add(new[] { model.Label, Format.F(medians[0], 3), Format.F(medians[1], 3), Format.F(medians[1] / medians[0]) + "x", Format.F(torch, 3), torch is { } t ? Format.F(medians[0] / t) + "x" : "-" });
            json.Add(new JsonObject { ["model"] = model.Label, ["device_ms"] = medians[0], ["ort_cpu_ms"] = medians[1], ["torch_gpu_ms"] = torch, ["device_compile_ms"] = onDevice.CompileTime.TotalMilliseconds });
        }
        report.Json["models"] = json;
        report.Line($"Median of {context.Options.Runs} interleaved runs after 3 warm-ups, batch 1, host tensors in and out.");
        report.Line("");
        report.Table(new[] { "model", $"{device.Id} ms", $"{refDevice.Id} ms", $"{refDevice.Id} / {device.Id}", "PyTorch GPU ms", $"{device.Id} / PyTorch" }, rows);
    }
}
