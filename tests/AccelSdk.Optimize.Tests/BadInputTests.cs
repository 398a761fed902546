using AccelSdk.Ir;
using AccelSdk.Onnx;
using AccelSdk.Optimize.Calibration;
using AccelSdk.Optimize.Conversion;
using AccelSdk.Optimize.Data;
using AccelSdk.Optimize.Quantization;

namespace AccelSdk.Optimize.Tests;

public sealed class BadInputTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("accelsdk-optimize-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void A_calibration_folder_without_usable_samples_is_named()
    {
        File.WriteAllText(Path.Combine(_dir, "notes.md"), "nothing to calibrate on");
        var e = Assert.Throws<CalibrationDataException>(() => InputSets.FromDirectory(TestData.ResNet18, _dir));
        Assert.Contains(_dir, e.Message);
        Assert.Contains("no usable samples", e.Message);
        Assert.Throws<CalibrationDataException>(() => StaticQuantizer.Quantize(TestData.ResNet18, Array.Empty<IReadOnlyDictionary<string, AccelTensor>>()));
    }

    [Fact]
    public void Inputs_of_the_wrong_shape_or_type_are_refused_with_both_shapes()
    {
        OnnxTensors.WriteFile(AccelTensor.Zeros(ElementType.Float32, new long[] { 1, 3, 100, 100 }), Path.Combine(_dir, "small.pb"));
        var e = Assert.Throws<CalibrationDataException>(() => InputSets.FromDirectory(TestData.ResNet18, _dir));
        Assert.Contains("[1,3,224,224]", e.Message);
        Assert.Contains("[1,3,100,100]", e.Message);

        var wrongType = new Dictionary<string, AccelTensor> { ["Input247"] = AccelTensor.Zeros(ElementType.Float64, new long[] { 1, 3, 224, 224 }) };
        var t = Assert.Throws<CalibrationDataException>(() => Calibrator.Calibrate(TestData.ResNet18, new[] { "Input247" }, new[] { wrongType }));
        Assert.Contains("float64", t.Message);

        // Structured pruning's refit and mixed precision refuse them the same way, before running anything.
        var small = new Dictionary<string, AccelTensor> { ["Input247"] = AccelTensor.Zeros(ElementType.Float32, new long[] { 1, 3, 100, 100 }) };
        var p = Assert.Throws<CalibrationDataException>(() => Pruning.ChannelPruner.Prune(TestData.ResNet18, new Pruning.PruningOptions { Sparsity = 0.3 }, new[] { small }));
        Assert.Contains("[1,3,100,100]", p.Message);
        var m = Assert.Throws<CalibrationDataException>(() => MixedPrecision.MixedPrecisionQuantizer.Quantize(TestData.ResNet18, new[] { small }, new[] { small },
            new MixedPrecision.MixedPrecisionOptions { MaxCosineDrop = 0.01 }));
        Assert.Contains("[1,3,100,100]", m.Message);
    }

    [Fact]
    public void Images_for_a_text_model_and_a_corrupt_png_are_refused()
    {
        File.WriteAllBytes(Path.Combine(_dir, "broken.png"), new byte[] { 137, 80, 78, 71, 13, 10, 26, 10, 0, 0, 0, 13, 73, 72 });
        var corrupt = Assert.Throws<CalibrationDataException>(() => PngDecoder.Load(Path.Combine(_dir, "broken.png")));
        Assert.Contains("broken.png", corrupt.Message);
        File.Copy(Path.Combine(TestData.ImageFolder("evaluation"), "chelsea.png"), Path.Combine(_dir, "chelsea.png"));
        File.Delete(Path.Combine(_dir, "broken.png"));
        var e = Assert.Throws<CalibrationDataException>(() => InputSets.FromDirectory(TestData.MiniLm, _dir));
        Assert.Contains("NCHW", e.Message);
    }

    [Fact]
    public void An_already_quantized_model_is_refused_and_left_unmodified()
    {
        var quantized = DynamicQuantizer.Quantize(TestData.MiniLm).Model;
        var bytes = OnnxExporter.ToBytes(quantized);
        var e = Assert.Throws<AlreadyQuantizedException>(() => DynamicQuantizer.Quantize(quantized));
        Assert.Contains("DynamicQuantizeLinear", e.Message);
        Assert.Throws<AlreadyQuantizedException>(() => StaticQuantizer.Quantize(quantized, TestData.Sentences(TestData.MiniLm, 1)));
        Assert.Throws<AlreadyQuantizedException>(() => Fp16Converter.Convert(quantized));
        Assert.Equal(bytes, OnnxExporter.ToBytes(quantized));
    }

    [Fact]
    public void Calibrator_options_out_of_range_are_named()
    {
        var samples = TestData.Images(TestData.ResNet18, "calibration").Take(1).ToList();
        var e = Assert.Throws<InvalidOptimizationOptionException>(() =>
            Calibrator.Calibrate(TestData.ResNet18, new[] { "Input247" }, samples, new CalibrationOptions { Method = CalibrationMethod.Percentile, Percentile = 120 }));
        Assert.Equal("percentile", e.Option);
    }
}
