using System.Numerics.Tensors;
using AccelSdk.Backends;
using AccelSdk.Execution;
using AccelSdk.Ir;

namespace AccelSdk.OnnxRuntime.Tests;

/// <summary>Issue 12 on ONNX Runtime: caller memory wrapped without copies, runs into caller buffers, cancellation.</summary>
public class CallerBufferTests
{
    private static DeviceTarget Ort => AccelRuntime.Default.Resolve("ort-cpu");

    private static AccelSession Session(Model model) =>
        new(GraphPartitioner.WholeModel(model, Ort.Backend, Ort.Device), new CompileOptions { IntraOpThreads = 1 });

    /// <summary>y = Relu(x), z = Neg(x) with x float[dims] (declared, so ONNX Runtime knows the output shapes).</summary>
    private static Model ReluNeg(params Dimension[] dims)
    {
        var g = new Graph { Name = "relu-neg" };
        var type = new TensorType(ElementType.Float32, new TensorShape(dims));
        g.Inputs.Add(new ValueInfo("x", type));
        g.Outputs.Add(new ValueInfo("y", type));
        g.Outputs.Add(new ValueInfo("z", type));
        g.Nodes.Add(new Node("Relu", new[] { "x" }, new[] { "y" }, "relu"));
        g.Nodes.Add(new Node("Neg", new[] { "x" }, new[] { "z" }, "neg"));
        var m = new Model(g);
        m.OpsetImports[""] = 17;
        return m;
    }

    private static Model StaticReluNeg() => ReluNeg(Dimension.Known(2), Dimension.Known(3));

    [Fact]
    public void A_wrapped_array_is_read_in_place_and_outputs_land_in_the_callers_buffers()
    {
        using var session = Session(StaticReluNeg());
        var data = new[] { -1f, 2f, -3f, 4f, -5f, 6f };
        using var x = AccelTensor.Wrap(data, 2, 3);
        Assert.Equal(TensorStorageKind.PinnedCallerMemory, x.StorageKind);
        var yData = new float[6];
        using var y = AccelTensor.Wrap(yData, 2, 3);
        var z = AccelTensor.Zeros(ElementType.Float32, new long[] { 2, 3 });

        session.Run(new[] { x }, new[] { y, z });
        Assert.Equal(new[] { 0f, 2f, 0f, 4f, 0f, 6f }, yData);
        Assert.Equal(new[] { 1f, -2f, 3f, -4f, 5f, -6f }, z.ToArray<float>());

        // No copy was taken: changing the caller's array changes the next run's input.
        data[0] = 10f;
        session.Run(new[] { x }, new[] { y, z });
        Assert.Equal(10f, yData[0]);
        Assert.Equal(-10f, z.AsSpan<float>()[0]);
    }

