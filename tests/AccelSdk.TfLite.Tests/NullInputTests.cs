using AccelSdk.Backends;
using AccelSdk.Ir;
using AccelSdk.TfLite.Import;

namespace AccelSdk.TfLite.Tests;

/// <summary>A null input array or element gave NullReferenceException; it is an <see cref="InputMismatchException"/>.</summary>
public sealed class NullInputTests
{
    [Fact]
    public void Interpreter_NullInputs_AreInputMismatch()
    {
        TestEnvironment.RequireRuntime();
        using var model = LiteModel.FromFile(TestEnvironment.Model("add.bin"));
        using var interpreter = new LiteInterpreter(model);
        Assert.Throws<InputMismatchException>(() => interpreter.Run(null!));
        var error = Assert.Throws<InputMismatchException>(() => interpreter.Run(new AccelTensor[] { null! }));
        Assert.Equal("#0", error.TensorName);
    }

    [Fact]
    public void Partition_NullInput_IsInputMismatchNamingTheInput()
    {
        TestEnvironment.RequireRuntime();
        using var backend = new TfLiteBackend();
        var model = TfLiteImporter.Load(TestEnvironment.Model("add.bin"));
        using var partition = backend.Compile(backend.Devices[0], model, new CompileOptions());
        var error = Assert.Throws<InputMismatchException>(() => partition.Run(new DeviceTensor[] { null! }));
        Assert.Equal(partition.Inputs[0].Name, error.TensorName);
    }
}
