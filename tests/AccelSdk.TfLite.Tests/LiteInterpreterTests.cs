using AccelSdk.Ir;

namespace AccelSdk.TfLite.Tests;

public class LiteInterpreterTests
{
    public LiteInterpreterTests() => TestEnvironment.RequireRuntime();

    [Fact]
    public void AddBin_computes_three_times_its_input_exactly()
    {
        using var model = LiteModel.FromFile(TestEnvironment.Model("add.bin"));
        using var interpreter = new LiteInterpreter(model);
        var input = interpreter.Inputs.Single();
        Assert.Equal(ElementType.Float32, input.ElementType);
        var shape = input.Shape.Select(d => (long)d).ToArray();
        var count = (int)Tensor.CountElements(shape);
        var data = Enumerable.Range(0, count).Select(i => (i - count / 2) * 0.37f).ToArray();
        var output = interpreter.Run(Tensor.Create(data, shape)).Single();
        Assert.Equal(shape, output.ShapeArray);
        var values = output.ToArray<float>();
        for (var i = 0; i < count; i++) Assert.Equal(3 * data[i], values[i]);
    }
}