    [Fact]
    public void Steady_state_runs_into_caller_buffers_allocate_no_managed_memory()
    {
        using var session = Session(StaticReluNeg());
        using var x = AccelTensor.Wrap(new[] { -1f, 2f, -3f, 4f, -5f, 6f }, 2, 3);
        var outputs = new[] { AccelTensor.Zeros(ElementType.Float32, new long[] { 2, 3 }), AccelTensor.Zeros(ElementType.Float32, new long[] { 2, 3 }) };
        var inputs = new[] { x };
        for (var i = 0; i < 3; i++) session.Run(inputs, outputs);
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 200; i++) session.Run(inputs, outputs);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
        Assert.Equal(6f, outputs[0].AsSpan<float>()[5]);
    }

    [Fact]
    public void A_skipped_output_is_bound_to_a_scratch_tensor_reused_across_runs_so_steady_state_allocates_nothing()
    {
        using var session = Session(StaticReluNeg());
        using var x = AccelTensor.Wrap(new[] { -1f, 2f, -3f, 4f, -5f, 6f }, 2, 3);
        var z = AccelTensor.Zeros(ElementType.Float32, new long[] { 2, 3 });
        var inputs = new[] { x };
        var outputs = new AccelTensor?[] { null, z };
        for (var i = 0; i < 3; i++) session.Run(inputs, outputs);
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 200; i++) session.Run(inputs, outputs);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(new[] { 1f, -2f, 3f, -4f, 5f, -6f }, z.ToArray<float>());

        // Giving the skipped output a buffer again binds it afresh and fills it.
        var y = AccelTensor.Zeros(ElementType.Float32, new long[] { 2, 3 });
        session.Run(inputs, new AccelTensor?[] { y, z });
        Assert.Equal(new[] { 0f, 2f, 0f, 4f, 0f, 6f }, y.ToArray<float>());
    }

    [Fact]
    public void Concurrent_runs_into_their_own_buffers_and_cancelled_runs_do_not_mix_up_results()
    {
        // Four threads share the session (and its one idle binding and direct-run slot), each with its own tensors;
        // a fifth keeps starting runs with cancelled tokens. 4 x 300 small runs: about a second.
        using var session = Session(StaticReluNeg());
        var failures = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var workers = Enumerable.Range(1, 4).Select(id => new Thread(() =>
        {
            using var x = AccelTensor.Wrap(Enumerable.Range(0, 6).Select(i => (float)(id * 10 + i)).ToArray(), 2, 3);
            var outputs = new[] { AccelTensor.Zeros(ElementType.Float32, new long[] { 2, 3 }), AccelTensor.Zeros(ElementType.Float32, new long[] { 2, 3 }) };
            for (var r = 0; r < 300; r++)
            {
                session.Run(new[] { x }, outputs);
                if (outputs[0].AsSpan<float>()[5] != id * 10 + 5 || outputs[1].AsSpan<float>()[0] != -id * 10) failures.Enqueue($"thread {id} run {r}");
            }
        })).ToList();
        var canceller = new Thread(() =>
        {
            var x = AccelTensor.Zeros(ElementType.Float32, new long[] { 2, 3 });
            for (var r = 0; r < 300; r++)
            {
                try
                {
                    session.RunAsync(new[] { x }, new CancellationToken(canceled: true)).GetAwaiter().GetResult();
                    failures.Enqueue("a cancelled run completed");
                }
                catch (OperationCanceledException)
                {
                }
            }
        });
        workers.Add(canceller);
        workers.ForEach(t => t.Start());
        workers.ForEach(t => t.Join());
        Assert.Empty(failures);
    }

    [Fact]
    public void A_run_into_buffers_is_traced_like_any_run()
    {
        using var parentSource = new System.Diagnostics.ActivitySource("AccelSdk.OnnxRuntime.Tests.CallerBuffers");
        var stopped = new System.Collections.Concurrent.ConcurrentQueue<System.Diagnostics.Activity>();
        using var listener = new System.Diagnostics.ActivityListener
        {
            ShouldListenTo = source => source.Name is "AccelSdk" or "AccelSdk.OnnxRuntime.Tests.CallerBuffers",
            Sample = (ref System.Diagnostics.ActivityCreationOptions<System.Diagnostics.ActivityContext> _) => System.Diagnostics.ActivitySamplingResult.AllData,
            ActivityStopped = stopped.Enqueue,
        };
        System.Diagnostics.ActivitySource.AddActivityListener(listener);
        using var session = Session(StaticReluNeg());
        var x = AccelTensor.Zeros(ElementType.Float32, new long[] { 2, 3 });
        var outputs = new[] { AccelTensor.Zeros(ElementType.Float32, new long[] { 2, 3 }), AccelTensor.Zeros(ElementType.Float32, new long[] { 2, 3 }) };
        session.Run(new[] { x }, outputs); // computes the run estimate once
        using (var parent = parentSource.StartActivity("parent"))
        {
            session.Run(new[] { x }, outputs);
            Assert.Contains(stopped, a => a.OperationName == "AccelSdk.Run" && a.ParentSpanId == parent!.SpanId && (string?)a.GetTagItem("device") == "ort-cpu");
        }
    }

    [Fact]
    public void A_buffer_of_the_wrong_type_shape_or_count_is_an_error_naming_the_output()
    {
        using var session = Session(StaticReluNeg());
        var x = AccelTensor.Zeros(ElementType.Float32, new long[] { 2, 3 });
        var good = AccelTensor.Zeros(ElementType.Float32, new long[] { 2, 3 });
        var e = Assert.Throws<OutputMismatchException>(() => session.Run(new[] { x }, new[] { good, AccelTensor.Zeros(ElementType.Float64, new long[] { 2, 3 }) }));
        Assert.Equal("z", e.TensorName);
        Assert.Contains("float64", e.Message);
        e = Assert.Throws<OutputMismatchException>(() => session.Run(new[] { x }, new[] { AccelTensor.Zeros(ElementType.Float32, new long[] { 3, 2 }), good }));
        Assert.Equal("y", e.TensorName);
        e = Assert.Throws<OutputMismatchException>(() => session.Run(new[] { x }, new[] { good }));
        Assert.Equal("z", e.TensorName);
        e = Assert.Throws<OutputMismatchException>(() => session.Run(new[] { x }, new[] { good, x }));
        Assert.Contains("shares memory with input 'x'", e.Message);
        e = Assert.Throws<OutputMismatchException>(() => session.Run(new[] { x }, new[] { good, good.WithName("alias") }));
        Assert.Contains("shares memory with the buffer of output 'y'", e.Message);
    }

    [Fact]
    public void Dynamic_outputs_are_copied_into_buffers_and_checked_against_what_the_run_produced()
    {
        using var session = Session(ReluNeg(Dimension.Symbolic("N"), Dimension.Known(3)));
        var x = AccelTensor.Create(new[] { -1f, 2f, -3f, 4f, -5f, 6f }, 2, 3);
        var y = AccelTensor.Zeros(ElementType.Float32, new long[] { 2, 3 });
        session.Run(new[] { x }, new AccelTensor?[] { y, null });
        Assert.Equal(new[] { 0f, 2f, 0f, 4f, 0f, 6f }, y.ToArray<float>());

        // [1,3] fits the declared [N,3], but the run produces [2,3].
        var e = Assert.Throws<OutputMismatchException>(() => session.Run(new[] { x }, new AccelTensor?[] { AccelTensor.Zeros(ElementType.Float32, new long[] { 1, 3 }), null }));
        Assert.Equal("y", e.TensorName);
        Assert.Contains("produced float32[2,3]", e.Message);
    }

    [Fact]
    public void A_SystemNumerics_tensor_is_wrapped_without_a_copy_and_outputs_are_viewed_as_tensor_spans()
    {
        using var session = Session(StaticReluNeg());
        var source = Tensor.Create(new[] { -1f, 2f, -3f, 4f, -5f, 6f }, new nint[] { 2, 3 });
        using var x = AccelTensor.Wrap(source);
        Assert.Equal(new long[] { 2, 3 }, x.ShapeArray);
        source[0, 0] = -7f;
        var result = session.Run(x);
        var z = result["z"].AsTensorSpan<float>();
        Assert.Equal(7f, z[0, 0]);
        Assert.Equal(-6f, z[1, 2]);
        Assert.Equal(new nint[] { 2, 3 }, z.Lengths.ToArray());
        Assert.Equal(6f, result["y"].ToTensor<float>()[1, 2]);
    }

    [Fact]
    public async Task Cancelling_a_never_ending_run_stops_it_and_the_session_runs_normally_afterwards()
    {
        using var session = Session(ReliabilityTests.NeverEndingLoop());
        var loopForever = new[] { AccelTensor.FromBytes(ElementType.Bool, Array.Empty<long>(), new byte[] { 1 }), AccelTensor.FromArray(2f) };
        using var cancel = new CancellationTokenSource();
        var run = session.RunAsync(loopForever, cancel.Token);
        await Task.Delay(200);
        Assert.False(run.IsCompleted);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        cancel.Cancel();
        var e = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"stopped {watch.Elapsed} after cancellation");
        Assert.Equal(cancel.Token, e.CancellationToken);

        var stopAtOnce = new[] { AccelTensor.FromBytes(ElementType.Bool, Array.Empty<long>(), new byte[] { 0 }), AccelTensor.FromArray(3f) };
        Assert.Equal(3f, (await session.RunAsync(stopAtOnce, CancellationToken.None))[0].ToArray<float>()[0]);
        var buffer = AccelTensor.Zeros(ElementType.Float32, new long[] { 1 });
        await session.RunAsync(stopAtOnce, new[] { buffer }, CancellationToken.None);
        Assert.Equal(3f, buffer.AsSpan<float>()[0]);
    }

    [Fact]
    public void Disposing_a_partition_terminates_a_cancellable_run_in_progress()
    {
        // A cancellable run has its own RunOptions: Dispose must terminate those too, not only the shared ones.
        var partition = Ort.Backend.Compile(Ort.Device, ReliabilityTests.NeverEndingLoop(), new CompileOptions());
        var inputs = new DeviceTensor[] { new HostTensor(AccelTensor.FromBytes(ElementType.Bool, Array.Empty<long>(), new byte[] { 1 })), new HostTensor(AccelTensor.FromArray(2f)) };
        using var cancel = new CancellationTokenSource();
        Exception? failure = null;
        var runner = new Thread(() =>
        {
            try
            {
                partition.Run(inputs, new PartitionRunOptions(null, cancel.Token));
            }
            catch (Exception e)
            {
                failure = e;
            }
        });
        runner.Start();
        Thread.Sleep(300);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        partition.Dispose();
        Assert.True(runner.Join(TimeSpan.FromSeconds(10)), "the run went on after Dispose");
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"Dispose took {watch.Elapsed}");
        Assert.IsType<ObjectDisposedException>(failure);
    }

    [Fact]
    public async Task A_token_cancelled_before_the_run_stops_it_before_anything_runs()
    {
        using var session = Session(StaticReluNeg());
        var x = AccelTensor.Zeros(ElementType.Float32, new long[] { 2, 3 });
        var task = session.RunAsync(new[] { x }, new CancellationToken(canceled: true));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => task);
        Assert.Equal(0f, session.Run(x)[0].AsSpan<float>()[0]);
    }

    [Fact]
    public void Native_storage_past_2_GiB_runs_on_ONNX_Runtime()
    {
        // 2^29 + 2^20 floats: just over 2 GiB, one dense tensor the pinned-array storage cannot hold. About 2 s.
        const long count = (1L << 29) + (1L << 20);
        var g = new Graph { Name = "max" };
        g.Inputs.Add(new ValueInfo("x", new TensorType(ElementType.Float32, new TensorShape(count))));
        g.Outputs.Add(new ValueInfo("m", new TensorType(ElementType.Float32, TensorShape.Scalar)));
        var reduce = new Node("ReduceMax", new[] { "x" }, new[] { "m" }, "max");
        reduce.Attributes.Add(NodeAttribute.Int("keepdims", 0));
        g.Nodes.Add(reduce);
        var model = new Model(g);
        model.OpsetImports[""] = 17;
        using var session = Session(model);
        using var x = AccelTensor.AllocateNative(ElementType.Float32, new[] { count }, "x");
        Assert.True(x.ByteLength > AccelTensor.MaxByteLength);
        Assert.Throws<InvalidOperationException>(() => x.Bytes.Length);
        x.AsTensorSpan<float>()[(nint)(count - 1)] = 7f;
        var m = AccelTensor.Zeros(ElementType.Float32, Array.Empty<long>());
        session.Run(new[] { x }, new[] { m });
        Assert.Equal(7f, m.AsSpan<float>()[0]);
    }

    [Fact]
    public void A_static_output_past_2_GiB_comes_back_in_native_storage()
    {
        // Expand a float[1] to 2^29 + 2^20 floats: ONNX Runtime writes just over 2 GiB into native memory. About 2 s.
        const long count = (1L << 29) + (1L << 20);
        var g = new Graph { Name = "expand" };
        g.Inputs.Add(new ValueInfo("x", new TensorType(ElementType.Float32, new TensorShape(1))));
        g.Outputs.Add(new ValueInfo("y", new TensorType(ElementType.Float32, new TensorShape(count))));
        g.Initializers.Add(AccelTensor.FromArray(count).WithName("shape"));
        g.Nodes.Add(new Node("Expand", new[] { "x", "shape" }, new[] { "y" }, "expand"));
        var model = new Model(g);
        model.OpsetImports[""] = 17;
        using var session = Session(model);
        using var y = session.Run(AccelTensor.FromArray(3f))[0];
        Assert.Equal(TensorStorageKind.Native, y.StorageKind);
        Assert.Equal(count * 4, y.ByteLength);
        var view = y.AsTensorSpan<float>();
        Assert.Equal(3f, view[(nint)(count - 1)]);
        y.Dispose();
        Assert.Throws<ObjectDisposedException>(() => y.DataPointer);
    }
}
