using AccelSdk.Backends;
using AccelSdk.Execution;
using AccelSdk.Ir;
using AccelSdk.Tests.Stress;
using Xunit;

namespace AccelSdk.Ilgpu.Tests;

/// <summary>Issue 15 on ILGPU: Dispose during Run and null inputs.</summary>
public class LifetimeTests
{
    /// <summary>y = Relu(x) with x float[N,4].</summary>
    private static Model Relu() => TinyModels.Single(new Node("Relu", new[] { "x" }, new[] { "y" }, "relu"),
        new[] { new ValueInfo("x", new TensorType(ElementType.Float32, new TensorShape(new[] { Dimension.Symbolic("N"), Dimension.Known(4) }))) },
        new[] { new ValueInfo("y", new TensorType(ElementType.Float32, null)) });

    /// <summary>y = x · W: a constant the partition uploads and frees on Dispose.</summary>
    private static Model WithConstant()
    {
        var model = TinyModels.Single(new Node("MatMul", new[] { "x", "W" }, new[] { "y" }, "mm"),
            new[] { TinyModels.F32("x", 8, 64) }, new[] { new ValueInfo("y", new TensorType(ElementType.Float32, null)) });
        var identity = new float[64 * 64];
        for (var i = 0; i < 64; i++) identity[i * 64 + i] = 1;
        model.Graph.Initializers.Add(AccelTensor.Create(identity, 64, 64).WithName("W"));
        return model;
    }

    private static AccelSession Session(Model model) => new(GraphPartitioner.WholeModel(model, Shared.Backend, Shared.Cpu));

    [Fact]
    public void Dispose_during_runs_of_a_session_never_crashes_1000_rounds()
    {
        var model = Relu();
        var outcome = DisposeDuringRunStress.RunReluSessions(() => Session(model));
        Assert.Empty(outcome.Failures);
        Assert.True(outcome.RoundsWithRefusal > 0, $"no round disposed the session under running threads: {outcome}");
    }

    [Fact]
    public void A_partition_disposed_during_runs_refuses_later_runs_with_ObjectDisposedException()
    {
        var model = WithConstant();
        var data = new float[8 * 64];
        for (var i = 0; i < data.Length; i++) data[i] = i % 5;
        var input = new DeviceTensor[] { new HostTensor(AccelTensor.Create(data, 8, 64)) };
        var outcome = DisposeDuringRunStress.Run(300, 3, () => Shared.Backend.Compile(Shared.Cpu, model, new CompileOptions()), p =>
        {
            var outputs = p.Run(input);
            try
            {
                if (!Shared.Backend.Download(outputs[0]).ToArray<float>().AsSpan().SequenceEqual(data)) throw new InvalidOperationException("wrong result");
            }
            finally
            {
                foreach (var o in outputs) o.Dispose();
            }
        });
        Assert.Empty(outcome.Failures);
        Assert.True(outcome.RoundsWithRefusal > 0, $"no round disposed the partition under running threads: {outcome}");
    }

    [Fact]
    public void Null_inputs_are_argument_errors_naming_the_input()
    {
        using var session = Session(Relu());
        Assert.Contains("input #0 ('x') is null", Assert.Throws<ArgumentNullException>(() => session.Run(new AccelTensor[] { null! })).Message);
        Assert.Contains("input 'x' is null", Assert.Throws<ArgumentNullException>(() => session.Run(new Dictionary<string, AccelTensor> { ["x"] = null! })).Message);
        using var partition = Shared.Backend.Compile(Shared.Cpu, Relu(), new CompileOptions());
        Assert.Contains("input 'x' is null", Assert.Throws<ArgumentNullException>(() => partition.Run(new DeviceTensor[] { null! })).Message);
    }
}
