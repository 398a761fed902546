using AccelSdk.Backends;
using AccelSdk.Onnx;
using AccelSdk.Onnx.Conformance;
using AccelSdk.Optimize.Quantization;
using AccelSdk.Optimize.Reports;
using AccelSdk.TestSupport;

namespace AccelSdk.Optimize.Tests;

public sealed class SdkIntegrationTests
{
    [Theory]
    [InlineData("test_quantizelinear")]
    [InlineData("test_quantizelinear_axis")]
    [InlineData("test_dequantizelinear")]
    [InlineData("test_dequantizelinear_axis")]
    [InlineData("test_qlinearconv")]
    [InlineData("test_qlinearmatmul_2D")]
    [InlineData("test_qlinearmatmul_3D")]
    [InlineData("test_matmulinteger")]
    [InlineData("test_basic_convinteger")]
    [InlineData("test_convinteger_with_padding")]
    [InlineData("test_dynamicquantizelinear")]
    [InlineData("test_dynamicquantizelinear_max_adjusted")]
    [InlineData("test_dynamicquantizelinear_min_adjusted")]
    public void Quantization_ops_of_the_onnx_suite_pass_through_the_sdk(string name)
    {
        var (backend, device) = AccelRuntime.Default.Resolve("ort-cpu");
        var result = new ConformanceRunner(backend, device).RunCase("node", RepoPaths.OnnxCase("node", name));
        Assert.True(result.Status == CaseStatus.Pass, $"{name}: {result.Status} {result.Reason}");
    }

    [Fact]
    public void A_quantized_model_goes_through_Accelerator_Select_like_any_other()
    {
        var model = TestData.MiniLm;
        var quantized = DynamicQuantizer.Quantize(model).Model;
        var reloaded = OnnxImporter.Parse(OnnxExporter.ToBytes(quantized), "minilm-int8.onnx");
        var input = TestData.Sentences(model, 1)[0];
        using var session = Accel.Select(reloaded, new SelectOptions
        {
            SampleInputs = input.ToDictionary(kv => kv.Key, kv => kv.Value),
            MeasuredRuns = 2,
            WarmupRuns = 1,
        });
        var embedding = session.Run(input.ToDictionary(kv => kv.Key, kv => kv.Value))["last_hidden_state"];
        using var reference = ModelEvaluator.Open(model, backend: AccelRuntime.Default.Resolve("ort-cpu").Backend, device: AccelRuntime.Default.Resolve("ort-cpu").Device);
        var expected = reference.Run(input.ToDictionary(kv => kv.Key, kv => kv.Value))["last_hidden_state"];
        Assert.True(ModelEvaluator.Cosine(expected, embedding) >= 0.99);
    }
}
