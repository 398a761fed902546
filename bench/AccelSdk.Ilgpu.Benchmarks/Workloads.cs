using AccelSdk.Backends;
using AccelSdk.Ir;
using AccelSdk.Onnx;
using Microsoft.ML.OnnxRuntime;

namespace AccelSdk.Ilgpu.Benchmarks;

/// <summary>A one-node model, its inputs and the floating-point operations one run performs.</summary>
public sealed record Workload(string Name, Model Model, AccelTensor[] Inputs, double Flops)
{
    public static Workload MatMul(int n)
    {
        var g = new Graph { Name = $"matmul{n}" };
        g.Inputs.Add(new ValueInfo("A", new TensorType(ElementType.Float32, new TensorShape(n, n))));
        g.Inputs.Add(new ValueInfo("B", new TensorType(ElementType.Float32, new TensorShape(n, n))));
        g.Outputs.Add(new ValueInfo("C", new TensorType(ElementType.Float32, new TensorShape(n, n))));
        g.Nodes.Add(new Node("MatMul", new[] { "A", "B" }, new[] { "C" }, "matmul"));
        var model = new Model(g) { IrVersion = 8 };
        model.OpsetImports[""] = 17;
        return new Workload($"MatMul {n}", model, new[] { Random(1, n, n), Random(2, n, n) }, 2.0 * n * n * n);
    }

    /// <summary>A convolution of ResNet18's shape (batch 1, bias, square input, pads k/2).</summary>
    public static Workload Conv(int cin, int cout, int size, int kernel, int stride)
    {
        var g = new Graph { Name = $"conv{cin}x{cout}" };
        g.Inputs.Add(new ValueInfo("X", new TensorType(ElementType.Float32, new TensorShape(1, cin, size, size))));
        var output = (size + 2 * (kernel / 2) - kernel) / stride + 1;
        g.Outputs.Add(new ValueInfo("Y", new TensorType(ElementType.Float32, new TensorShape(1, cout, output, output))));
        g.Initializers.Add(Random(3, cout, cin, kernel, kernel).WithName("W"));
        g.Initializers.Add(Random(4, cout).WithName("B"));
        var node = new Node("Conv", new[] { "X", "W", "B" }, new[] { "Y" }, "conv");
        node.Attributes.Add(NodeAttribute.Ints("kernel_shape", kernel, kernel));
        node.Attributes.Add(NodeAttribute.Ints("strides", stride, stride));
        node.Attributes.Add(NodeAttribute.Ints("pads", kernel / 2, kernel / 2, kernel / 2, kernel / 2));
        g.Nodes.Add(node);
        var model = new Model(g) { IrVersion = 8 };
        model.OpsetImports[""] = 17;
        var flops = 2.0 * cout * output * output * cin * kernel * kernel;
        return new Workload($"Conv {cin}->{cout} {size}x{size} k{kernel} s{stride}", model, new[] { Random(5, 1, cin, size, size) }, flops);
    }

    public static IReadOnlyList<Workload> ResNet18Convs() => new[]
    {
        Conv(3, 64, 224, 7, 2), Conv(64, 64, 56, 3, 1), Conv(128, 128, 28, 3, 1), Conv(256, 256, 14, 3, 1), Conv(512, 512, 7, 3, 1),
    };

    private static AccelTensor Random(int seed, params long[] shape)
    {
        var rnd = new Random(seed);
        var data = new float[AccelTensor.CountElements(shape)];
        for (var i = 0; i < data.Length; i++) data[i] = (float)(rnd.NextDouble() * 2 - 1);
        return AccelTensor.Create(data, shape);
    }
}

/// <summary>Something that runs one workload repeatedly: an ILGPU device or an ONNX Runtime session.</summary>
public interface IRunner : IDisposable
{
    string Label { get; }

    /// <summary>Compile/session-creation time, kept apart from run time.</summary>
    TimeSpan SetupTime { get; }

    void RunOnce();
}

/// <summary>The workload compiled for an ILGPU device, inputs uploaded once (device-resident like between nodes).</summary>
public sealed class IlgpuRunner : IRunner
{
    private readonly ICompiledPartition _partition;
    private readonly DeviceTensor[] _inputs;

    /// <param name="matMulVariant">An <c>ilgpu.matmul</c> setting (packed, blocked, tiled), or null for the device's default.</param>
    public IlgpuRunner(IlgpuBackend backend, Device device, Workload workload, string? matMulVariant = null)
    {
        var settings = new Dictionary<string, string>();
        if (matMulVariant is not null) settings[Runtime.IlgpuPartition.MatMulSetting] = matMulVariant;
        var options = new CompileOptions { Settings = settings };
        _partition = backend.Compile(device, workload.Model, options);
        Label = $"{device.Id}/{((Runtime.IlgpuPartition)_partition).MatMul.ToString().ToLowerInvariant()}";
        SetupTime = _partition.CompileTime;
        _inputs = workload.Inputs.Select(t => backend.Upload(device, t)).ToArray();
    }

    public string Label { get; }

    public TimeSpan SetupTime { get; }

    public void RunOnce()
    {
        foreach (var t in _partition.Run(_inputs)) t.Dispose();
    }

    public void Dispose()
    {
        foreach (var t in _inputs) t.Dispose();
        _partition.Dispose();
    }
}

/// <summary>ONNX Runtime's own InferenceSession on the same one-node model (serialised by AccelSdk's exporter).</summary>
public sealed class OrtRunner : IRunner
{
    private readonly InferenceSession _session;
    private readonly OrtValue[] _inputs;
    private readonly string[] _inputNames;
    private readonly string[] _outputNames;
    private readonly RunOptions _runOptions = new();

    /// <param name="spinning">
    /// ORT's intra-op threads spin for a while after each run; interleaved with other runners they then take the cores
    /// the next runner needs (measured: ILGPU's first kernel after an ORT run took 5-15 ms instead of 0.25 ms), so the
    /// side-by-side table runs ORT with spinning off, as AccelSdk's own multi-partition plans do.
    /// </param>
    public OrtRunner(Workload workload, bool cuda, int threads, bool spinning = false)
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        using var options = new SessionOptions { IntraOpNumThreads = threads, GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        if (!spinning) options.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
        if (cuda) options.AppendExecutionProvider_CUDA(0);
        _session = new InferenceSession(OnnxExporter.ToBytes(workload.Model), options);
        SetupTime = watch.Elapsed;
        Label = cuda ? "ort-cuda:0" : "ort-cpu";
        _inputNames = workload.Model.Graph.RequiredInputs.Select(i => i.Name).ToArray();
        _outputNames = workload.Model.Graph.Outputs.Select(o => o.Name).ToArray();
        _inputs = workload.Inputs.Select(t => OrtValue.CreateTensorValueFromMemory(t.ToArray<float>(), t.ShapeArray)).ToArray();
    }

    public string Label { get; }

    public TimeSpan SetupTime { get; }

    public void RunOnce()
    {
        using var outputs = _session.Run(_runOptions, _inputNames, _inputs, _outputNames);
    }

    public void Dispose()
    {
        foreach (var v in _inputs) v.Dispose();
        _runOptions.Dispose();
        _session.Dispose();
    }
}
