using AccelSdk.Ir;

namespace AccelSdk.Onnx.Conformance;

/// <summary>Compares tensors like numpy's <c>assert_allclose</c>: |actual - expected| &lt;= atol + rtol * |expected|.</summary>
public static class TensorComparison
{
    /// <summary>
    /// Null when <paramref name="actual"/> matches <paramref name="expected"/>; otherwise a one-line description of the
    /// first difference. Shapes and element types must be equal; NaN equals NaN; integers, bools and strings must be exact.
    /// </summary>
    public static string? Compare(AccelTensor actual, AccelTensor expected, double rtol = 1e-3, double atol = 1e-5)
    {
        if (actual.ElementType != expected.ElementType)
        {
            return $"dtype {actual.ElementType.ShortName()} but expected {expected.ElementType.ShortName()}";
        }
        if (!actual.Shape.SequenceEqual(expected.Shape))
        {
            return $"shape {TensorShape.Format(actual.Shape)} but expected {TensorShape.Format(expected.Shape)}";
        }
        var count = expected.ElementCount;
        if (expected.IsString)
        {
            for (var i = 0; i < count; i++)
            {
                if (actual.Strings[i] != expected.Strings[i]) return $"string at {i}: '{actual.Strings[i]}' but expected '{expected.Strings[i]}'";
            }
            return null;
        }
        if (expected.ElementType is ElementType.Complex64 or ElementType.Complex128)
        {
            var a = expected.ElementType == ElementType.Complex64 ? actual.AsSpan<float>().ToArray().Select(v => (double)v).ToArray() : actual.AsSpan<double>().ToArray();
            var e = expected.ElementType == ElementType.Complex64 ? expected.AsSpan<float>().ToArray().Select(v => (double)v).ToArray() : expected.AsSpan<double>().ToArray();
            return CompareDoubles(a.Length, i => a[i], i => e[i], rtol, atol);
        }
        if (!expected.ElementType.IsFloatingPoint())
        {
            return actual.Bytes.SequenceEqual(expected.Bytes) ? null : FirstIntegerDifference(actual, expected);
        }
        return CompareDoubles(count, actual.GetAsDouble, expected.GetAsDouble, rtol, atol);
    }

    /// <summary>Largest absolute difference between two numeric tensors of equal shape (NaN pairs count as equal).</summary>
    public static double MaxAbsDifference(AccelTensor a, AccelTensor b)
    {
        double max = 0;
        for (long i = 0; i < a.ElementCount; i++)
        {
            var x = a.GetAsDouble(i);
            var y = b.GetAsDouble(i);
            if (double.IsNaN(x) && double.IsNaN(y)) continue;
            var d = Math.Abs(x - y);
            if (double.IsNaN(d) || d > max) max = double.IsNaN(d) ? double.PositiveInfinity : d;
        }
        return max;
    }

    private static string? CompareDoubles(long count, Func<long, double> actual, Func<long, double> expected, double rtol, double atol)
    {
        long mismatched = 0;
        long first = -1;
        for (long i = 0; i < count; i++)
        {
            var a = actual(i);
            var e = expected(i);
            bool ok;
            if (double.IsNaN(e) || double.IsNaN(a)) ok = double.IsNaN(e) && double.IsNaN(a);
            else if (double.IsInfinity(e) || double.IsInfinity(a)) ok = a == e;
            else ok = Math.Abs(a - e) <= atol + rtol * Math.Abs(e);
            if (!ok)
            {
                mismatched++;
                if (first < 0) first = i;
            }
        }
        return mismatched == 0 ? null
            : $"{mismatched}/{count} elements differ; first at {first}: {actual(first):R} but expected {expected(first):R} (rtol={rtol}, atol={atol})";
    }

    private static string FirstIntegerDifference(AccelTensor actual, AccelTensor expected)
    {
        for (long i = 0; i < expected.ElementCount; i++)
        {
            var a = actual.GetAsDouble(i);
            var e = expected.GetAsDouble(i);
            if (a != e) return $"element {i}: {a} but expected {e} (exact match required)";
        }
        return "bytes differ";
    }
}
