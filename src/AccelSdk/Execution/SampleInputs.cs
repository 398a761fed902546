using AccelSdk.Ir;

namespace AccelSdk.Execution;

/// <summary>Deterministic inputs for measuring or smoke-running a model when the user gives none.</summary>
public static class SampleInputs
{
    /// <summary>
    /// Fixed-seed inputs for every required input: floats uniform in [0, 1), integers 0 (safe as indices),
    /// bools random, strings empty. Symbolic or unknown dimensions take <paramref name="symbolicDimension"/>. Each
    /// tensor is checked against <paramref name="limits"/> (<see cref="ResourceLimits.Default"/> when null) before it
    /// is allocated.
    /// </summary>
    public static Dictionary<string, AccelTensor> Random(Model model, int seed = 42, long symbolicDimension = 1, ResourceLimits? limits = null)
    {
        limits ??= ResourceLimits.Default;
        var random = new Random(seed);
        var result = new Dictionary<string, AccelTensor>(StringComparer.Ordinal);
        foreach (var input in model.Graph.RequiredInputs)
        {
            if (input.Type is not TensorType type)
            {
                throw new InputMismatchException(input.Name, $"{model.Label}: input type {input.Type?.ToString() ?? "undeclared"} is not a tensor; give a sample input");
            }
            if (type.Shape is null)
            {
                throw new InputMismatchException(input.Name, $"{model.Label}: input has unknown rank; give a sample input");
            }
            if (type.ElementType != ElementType.String && type.ElementType.SizeInBytes() == 0)
            {
                throw new InputMismatchException(input.Name, $"{model.Label}: input element type {type.ElementType.ShortName()} has no dense storage; give a sample input");
            }
            var shape = type.Shape.Dims.Select(d => d.Value ?? symbolicDimension).ToArray();
            AccelTensor tensor;
            try
            {
                limits.CheckTensor(input.Name, ResourceLimits.BytesOf(type.ElementType, shape, input.Name), $"sample input {type.ElementType.ShortName()}{TensorShape.Format(shape)} of {model.Label}");
                tensor = AccelTensor.Zeros(type.ElementType, shape, input.Name);
            }
            catch (InvalidTensorException e)
            {
                throw new InputMismatchException(input.Name, $"{model.Label}: no sample input can be made: {e.Message}");
            }
            var n = (int)tensor.ElementCount;
            switch (type.ElementType)
            {
                case ElementType.Float32:
                {
                    var span = tensor.AsSpan<float>();
                    for (var i = 0; i < n; i++) span[i] = (float)random.NextDouble();
                    break;
                }
                case ElementType.Float64:
                {
                    var span = tensor.AsSpan<double>();
                    for (var i = 0; i < n; i++) span[i] = random.NextDouble();
                    break;
                }
                case ElementType.Float16:
                {
                    var span = tensor.AsSpan<Half>();
                    for (var i = 0; i < n; i++) span[i] = (Half)random.NextDouble();
                    break;
                }
                case ElementType.Bool:
                {
                    var span = tensor.AsSpan<byte>();
                    for (var i = 0; i < n; i++) span[i] = (byte)random.Next(2);
                    break;
                }
            }
            result[input.Name] = tensor;
        }
        return result;
    }
}
