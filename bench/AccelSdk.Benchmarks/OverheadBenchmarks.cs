using AccelSdk.Backends;
using AccelSdk.Execution;
using AccelSdk.Ir;
using AccelSdk.TestSupport;
using BenchmarkDotNet.Attributes;
using Microsoft.ML.OnnxRuntime;

namespace AccelSdk.Benchmarks;

/// <summary>
/// AccelSdk's session against a plain ONNX Runtime <see cref="InferenceSession"/> on the same model, same thread
/// settings and same input, side by side in one run: the difference is the SDK's per-call overhead. Two pairs: runs
/// that allocate their outputs (<see cref="PlainOnnxRuntime"/> vs <see cref="AccelSdkSession"/>), and runs into
/// caller-provided output buffers (<see cref="PlainOnnxRuntimeIoBinding"/>, ORT's own zero-copy way, vs
/// <see cref="AccelSdkIntoBuffers"/>); the memory diagnoser shows what each allocates per call.
/// Both sessions live in one process, so both run with ORT's intra-op spinning off: otherwise each session's idle
/// pool threads spin for a while after a run and steal the 2 cores from the other session's next run (measured
/// here: up to 40% on ResNet18), which measures the neighbour, not the SDK.
/// </summary>
[MemoryDiagnoser]
public class OverheadBenchmarks
{
    private static readonly KeyValuePair<string, string> NoSpinning = new("session.intra_op.allow_spinning", "0");
    private InferenceSession _plain = null!;
    private SessionOptions _plainOptions = null!;
    private OrtValue _plainInput = null!;
    private RunOptions _runOptions = null!;
    private string[] _inputNames = null!;
    private string[] _outputNames = null!;
    private AccelSession _sdk = null!;
    private AccelTensor _input = null!;
    private AccelTensor[] _inputs = null!;
    private AccelTensor[] _outputs = null!;
    private OrtIoBinding _plainBinding = null!;
    private OrtValue _plainOutput = null!;
    private float[] _plainOutputData = null!;

    /// <summary>Model under test: the tiny Relu of the ONNX suite (float32[3,4,5]) or ResNet18.</summary>
    [Params("tiny-relu", "resnet18")]
    public string ModelName { get; set; } = "tiny-relu";

    [GlobalSetup]
    public void Setup()
    {
        var path = ModelName == "resnet18" ? RepoPaths.ResNet18 : Path.Combine(RepoPaths.OnnxCase("node", "test_relu"), "model.onnx");
        var model = Model.Load(path);
        var (backend, device) = AccelRuntime.Default.Resolve("ort-cpu");
        _sdk = new AccelSession(GraphPartitioner.WholeModel(model, backend, device), new CompileOptions
        {
            Settings = new Dictionary<string, string> { [NoSpinning.Key] = NoSpinning.Value },
        });
        _input = SampleInputs.Random(model).Values.Single();

        _plainOptions = new SessionOptions();
        _plainOptions.AddSessionConfigEntry(NoSpinning.Key, NoSpinning.Value);
        _plain = new InferenceSession(path, _plainOptions);
        _plainInput = OrtValue.CreateTensorValueFromMemory(_input.ToArray<float>(), _input.ShapeArray);
        _runOptions = new RunOptions();
        _inputNames = _plain.InputNames.ToArray();
        _outputNames = _plain.OutputNames.ToArray();

        var outputShape = _plain.OutputMetadata[_outputNames[0]].Dimensions.Select(d => (long)d).ToArray();
        _inputs = new[] { _input };
        _outputs = new[] { AccelTensor.Zeros(ElementType.Float32, outputShape) };
        _plainOutputData = new float[_outputs[0].ElementCount];
        _plainOutput = OrtValue.CreateTensorValueFromMemory(_plainOutputData, outputShape);
        _plainBinding = _plain.CreateIoBinding();
        _plainBinding.BindInput(_inputNames[0], _plainInput);
        _plainBinding.BindOutput(_outputNames[0], _plainOutput);
    }

    [Benchmark(Baseline = true)]
    public float PlainOnnxRuntime()
    {
        using var outputs = _plain.Run(_runOptions, _inputNames, new[] { _plainInput }, _outputNames);
        return outputs[0].GetTensorDataAsSpan<float>()[0];
    }

    [Benchmark]
    public float AccelSdkSession() => _sdk.Run(_input)[0].AsSpan<float>()[0];

    [Benchmark]
    public float PlainOnnxRuntimeIoBinding()
    {
        _plain.RunWithBinding(_runOptions, _plainBinding);
        return _plainOutputData[0];
    }

    [Benchmark]
    public float AccelSdkIntoBuffers()
    {
        _sdk.Run(_inputs, _outputs);
        return _outputs[0].AsSpan<float>()[0];
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _sdk.Dispose();
        _plainBinding.Dispose();
        _plainOutput.Dispose();
        _plainInput.Dispose();
        _runOptions.Dispose();
        _plain.Dispose();
        _plainOptions.Dispose();
    }
}
