using AccelSdk.Backends;
using AccelSdk.Optimize.MixedPrecision;
using AccelSdk.Optimize.Reports;
using AccelSdk.Optimize.Validation;
using Xunit.Abstractions;

namespace AccelSdk.Optimize.Tests;

public sealed class MixedPrecisionTests(ITestOutputHelper log)
{
    [Fact]
    public void ResNet18_under_a_cosine_budget_of_0_995_meets_it_on_held_out_images_and_reports_every_layer()
    {
        // About 2-3 minutes on a loaded 2-core machine: several calibrated quantizations and evaluations of ResNet18.
        var model = TestData.ResNet18;
        var calibration = TestData.Images(model, "calibration").Take(4).ToList();
        var evaluation = TestData.Images(model, "evaluation").Take(4).ToList();
        var result = MixedPrecisionQuantizer.Quantize(model, calibration, evaluation,
            new MixedPrecisionOptions { MaxCosineDrop = 0.005, MeasuredRuns = 3 });
        foreach (var (key, value) in result.Settings) log.WriteLine($"{key}: {value}");
        foreach (var note in result.Notes) log.WriteLine(note);

        var (backend, device) = AccelRuntime.Default.Resolve("ort-cpu");
        var accuracy = ModelEvaluator.MeasureAccuracy(backend, device, model, result.Model, evaluation);
        Assert.All(accuracy, a => Assert.True(a.MeanCosine >= 0.995, $"{a.Output}: mean cosine {a.MeanCosine:F5}"));
        // Every Conv has a row with its measured sensitivity and a choice.
        Assert.Equal(model.Graph.Nodes.Count(n => n.OpType == "Conv"), result.Layers.Count);
        Assert.All(result.Layers, l => Assert.Contains(l.Choice, new[] { "int8", "float32" }));
        Assert.All(result.Layers, l => Assert.True(l.Sensitivity is >= 0));
        // The most sensitive layers are the ones reverted first.
        var reverted = result.Layers.Where(l => l.Choice == "float32").Select(l => l.Sensitivity!.Value).ToList();
        var kept = result.Layers.Where(l => l.Choice == "int8").Select(l => l.Sensitivity!.Value).ToList();
        if (reverted.Count > 0 && kept.Count > 0) Assert.True(reverted.Min() >= kept.Max());
        Assert.Contains("all-int8", result.Settings["candidates"]);
        Assert.Contains("float32", result.Settings["candidates"]);
        // This CPU has no float16 arithmetic (f16c only converts): float16 is not a candidate here, and the report says why.
        var cpuFp16 = device.Properties[OnnxRuntime.OrtBackend.Fp16ArithmeticProperty];
        Assert.StartsWith(cpuFp16.StartsWith("yes", StringComparison.Ordinal) ? "offered" : "not offered", result.Settings["fp16"]);
        Assert.Equal(cpuFp16.StartsWith("yes", StringComparison.Ordinal), result.Settings["candidates"].Contains("fp16:", StringComparison.Ordinal));
        ModelValidator.Validate(model, result);
    }

    [Fact]
    public void Float16_is_offered_only_on_a_device_that_reports_float16_arithmetic()
    {
        var cpu = AccelRuntime.Default.Resolve("ort-cpu").Device;
        var flags = File.Exists("/proc/cpuinfo") ? File.ReadAllText("/proc/cpuinfo") : "";
        var hasFp16 = flags.Contains(" avx512_fp16", StringComparison.Ordinal) || flags.Contains(" asimdhp", StringComparison.Ordinal);
        log.WriteLine($"ort-cpu {OnnxRuntime.OrtBackend.Fp16ArithmeticProperty}: {cpu.Properties[OnnxRuntime.OrtBackend.Fp16ArithmeticProperty]}");
        Assert.Equal(hasFp16, MixedPrecisionQuantizer.Fp16Offer(cpu).Offered);
        var gpu = new Device("ort", "ort-cuda:0", "GPU", DeviceKind.Gpu) { Properties = new Dictionary<string, string> { [OnnxRuntime.OrtBackend.Fp16ArithmeticProperty] = "yes: GPU" } };
        Assert.True(MixedPrecisionQuantizer.Fp16Offer(gpu).Offered);
        var silent = new Device("other", "other-cpu", "CPU", DeviceKind.Cpu);
        Assert.Equal((false, "does not report fp16 arithmetic"), MixedPrecisionQuantizer.Fp16Offer(silent));
    }

