using AccelSdk.Ir;

namespace AccelSdk.TfLite.Tests;

internal static class TestData
{
    /// <summary>Fixed-seed inputs matching the interpreter's current input types and shapes.</summary>
    public static AccelTensor[] RandomInputs(IReadOnlyList<LiteTensorInfo> inputs, int seed = 1)
    {
        var random = new Random(seed);
        return inputs.Select(info =>
        {
            var shape = info.Shape.Select(d => (long)d).ToArray();
            var n = (int)AccelTensor.CountElements(shape);
            return info.ElementType switch
            {
                ElementType.Float32 => AccelTensor.Create(Enumerable.Range(0, n).Select(_ => (float)random.NextDouble()).ToArray(), shape),
                ElementType.Int8 => AccelTensor.Create(Enumerable.Range(0, n).Select(_ => (sbyte)random.Next(-128, 128)).ToArray(), shape),
                ElementType.UInt8 => AccelTensor.Create(Enumerable.Range(0, n).Select(_ => (byte)random.Next(0, 256)).ToArray(), shape),
                _ => throw new NotSupportedException($"no random data for {info}"),
            };
        }).ToArray();
    }

    /// <summary>
    /// Asserts |actual - expected| &lt;= atol + rtol * max|expected| elementwise (relative to the output's scale, so
    /// near-zero elements of a large output are not judged on their own magnitude); returns the largest difference.
    /// </summary>
    public static double AssertClose(AccelTensor expected, AccelTensor actual, double rtol, double atol, string what)
    {
        Assert.Equal(expected.ElementType, actual.ElementType);
        Assert.Equal(expected.ShapeArray, actual.ShapeArray);
        double scale = 0, worst = 0;
        for (var i = 0; i < expected.ElementCount; i++) scale = Math.Max(scale, Math.Abs(expected.GetAsDouble(i)));
        var limit = atol + rtol * scale;
        for (var i = 0; i < expected.ElementCount; i++)
        {
            var d = Math.Abs(expected.GetAsDouble(i) - actual.GetAsDouble(i));
            worst = Math.Max(worst, d);
            if (!(d <= limit)) Assert.Fail($"{what}: element {i} differs by {d:G4} (expected {expected.GetAsDouble(i):G6}, got {actual.GetAsDouble(i):G6}; limit {limit:G4} = {atol} + {rtol} x {scale:G4})");
        }
        return worst;
    }
}
