using AccelSdk.Backends;
using AccelSdk.Execution;
using AccelSdk.Ir;
using AccelSdk.Onnx;
using AccelSdk.TestSupport;

namespace AccelSdk.OnnxRuntime.Tests;

public class BadInputTests
{
    private static Model Relu() => OneNodeModels.ReluOverBatch();

    [Fact]
    public void Unknown_op_names_the_node_and_op()
    {
        var model = Relu();
        model.Graph.Nodes[0].OpType = "NoSuchOp";
        model.Graph.Nodes[0].Domain = "com.example";
        model.OpsetImports["com.example"] = 1;
        var e = Assert.Throws<UnsupportedOperatorException>(() => Accel.Select(model));
        Assert.Contains("NoSuchOp", e.Message);
        Assert.Contains(e.Unsupported, u => u.Node == "relu" && u.Op == "NoSuchOp");
    }

    [Fact]
    public void Unknown_op_in_a_known_domain_is_refused_naming_it_with_onnx_runtimes_message()
    {
        var model = Relu();
        model.Graph.Nodes[0].OpType = "Relux";
        var (backend, device) = AccelRuntime.Default.Resolve("ort");
        var e = Assert.Throws<UnsupportedOperatorException>(() => new AccelSession(GraphPartitioner.WholeModel(model, backend, device)));
        Assert.Contains("Relux", e.Message);
        Assert.Contains("ONNX Runtime cannot build", e.Message);
    }

    [Fact]
    public void Wrong_shape_dtype_name_and_missing_inputs_name_the_tensor()
    {
        using var session = Accel.Select(Relu());
        var good = session.Run(AccelTensor.Create(new[] { -1f, 2f, -3f, 4f }, 1, 4))[0];
        Assert.Equal(new[] { 0f, 2f, 0f, 4f }, good.ToArray<float>());

        var shape = Assert.Throws<InputMismatchException>(() => session.Run(AccelTensor.Create(new[] { 1f, 2f, 3f }, 1, 3)));
        Assert.Equal("x", shape.TensorName);
        Assert.Contains("[N,4]", shape.Message);
        var dtype = Assert.Throws<InputMismatchException>(() => session.Run(AccelTensor.Create(new[] { 1.0, 2, 3, 4 }, 1, 4)));
        Assert.Contains("expected float32, got float64", dtype.Message);
        var name = Assert.Throws<InputMismatchException>(() => session.Run(new Dictionary<string, AccelTensor> { ["z"] = AccelTensor.Create(new[] { 1f, 2f, 3f, 4f }, 1, 4) }));
        Assert.Equal("z", name.TensorName);
        var missing = Assert.Throws<InputMismatchException>(() => session.Run(new Dictionary<string, AccelTensor>()));
        Assert.Equal("x", missing.TensorName);
        Assert.Throws<InputMismatchException>(() => session.Run());
    }

    [Fact]
    public void Corrupt_model_file_through_Select_is_a_load_error_naming_the_file()
    {
        var path = Path.Combine(Path.GetTempPath(), $"accelsdk-corrupt-{Guid.NewGuid():N}.onnx");
        File.WriteAllBytes(path, File.ReadAllBytes(RepoPaths.ResNet18)[..4096]);
        try
        {
            var e = Assert.Throws<ModelLoadException>(() => Accel.Select(path));
            Assert.Equal(path, e.Path);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Exported_single_nodes_of_a_real_model_compile_on_their_own()
    {
        var model = OnnxImporter.Load(RepoPaths.ResNet18);
        var types = ShapeInference.Infer(model);
        var (backend, device) = AccelRuntime.Default.Resolve("ort");
        var conv = model.Graph.Nodes.FindIndex(n => n.OpType == "Conv");
        var sub = GraphPartitioner.Extract(model, new[] { conv }, types);
        using var partition = backend.Compile(device, sub, new CompileOptions());
        Assert.Single(partition.Outputs);
        Assert.True(partition.CompileTime > TimeSpan.Zero);
    }
}
