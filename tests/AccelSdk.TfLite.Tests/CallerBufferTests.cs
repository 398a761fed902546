using AccelSdk.Backends;
using AccelSdk.Execution;
using AccelSdk.Ir;

namespace AccelSdk.TfLite.Tests;

/// <summary>Issue 12 on the TFLite runtime: wrapped inputs, outputs copied into caller buffers, cancellation before the invoke.</summary>
public sealed class CallerBufferTests
{
    public CallerBufferTests() => TestEnvironment.RequireRuntime();

    private static AccelSession AddSession()
    {
        var model = Model.Load(TestEnvironment.Model("add.bin"));
        var (backend, device) = AccelRuntime.Default.Resolve("tflite-cpu");
        return new AccelSession(GraphPartitioner.WholeModel(model, backend, device));
    }

    [Fact]
    public void Outputs_are_copied_from_TFLite_into_the_callers_buffer()
    {
        using var session = AddSession();
        var data = Enumerable.Range(0, 192).Select(i => i * 0.25f).ToArray();
        using var x = AccelTensor.Wrap(data, 1, 8, 8, 3);
        var yData = new float[192];
        using var y = AccelTensor.Wrap(yData, 1, 8, 8, 3);
        session.Run(new[] { x }, new[] { y });
        Assert.Equal(data.Select(v => 3 * v), yData);

        var e = Assert.Throws<OutputMismatchException>(() => session.Run(new[] { x }, new[] { AccelTensor.Zeros(ElementType.Float32, new long[] { 1, 8, 8, 4 }) }));
        Assert.Equal(session.OutputNames[0], e.TensorName);
    }

    [Fact]
    public async Task A_cancelled_token_stops_the_run_before_the_invoke_and_the_session_stays_usable()
    {
        using var session = AddSession();
        var x = AccelTensor.Create(Enumerable.Range(0, 192).Select(i => (float)i).ToArray(), 1, 8, 8, 3);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => session.RunAsync(new[] { x }, new CancellationToken(canceled: true)));
        var y = await session.RunAsync(new[] { x }, CancellationToken.None);
        Assert.Equal(3f * 191, y[0].ToArray<float>()[191]);
    }
}
