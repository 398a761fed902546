using AccelSdk.Backends;
using AccelSdk.Execution;
using AccelSdk.Ir;
using AccelSdk.Onnx;
using Microsoft.ML.OnnxRuntime;

namespace AccelSdk.OnnxRuntime.Tests;

/// <summary>
/// Issue 11: ORT outputs that only the run reads (values going to another partition, skipped outputs) are bound to
/// tensors allocated once in the partition's memory space and reused run after run, on real ONNX Runtime (CPU EP; the
/// device path with ORT's CPU memory standing in for a GPU's). Each test takes well under a second.
/// </summary>
public class ReusedOutputTests
{
    private static DeviceTarget Ort => AccelRuntime.Default.Resolve("ort-cpu");

    private static readonly bool[] Reusable = [true];

    /// <summary>a = Relu(x), y = Neg(a) on float[2, 3].</summary>
    private static Model ReluThenNeg()
    {
        var g = new Graph { Name = "relu-then-neg" };
        var type = new TensorType(ElementType.Float32, new TensorShape(2, 3));
        g.Inputs.Add(new ValueInfo("x", type));
        g.Outputs.Add(new ValueInfo("y", type));
        g.Nodes.Add(new Node("Relu", ["x"], ["a"], "relu"));
        g.Nodes.Add(new Node("Neg", ["a"], ["y"], "neg"));
        var m = new Model(g);
        m.OpsetImports[""] = 17;
        return m;
    }

    /// <summary>The Relu half alone, as the partition a split plan compiles.</summary>
    private static Model ReluPart() => OneNodeModels.Relu(new TensorShape(2, 3), new TensorShape(2, 3), output: "a");

    private static ExecutionPlan SplitAfterRelu(Model model)
    {
        var types = ShapeInference.Infer(model);
        var (backend, device) = Ort;
        return new ExecutionPlan(model,
        [
            new PlannedPartition(0, backend, device, [0], GraphPartitioner.Extract(model, [0], types, new HashSet<int> { 1 }, "relu")),
            new PlannedPartition(1, backend, device, [1], GraphPartitioner.Extract(model, [1], types, new HashSet<int>(), "neg")),
        ]);
    }

    private static OrtPartition Compile(Model model) => (OrtPartition)Ort.Backend.Compile(Ort.Device, model, new CompileOptions { IntraOpThreads = 1 });

