using AccelSdk.Backends;
using AccelSdk.Execution;
using AccelSdk.Ir;
using AccelSdk.TestSupport;
using BenchmarkDotNet.Attributes;
using Microsoft.ML.OnnxRuntime;

namespace AccelSdk.Benchmarks;

/// <summary>
/// AccelSdk's session against a plain ONNX Runtime <see cref="InferenceSession"/> on the same model, same thread
/// settings and same input, side by side in one run: the difference is the SDK's per-call overhead.
/// </summary>
[MemoryDiagnoser]
public class OverheadBenchmarks
{
    private InferenceSession _plain = null!;
    private OrtValue _plainInput = null!;
    private RunOptions _runOptions = null!;
    private string[] _inputNames = null!;
    private string[] _outputNames = null!;
    private AccelSession _sdk = null!;
    private Tensor _input = null!;

    /// <summary>Model under test: the tiny Relu of the ONNX suite (float32[3,4,5]) or ResNet18.</summary>
    [Params("tiny-relu", "resnet18")]
    public string ModelName { get; set; } = "tiny-relu";

    [GlobalSetup]
    public void Setup()
    {
        var path = ModelName == "resnet18" ? RepoPaths.ResNet18 : Path.Combine(RepoPaths.OnnxCase("node", "test_relu"), "model.onnx");
        var model = Model.Load(path);
        var (backend, device) = BackendRegistry.Resolve("ort-cpu");
        _sdk = new AccelSession(GraphPartitioner.WholeModel(model, backend, device));
        _input = SampleInputs.Random(model).Values.Single();

        _plain = new InferenceSession(path);
        _plainInput = OrtValue.CreateTensorValueFromMemory(_input.ToArray<float>(), _input.ShapeArray);
        _runOptions = new RunOptions();
        _inputNames = _plain.InputNames.ToArray();
        _outputNames = _plain.OutputNames.ToArray();
    }

    [Benchmark(Baseline = true)]
    public float PlainOnnxRuntime()
    {
        using var outputs = _plain.Run(_runOptions, _inputNames, new[] { _plainInput }, _outputNames);
        return outputs[0].GetTensorDataAsSpan<float>()[0];
    }

    [Benchmark]
    public float AccelSdkSession() => _sdk.Run(_input)[0].AsSpan<float>()[0];

    [GlobalCleanup]
    public void Cleanup()
    {
        _sdk.Dispose();
        _plainInput.Dispose();
        _runOptions.Dispose();
        _plain.Dispose();
    }
}