    [Fact]
    public void On_a_device_with_float16_arithmetic_the_reverted_layers_are_also_tried_in_float16_least_sensitive_first()
    {
        // The device is our own data (its property says yes), not a runtime: no device here computes in float16.
        var gpu = new Device("ort", "ort-cuda:0", "GPU", DeviceKind.Gpu) { Properties = new Dictionary<string, string> { [OnnxRuntime.OrtBackend.Fp16ArithmeticProperty] = "yes: GPU" } };
        var cpu = new Device("ort", "ort-cpu", "CPU", DeviceKind.Cpu) { Properties = new Dictionary<string, string> { [OnnxRuntime.OrtBackend.Fp16ArithmeticProperty] = "no: f16c converts only" } };
        Assert.Equal(new[] { 5, 2, 1 }, MixedPrecisionQuantizer.Fp16Counts(5, MixedPrecisionQuantizer.Fp16Offer(gpu).Offered));
        Assert.Empty(MixedPrecisionQuantizer.Fp16Counts(5, MixedPrecisionQuantizer.Fp16Offer(cpu).Offered));
        Assert.Empty(MixedPrecisionQuantizer.Fp16Counts(0, true));

        // Most sensitive first: the top stay float32, the next run float16, the rest int8.
        var choice = MixedPrecisionQuantizer.Assign(new[] { "s1", "s2", "s3", "s4", "s5" }, reverted: 3, float16: 2);
        Assert.Equal(new[] { "float32", "float16", "float16", "int8", "int8" }, new[] { "s1", "s2", "s3", "s4", "s5" }.Select(n => choice[n]));
        Assert.All(MixedPrecisionQuantizer.Assign(new[] { "a", "b" }, reverted: 0, float16: 0).Values, c => Assert.Equal("int8", c));
        Assert.All(MixedPrecisionQuantizer.Assign(new[] { "a", "b" }, reverted: 2, float16: 5).Values, c => Assert.Equal("float16", c));
    }