    [Fact]
    public void A_reusable_output_lands_in_the_same_native_buffer_run_after_run_with_no_managed_allocation()
    {
        using var partition = Compile(ReluPart());
        var options = new PartitionRunOptions(null, default) { ReusableOutputs = Reusable };
        using var x = AccelTensor.Create(new[] { -1f, 2f, -3f, 4f, -5f, 6f }, 2, 3);
        DeviceTensor[] inputs = [new HostTensor(x)];

        var first = Assert.IsType<HostTensor>(Assert.Single(partition.Run(inputs, options)));
        var address = first.Value.DataPointer;
        Assert.Equal(new[] { 0f, 2f, 0f, 4f, 0f, 6f }, first.Value.ToArray<float>());
        first.Dispose();

        // New data in the same input tensor: same output buffer, new values.
        x.AsSpan<float>()[0] = 7f;
        var second = Assert.IsType<HostTensor>(Assert.Single(partition.Run(inputs, options)));
        Assert.Equal(address, second.Value.DataPointer);
        Assert.Equal(new[] { 7f, 2f, 0f, 4f, 0f, 6f }, second.Value.ToArray<float>());
        second.Dispose();

        for (var i = 0; i < 3; i++) Assert.Single(partition.Run(inputs, options)).Dispose();
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 200; i++)
        {
            var results = partition.Run(inputs, options);
            results[0].Dispose();
        }
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(1, partition.BindingsCreated);
    }

    [Fact]
    public void A_held_output_is_never_overwritten_the_next_run_gets_its_own_buffer()
    {
        using var partition = Compile(ReluPart());
        var options = new PartitionRunOptions(null, default) { ReusableOutputs = Reusable };
        using var x = AccelTensor.Create(new[] { -1f, 2f, -3f, 4f, -5f, 6f }, 2, 3);
        using var other = AccelTensor.Create(new[] { 1f, 1f, 1f, 1f, 1f, 1f }, 2, 3);

        var held = (HostTensor)partition.Run([new HostTensor(x)], options)[0];
        var next = (HostTensor)partition.Run([new HostTensor(other)], options)[0];
        Assert.NotEqual(held.Value.DataPointer, next.Value.DataPointer);
        Assert.Equal(new[] { 0f, 2f, 0f, 4f, 0f, 6f }, held.Value.ToArray<float>());
        Assert.Equal(new[] { 1f, 1f, 1f, 1f, 1f, 1f }, next.Value.ToArray<float>());
        held.Dispose();
        held.Dispose(); // a second dispose of one lending hands nothing back twice
        next.Dispose();
        Assert.Equal(2, partition.BindingsCreated);

        // Both bindings are idle again: runs reuse them and make no third.
        for (var i = 0; i < 4; i++) partition.Run([new HostTensor(x)], options)[0].Dispose();
        Assert.Equal(2, partition.BindingsCreated);
    }

    [Fact]
    public void An_output_the_caller_keeps_is_its_own_fresh_tensor_every_run()
    {
        using var partition = Compile(ReluPart());
        var keep = new PartitionRunOptions(null, default) { ReusableOutputs = [false] };
        using var x = AccelTensor.Create(new[] { -1f, 2f, -3f, 4f, -5f, 6f }, 2, 3);
        var a = (HostTensor)partition.Run([new HostTensor(x)], keep)[0];
        a.Dispose(); // the caller's: disposing the wrapper leaves the data
        var b = (HostTensor)partition.Run([new HostTensor(x)], keep)[0];
        Assert.NotEqual(a.Value.DataPointer, b.Value.DataPointer);
        Assert.Equal(b.Value.ToArray<float>(), a.Value.ToArray<float>());
    }

    [Fact]
    public void A_split_plan_reuses_the_cut_edges_buffer_and_concurrent_runs_keep_their_values_apart()
    {
        var model = ReluThenNeg();
        using var session = new AccelSession(SplitAfterRelu(model), new CompileOptions { IntraOpThreads = 1 });
        var relu = (OrtPartition)session.CompiledPartitions[0];
        var neg = (OrtPartition)session.CompiledPartitions[1];
        for (var i = 0; i < 20; i++)
        {
            using var x = AccelTensor.Create(new[] { -1f, 2f, -3f, 4f, -5f, i }, 2, 3);
            Assert.Equal(new[] { 0f, -2f, 0f, -4f, 0f, -i }, session.Run(x)[0].ToArray<float>());
        }
        // One binding each over 20 runs: Relu's output "a" reused, Neg reading it bound once, its output "y" the caller's, fresh each run.
        Assert.Equal(1, relu.BindingsCreated);
        Assert.Equal(1, neg.BindingsCreated);

        Parallel.For(0, 64, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i =>
        {
            using var x = AccelTensor.Create(new[] { -1f, 2f, -3f, 4f, -5f, i }, 2, 3);
            var y = session.Run(x)[0].ToArray<float>();
            Assert.Equal(new[] { 0f, -2f, 0f, -4f, 0f, -i }, y);
        });
        Assert.InRange(relu.BindingsCreated, 1, 64);
    }

    [Fact]
    public void Runs_into_caller_buffers_through_a_split_plan_reuse_the_cut_edge_and_fill_the_buffer()
    {
        using var session = new AccelSession(SplitAfterRelu(ReluThenNeg()), new CompileOptions { IntraOpThreads = 1 });
        var y = AccelTensor.Zeros(ElementType.Float32, new long[] { 2, 3 });
        using var x = AccelTensor.Create(new[] { -1f, 2f, -3f, 4f, -5f, 6f }, 2, 3);
        for (var i = 0; i < 10; i++) session.Run([x], [y]);
        Assert.Equal(new[] { 0f, -2f, 0f, -4f, 0f, -6f }, y.ToArray<float>());
        Assert.Equal(1, ((OrtPartition)session.CompiledPartitions[0]).BindingsCreated);
        Assert.Equal(1, ((OrtPartition)session.CompiledPartitions[1]).BindingsCreated);
    }

    [Fact]
    public void On_device_memory_a_reusable_output_is_one_OrtValue_lent_run_after_run_and_fed_on_in_place()
    {
        // No GPU here: ORT's CPU memory and allocator stand in for a CUDA device's (the same binding code).
        using var backend = new OrtBackend();
        var device = new Device(OrtBackend.BackendName, "ort-standin:0", "CPU memory standing in for a GPU's", DeviceKind.Gpu, MemorySpace.CudaDevice(0, "ort-standin:0"));
        var model = ReluPart();
        using var session = new InferenceSession(OnnxExporter.ToBytes(model));
        using var partition = new OrtPartition(device, session, model, TimeSpan.Zero, deviceMemory: OrtMemoryInfo.DefaultInstance,
            deviceAllocator: () => OrtAllocator.DefaultInstance);
        var options = new PartitionRunOptions(null, default) { ReusableOutputs = Reusable };
        using var x = AccelTensor.Create(new[] { -1f, 2f, -3f, 4f, -5f, 6f }, 2, 3);

        var first = Assert.IsType<OrtDeviceTensor>(Assert.Single(partition.Run([new HostTensor(x)], options)));
        var value = first.Value;
        Assert.Equal(new[] { 0f, 2f, 0f, 4f, 0f, 6f }, backend.Download(first).ToArray<float>());
        first.Dispose();
        Assert.Same(value, first.Value); // lent, not released: the partition keeps it for the next run

        var second = Assert.IsType<OrtDeviceTensor>(partition.Run([new HostTensor(x)], options)[0]);
        Assert.Same(value, second.Value);
        // Fed to a run of the same device as it is, while the partition lends it.
        using var fed = (OrtDeviceTensor)partition.Run([second], new PartitionRunOptions(null, default))[0];
        Assert.Equal(new[] { 0f, 2f, 0f, 4f, 0f, 6f }, backend.Download(fed).ToArray<float>());
        second.Dispose();
        Assert.Equal(1, partition.BindingsCreated);
    }

    [Fact]
    public void A_dynamic_output_is_reallocated_only_when_the_input_shapes_change()
    {
        var g = new Graph { Name = "relu-dynamic" };
        var type = new TensorType(ElementType.Float32, new TensorShape(new[] { Dimension.Symbolic("N"), Dimension.Known(3) }));
        g.Inputs.Add(new ValueInfo("x", type));
        g.Outputs.Add(new ValueInfo("a", type));
        g.Nodes.Add(new Node("Relu", ["x"], ["a"], "relu"));
        var model = new Model(g);
        model.OpsetImports[""] = 17;
        using var partition = Compile(model);
        var options = new PartitionRunOptions(null, default) { ReusableOutputs = Reusable };
        using var two = AccelTensor.Create(new[] { -1f, 2f, -3f, 4f, -5f, 6f }, 2, 3);
        using var one = AccelTensor.Create(new[] { 7f, -8f, 9f }, 1, 3);

        nint RunOnce(AccelTensor x, float[] expected)
        {
            var result = (HostTensor)partition.Run([new HostTensor(x)], options)[0];
            Assert.Equal(x.ShapeArray, result.Shape);
            Assert.Equal(expected, result.Value.ToArray<float>());
            var address = result.Value.DataPointer;
            result.Dispose();
            return address;
        }

        var first = RunOnce(two, [0f, 2f, 0f, 4f, 0f, 6f]); // discovered: ORT allocates, the binding keeps a [2, 3] tensor
        var kept = RunOnce(two, [0f, 2f, 0f, 4f, 0f, 6f]);
        Assert.Equal(kept, RunOnce(two, [0f, 2f, 0f, 4f, 0f, 6f])); // same input shape: the same buffer
        var changed = RunOnce(one, [7f, 0f, 9f]); // new shape: discovered again
        Assert.Equal(RunOnce(one, [7f, 0f, 9f]), RunOnce(one, [7f, 0f, 9f]));
        Assert.Equal(1, partition.BindingsCreated);

        for (var i = 0; i < 3; i++) RunOnce(one, [7f, 0f, 9f]);
        DeviceTensor[] inputs = [new HostTensor(one)];
        partition.Run(inputs, options)[0].Dispose();
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 100; i++) partition.Run(inputs, options)[0].Dispose();
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        _ = (first, changed);
    }

    [Fact]
    public void An_output_whose_shape_depends_on_the_data_falls_back_to_fresh_outputs_with_the_right_values()
    {
        var g = new Graph { Name = "nonzero" };
        g.Inputs.Add(new ValueInfo("x", new TensorType(ElementType.Float32, new TensorShape(2, 3))));
        g.Outputs.Add(new ValueInfo("i", new TensorType(ElementType.Int64, null)));
        g.Nodes.Add(new Node("NonZero", ["x"], ["i"], "nonzero"));
        var model = new Model(g);
        model.OpsetImports[""] = 17;
        using var partition = Compile(model);
        var options = new PartitionRunOptions(null, default) { ReusableOutputs = Reusable };
        using var x = AccelTensor.Create(new[] { 0f, 1f, 0f, 0f, 0f, 2f }, 2, 3);
        DeviceTensor[] inputs = [new HostTensor(x)];
        long[] Indices()
        {
            using var result = partition.Run(inputs, options)[0];
            return ((HostTensor)result).Value.ToArray<long>();
        }
        Assert.Equal(new long[] { 0, 1, 1, 2 }, Indices());
        x.AsSpan<float>()[0] = 3f; // same input shape, one more non-zero: [2, 3] indices instead of [2, 2]
        Assert.Equal(new long[] { 0, 0, 1, 0, 1, 2 }, Indices());
        Assert.Equal(new long[] { 0, 0, 1, 0, 1, 2 }, Indices());
    }
}
