using AccelSdk.Ir;

namespace AccelSdk.Optimize.Quantization;

/// <summary>Scale and zero point of one affine quantization: <c>real = (q - zeroPoint) * scale</c>.</summary>
/// <param name="Scale">Step between two quantized levels.</param>
/// <param name="ZeroPoint">The quantized value of real 0.</param>
public readonly record struct QuantParams(float Scale, int ZeroPoint);

/// <summary>A weight tensor in int8 with its scales and zero points (one per channel, or one for the tensor).</summary>
internal sealed record QuantizedWeight(AccelTensor Values, AccelTensor Scales, AccelTensor ZeroPoints, int? Axis);

/// <summary>The arithmetic of affine int8/uint8 quantization.</summary>
public static class QuantizationMath
{
    /// <summary>Smallest and largest level of <paramref name="type"/> (int8 or uint8); symmetric int8 uses -127..127.</summary>
    public static QuantizationLevels Levels(ElementType type, bool symmetric = false, bool reduceRange = false) => type switch
    {
        ElementType.UInt8 => reduceRange ? new(0, 127) : new(0, 255),
        ElementType.Int8 => reduceRange ? new(-64, 63) : symmetric ? new(-127, 127) : new(-128, 127),
        _ => throw new ArgumentException($"{type.ShortName()} is not a quantized type (int8, uint8)"),
    };

    /// <summary>
    /// Parameters that map [<paramref name="min"/>, <paramref name="max"/>] (widened to contain 0, so 0 is exact) onto
    /// the levels of <paramref name="type"/>. Symmetric parameters put real 0 at the middle level.
    /// </summary>
    public static QuantParams Compute(float min, float max, ElementType type, bool symmetric, bool reduceRange = false)
    {
        if (float.IsNaN(min) || float.IsNaN(max)) throw new ArgumentException("range is NaN");
        min = MathF.Min(min, 0);
        max = MathF.Max(max, 0);
        var (qmin, qmax) = Levels(type, symmetric, reduceRange);
        if (symmetric)
        {
            var absMax = MathF.Max(-min, max);
            var scale = absMax == 0 ? 1f : 2 * absMax / (qmax - qmin);
            var zero = type == ElementType.UInt8 ? (qmax + qmin + 1) / 2 : 0;
            return new QuantParams(scale, zero);
        }
        var s = max == min ? 1f : (max - min) / (qmax - qmin);
        var zp = (int)Math.Round(qmin - min / s, MidpointRounding.ToEven);
        return new QuantParams(s, Math.Clamp(zp, qmin, qmax));
    }

    /// <summary>Quantizes one value with saturation.</summary>
    public static int Quantize(float value, QuantParams p, int qmin, int qmax)
    {
        var q = MathF.Round(value / p.Scale, MidpointRounding.ToEven) + p.ZeroPoint;
        return (int)Math.Clamp(q, qmin, qmax);
    }

    /// <summary>
    /// Quantizes a float32 weight to int8, per tensor (<paramref name="axis"/> null) or per slice along
    /// <paramref name="axis"/>, symmetric (zero point 0) or asymmetric.
    /// </summary>
    internal static QuantizedWeight QuantizeWeight(AccelTensor weight, int? axis, bool symmetric, bool reduceRange = false, ElementType type = ElementType.Int8)
    {
        if (weight.ElementType != ElementType.Float32) throw new ArgumentException($"weight '{weight.Name}' is {weight.ElementType.ShortName()}, not float32");
        var data = weight.AsSpan<float>();
        var shape = weight.ShapeArray;
        var channels = axis is { } a ? (int)shape[a] : 1;
        var inner = 1;
        if (axis is { } ax) for (var d = ax + 1; d < shape.Length; d++) inner *= (int)shape[d];
        else inner = data.Length;
        var outer = data.Length / (channels * inner);
        var (qmin, qmax) = Levels(type, symmetric, reduceRange);
        var parameters = new QuantParams[channels];
        for (var c = 0; c < channels; c++)
        {
            float min = 0, max = 0;
            for (var o = 0; o < outer; o++)
            {
                var start = (o * channels + c) * inner;
                for (var i = 0; i < inner; i++)
                {
                    var v = data[start + i];
                    if (v < min) min = v;
                    if (v > max) max = v;
                }
            }
            parameters[c] = Compute(min, max, type, symmetric, reduceRange);
        }
        var values = AccelTensor.Zeros(type, shape);
        var bytes = values.Bytes;
        for (var o = 0; o < outer; o++)
        {
            for (var c = 0; c < channels; c++)
            {
                var start = (o * channels + c) * inner;
                for (var i = 0; i < inner; i++)
                {
                    var q = Quantize(data[start + i], parameters[c], qmin, qmax);
                    bytes[start + i] = unchecked((byte)q);
                }
            }
        }
        var scales = axis is null ? AccelTensor.Scalar(parameters[0].Scale) : AccelTensor.Create(parameters.Select(p => p.Scale).ToArray(), channels);
        AccelTensor zeros;
        if (type == ElementType.Int8)
        {
            var zp = parameters.Select(p => (sbyte)p.ZeroPoint).ToArray();
            zeros = axis is null ? AccelTensor.Scalar(zp[0]) : AccelTensor.Create(zp, channels);
        }
        else
        {
            var zp = parameters.Select(p => (byte)p.ZeroPoint).ToArray();
            zeros = axis is null ? AccelTensor.Scalar(zp[0]) : AccelTensor.Create(zp, channels);
        }
        return new QuantizedWeight(values, scales, zeros, axis);
    }
}

/// <summary>The smallest and largest level of a quantized type, as <see cref="QuantizationMath.Levels"/> gives them.</summary>
/// <param name="Min">The smallest level.</param>
/// <param name="Max">The largest level.</param>
public sealed record QuantizationLevels(int Min, int Max);