    [Fact]
    public void A_model_with_some_layers_float16_is_valid_on_onnx_runtime_and_agrees_with_float32()
    {
        // Slow on this CPU (no float16 arithmetic: ONNX Runtime converts around each float16 Conv) but valid. About 30 s.
        var model = Optimize.ModelPreparation.Clone(TestData.ResNet18);
        MixedPrecisionQuantizer.NameNodes(model);
        var convs = model.Graph.Nodes.Where(n => n.OpType == "Conv").Select(n => n.Name).ToList();
        var evaluation = TestData.Images(model, "evaluation").Take(2).ToList();
        var (backend, device) = AccelRuntime.Default.Resolve("ort-cpu");

        // Every other Conv float16, the rest float32.
        var halfAndFloat = convs.Select((name, i) => (name, choice: i % 2 == 0 ? "float16" : "float32")).ToDictionary(x => x.name, x => x.choice);
        var half = MixedPrecisionQuantizer.BuildPerLayer(model, evaluation, new Quantization.StaticQuantizationOptions(), halfAndFloat);
        // Each Conv reads its weights in its own precision.
        foreach (var conv in half.Graph.Nodes.Where(n => n.OpType == "Conv"))
        {
            Assert.Equal(halfAndFloat[conv.Name] == "float16" ? Ir.ElementType.Float16 : Ir.ElementType.Float32, half.Graph.FindInitializer(conv.Inputs[1])?.ElementType);
        }
        var accuracy = ModelEvaluator.MeasureAccuracy(backend, device, model, half, evaluation);
        Assert.All(accuracy, a => Assert.True(a.MeanCosine >= 0.999, $"{a.Output}: {a.MeanCosine:F6}"));
        log.WriteLine($"float16/float32 ResNet18: cosine {accuracy.Min(a => a.MeanCosine):F6}");

        // int8, float16 and float32 layers in one model: ONNX Runtime loads and runs it, close to float32.
        var threeWay = convs.Select((name, i) => (name, choice: (i % 3) switch { 0 => "int8", 1 => "float16", _ => "float32" })).ToDictionary(x => x.name, x => x.choice);
        var mixed = MixedPrecisionQuantizer.BuildPerLayer(model, TestData.Images(model, "calibration").Take(2).ToList(), new Quantization.StaticQuantizationOptions(), threeWay);
        Assert.Contains(mixed.Graph.Nodes, n => n.OpType == "QuantizeLinear");
        Assert.Contains(mixed.Graph.Nodes, n => n.OpType == "Cast");
        var mixedAccuracy = ModelEvaluator.MeasureAccuracy(backend, device, model, mixed, evaluation);
        log.WriteLine($"int8/float16/float32 ResNet18: cosine {mixedAccuracy.Min(a => a.MeanCosine):F6}");
        Assert.All(mixedAccuracy, a => Assert.True(a.MeanCosine >= 0.99, $"{a.Output}: {a.MeanCosine:F6}"));
    }

    [Fact]
    public void A_budget_all_int8_misses_is_searched_by_reverting_layers_and_only_a_candidate_that_meets_it_is_kept()
    {
        // 0.9999 is beyond all-int8 (about 0.998 here): the search reverts the most sensitive layers (1, 2, 4, ...),
        // and keeps the fastest candidate that meets the budget (float32 when none of the mixed ones does). 1-3 minutes.
        var model = TestData.ResNet18;
        var calibration = TestData.Images(model, "calibration").Take(4).ToList();
        var evaluation = TestData.Images(model, "evaluation").Take(2).ToList();
        var result = MixedPrecisionQuantizer.Quantize(model, calibration, evaluation,
            new MixedPrecisionOptions { MaxCosineDrop = 0.0001, MeasuredRuns = 3 });
        log.WriteLine(result.Settings["candidates"]);
        log.WriteLine(result.Settings["chosen"]);
        Assert.NotEqual("all-int8", result.Settings["chosen"]);
        Assert.Contains("most sensitive layer(s) float32", result.Settings["candidates"]);
        var (backend, device) = AccelRuntime.Default.Resolve("ort-cpu");
        Assert.All(ModelEvaluator.MeasureAccuracy(backend, device, model, result.Model, evaluation), a => Assert.True(a.MeanCosine >= 0.9999, $"{a.MeanCosine:F6}"));
    }

    [Fact]
    public void A_missing_or_impossible_budget_is_refused_by_option_name()
    {
        var model = TestData.ResNet18;
        var one = TestData.Images(model, "calibration").Take(1).ToList();
        var none = Assert.Throws<InvalidOptimizationOptionException>(() => MixedPrecisionQuantizer.Quantize(model, one, one, new MixedPrecisionOptions()));
        Assert.Contains("max-cosine-drop", none.Option);
        var negative = Assert.Throws<InvalidOptimizationOptionException>(() => MixedPrecisionQuantizer.Quantize(model, one, one, new MixedPrecisionOptions { MaxCosineDrop = -0.1 }));
        Assert.Equal("max-cosine-drop", negative.Option);
        // ResNet18 here ends in pooled features, not class scores: a top-1 budget cannot be measured.
        var top1 = Assert.Throws<InvalidOptimizationOptionException>(() => MixedPrecisionQuantizer.Quantize(model, one, one, new MixedPrecisionOptions { MinTop1 = 0.9 }));
        Assert.Equal("min-top1", top1.Option);
    }
}
