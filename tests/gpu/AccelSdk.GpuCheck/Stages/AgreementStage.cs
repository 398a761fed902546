using System.Text.Json.Nodes;
using AccelSdk.Backends;
using AccelSdk.Execution;
using AccelSdk.Ir;

namespace AccelSdk.GpuCheck.Stages;

/// <summary>
/// ResNet18 and BlazeFace run whole on the ILGPU device, once per MatMul kernel variant it offers, against ONNX Runtime's
/// CPU EP on the same fixed-seed inputs: every float output within 1e-4 of the reference's largest magnitude.
/// </summary>
internal static class AgreementStage
{
    public const double Tolerance = 1e-4;

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
            var inputs = SampleInputs.Random(model, seed: 7);
            using var reference = new AccelSession(GraphPartitioner.WholeModel(model, refBackend, refDevice));
            var expected = reference.Run(inputs);
            foreach (var variant in VariantsOf(backend, device))
            {
                context.Log($"agreement: {model.Label} on {device.Id} [{variant.Name}]");
                using var session = new AccelSession(GraphPartitioner.WholeModel(model, backend, device), new CompileOptions { Settings = variant.Settings });
                var actual = session.Run(inputs);
                for (var o = 0; o < expected.Count; o++)
                {
                    var (relative, problem) = RelativeDifference(actual[o], expected[o]);
                    var verdict = problem ?? (relative <= Tolerance ? "within 1e-4" : "ABOVE 1e-4");
                    if (problem is not null || relative > Tolerance) report.Fail($"{model.Label} [{variant.Name}] output {expected.Names[o]}: {verdict} (relative {Format.G(relative)})");
                    rows.Add(new[] { model.Label, variant.Name, expected.Names[o], TensorShape.Format(expected[o].Shape), Format.G(relative), verdict, Format.F(session.CompileTime.TotalMilliseconds, 0) });
                    json.Add(new JsonObject
                    {
                        ["model"] = model.Label, ["variant"] = variant.Name, ["output"] = expected.Names[o], ["relative"] = relative, ["problem"] = problem,
                        ["compile_ms"] = session.CompileTime.TotalMilliseconds,
                    });
                }
            }
        }
        report.Json["outputs"] = json;
        report.Line($"Outputs on `{device.Id}` vs `{refDevice.Id}`, fixed-seed inputs (seed 7); relative = max |diff| / max |reference|, limit {Format.G(Tolerance)}.");
        report.Line("");
        report.Table(new[] { "model", "variant", "output", "shape", "relative", "verdict", "compile ms" }, rows);
    }

    /// <summary>The device's MatMul variants, or its default alone when it offers no choice.</summary>
    public static IReadOnlyList<CompileVariant> VariantsOf(IBackend backend, Device device)
    {
        var variants = backend.CompileVariants(device);
        return variants.Count > 0 ? variants : new[] { new CompileVariant("default", new Dictionary<string, string>()) };
    }

    /// <summary>max |a - e| / max |e| over a float output, or why the two cannot be compared.</summary>
    public static (double Relative, string? Problem) RelativeDifference(AccelTensor actual, AccelTensor expected)
    {
        if (actual.ElementType != expected.ElementType) return (double.NaN, $"dtype {actual.ElementType.ShortName()} vs {expected.ElementType.ShortName()}");
        if (!actual.ShapeArray.SequenceEqual(expected.ShapeArray)) return (double.NaN, $"shape {TensorShape.Format(actual.Shape)} vs {TensorShape.Format(expected.Shape)}");
        if (expected.ElementType != ElementType.Float32) return (double.NaN, $"not float32 ({expected.ElementType.ShortName()}): compared elsewhere");
        var a = actual.AsSpan<float>();
        var e = expected.AsSpan<float>();
        double maxDiff = 0, maxRef = 0;
        for (var i = 0; i < e.Length; i++)
        {
            if (!float.IsFinite(a[i]) && float.IsFinite(e[i])) return (double.NaN, $"element {i} is {a[i]}, reference {e[i]}");
            maxDiff = Math.Max(maxDiff, Math.Abs(a[i] - e[i]));
            maxRef = Math.Max(maxRef, Math.Abs(e[i]));
        }
        return (maxRef > 0 ? maxDiff / maxRef : maxDiff, null);
    }
}
