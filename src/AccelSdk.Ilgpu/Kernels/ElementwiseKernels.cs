using ILGPU;
using ILGPU.Algorithms;

namespace AccelSdk.Ilgpu.Kernels;

/// <summary>Unary operator codes of <see cref="ElementwiseKernels.Unary"/>.</summary>
internal enum UnaryOp
{
    Identity, Relu, LeakyRelu, Sigmoid, HardSigmoid, HardSwish, Tanh, Elu, Selu, Softplus, Clip, Erf, Exp, Log, Sqrt,
    Neg, Abs, Reciprocal, Floor, Ceil, Scale, Softsign, Sin, Cos,
}

/// <summary>Binary operator codes of <see cref="ElementwiseKernels.Binary"/>.</summary>
internal enum BinaryOp
{
    Add, Sub, Mul, Div, Pow, Max, Min, PRelu,
}

/// <summary>Comparison codes of <see cref="ElementwiseKernels.Compare"/>.</summary>
internal enum CompareOp
{
    Equal, Greater, Less, GreaterOrEqual, LessOrEqual,
}

internal struct UnaryParams
{
    public int Op;
    public float Alpha;
    public float Beta;
}

internal struct BroadcastParams
{
    public int Op;
    public Dims6 Out;
    public Dims6 A;
    public Dims6 B;
    public Dims6 C;
}

/// <summary>Elementwise kernels: one output element per index (cheap enough per element even on the CPU simulator).</summary>
internal static class ElementwiseKernels
{
    public static void Unary(Index1D i, ArrayView<float> x, ArrayView<float> y, UnaryParams p, Launch launch)
    {
        for (int j = 0; j < launch.Chunk; j++)
        {
            int e = i * launch.IndexStride + j * launch.ElementStride;
            if (e >= launch.Total) return;
            y[e] = Apply((UnaryOp)p.Op, x[e], p.Alpha, p.Beta);
        }
    }

    public static float Apply(UnaryOp op, float v, float alpha, float beta)
    {
        switch (op)
        {
            // NaN fails the comparison and passes through, as in ONNX Runtime.
            case UnaryOp.Relu: return v < 0f ? 0f : v;
            case UnaryOp.LeakyRelu: return v >= 0f ? v : alpha * v;
            case UnaryOp.Sigmoid: return v >= 0f ? 1f / (1f + XMath.Exp(-v)) : XMath.Exp(v) / (1f + XMath.Exp(v));
            case UnaryOp.HardSigmoid: return Max(0f, Min(1f, alpha * v + beta));
            case UnaryOp.HardSwish: return v * Max(0f, Min(1f, v / 6f + 0.5f));
            case UnaryOp.Tanh: return XMath.Tanh(v);
            case UnaryOp.Elu: return v >= 0f ? v : alpha * (XMath.Exp(v) - 1f);
            case UnaryOp.Selu: return v > 0f ? beta * v : beta * (alpha * XMath.Exp(v) - alpha);
            case UnaryOp.Softplus: return v > 20f ? v : XMath.Log(1f + XMath.Exp(v));
            case UnaryOp.Clip: return Min(beta, Max(alpha, v));
            case UnaryOp.Erf: return Erf(v);
            case UnaryOp.Exp: return XMath.Exp(v);
            case UnaryOp.Log: return XMath.Log(v);
            case UnaryOp.Sqrt: return XMath.Sqrt(v);
            case UnaryOp.Neg: return -v;
            case UnaryOp.Abs: return XMath.Abs(v);
            case UnaryOp.Reciprocal: return 1f / v;
            case UnaryOp.Floor: return XMath.Floor(v);
            case UnaryOp.Ceil: return XMath.Ceiling(v);
            case UnaryOp.Scale: return alpha * v;
            case UnaryOp.Softsign: return v / (1f + XMath.Abs(v));
            case UnaryOp.Sin: return XMath.Sin(v);
            case UnaryOp.Cos: return XMath.Cos(v);
            default: return v;
        }
    }

    /// <summary>
    /// max(a, b) that returns NaN when either operand is NaN (IEEE 754-2019 <c>maximum</c>, numpy, ONNX Runtime's
    /// element-wise ops). Spelled out because <c>XMath.Max</c> follows the backend: .NET's Math.Max propagates NaN,
    /// PTX's <c>max.f32</c> and OpenCL's <c>fmax</c> return the other operand.
    /// </summary>
    public static float Max(float a, float b) => IsNaN(a) || a > b ? a : b;

    /// <summary>min(a, b) that returns NaN when either operand is NaN; see <see cref="Max"/>.</summary>
    public static float Min(float a, float b) => IsNaN(a) || a < b ? a : b;

    /// <summary>
    /// NaN test on the bits: OpenCL compilers that assume finite math (PoCL with ILGPU's build options) fold
    /// <c>isnan</c> and <c>v != v</c> to false, integer compares survive every backend.
    /// </summary>
    public static bool IsNaN(float v) => (Interop.FloatAsInt(v) & 0x7FFFFFFFu) > 0x7F800000u;

    /// <summary>±Inf test on the bits, see <see cref="IsNaN"/>.</summary>
    public static bool IsInfinity(float v) => (Interop.FloatAsInt(v) & 0x7FFFFFFFu) == 0x7F800000u;

    /// <summary>erf with |error| below 1.2e-7 (Numerical Recipes' erfc Chebyshev fit), computed in double where available.</summary>
    public static float Erf(float xf)
    {
        double x = xf;
        double z = x < 0 ? -x : x;
        double t = 1.0 / (1.0 + 0.5 * z);
        double r = t * XMath.Exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 +
            t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 +
            t * (-0.82215223 + t * 0.17087277)))))))));
        double erf = 1.0 - r;
        return (float)(x >= 0 ? erf : -erf);
    }

    public static void Binary(Index1D i, ArrayView<float> a, ArrayView<float> b, ArrayView<float> y, BroadcastParams p, Launch launch)
    {
        for (int j = 0; j < launch.Chunk; j++)
        {
            int e = i * launch.IndexStride + j * launch.ElementStride;
            if (e >= launch.Total) return;
            var va = a[Dims6.Offset(e, p.Out, p.A)];
            var vb = b[Dims6.Offset(e, p.Out, p.B)];
            float r;
            switch ((BinaryOp)p.Op)
            {
                case BinaryOp.Add: r = va + vb; break;
                case BinaryOp.Sub: r = va - vb; break;
                case BinaryOp.Mul: r = va * vb; break;
                case BinaryOp.Div: r = va / vb; break;
                case BinaryOp.Pow: r = Pow(va, vb); break;
                case BinaryOp.Max: r = Max(va, vb); break;
                case BinaryOp.Min: r = Min(va, vb); break;
                case BinaryOp.PRelu: r = va < 0f ? va * vb : va; break;
                default: r = 0f; break;
            }
            y[e] = r;
        }
    }

    /// <summary>
    /// Integer Add/Sub/Mul/Div/Pow/Max/Min of int64 tensors with ONNX semantics: wrapping on overflow like ONNX Runtime,
    /// Div truncating toward zero. Division by zero (undefined in ONNX) gives 0 instead of faulting the accelerator.
    /// </summary>
    public static void BinaryInt64(Index1D i, ArrayView<long> a, ArrayView<long> b, ArrayView<long> y, BroadcastParams p, Launch launch)
    {
        for (int j = 0; j < launch.Chunk; j++)
        {
            int e = i * launch.IndexStride + j * launch.ElementStride;
            if (e >= launch.Total) return;
            long va = a[Dims6.Offset(e, p.Out, p.A)];
            long vb = b[Dims6.Offset(e, p.Out, p.B)];
            long r;
            switch ((BinaryOp)p.Op)
            {
                case BinaryOp.Add: r = va + vb; break;
                case BinaryOp.Sub: r = va - vb; break;
                case BinaryOp.Mul: r = va * vb; break;
                // -1 separately: MinValue / -1 overflows (wraps to MinValue, as -MinValue does).
                case BinaryOp.Div: r = vb == 0 ? 0L : vb == -1 ? -va : va / vb; break;
                case BinaryOp.Pow: r = PowInt64(va, vb); break;
                case BinaryOp.Max: r = va > vb ? va : vb; break;
                default: r = va < vb ? va : vb; break;
            }
            y[e] = r;
        }
    }

    /// <summary>The int32 counterpart of <see cref="BinaryInt64"/>.</summary>
    public static void BinaryInt32(Index1D i, ArrayView<int> a, ArrayView<int> b, ArrayView<int> y, BroadcastParams p, Launch launch)
    {
        for (int j = 0; j < launch.Chunk; j++)
        {
            int e = i * launch.IndexStride + j * launch.ElementStride;
            if (e >= launch.Total) return;
            int va = a[Dims6.Offset(e, p.Out, p.A)];
            int vb = b[Dims6.Offset(e, p.Out, p.B)];
            int r;
            switch ((BinaryOp)p.Op)
            {
                case BinaryOp.Add: r = va + vb; break;
                case BinaryOp.Sub: r = va - vb; break;
                case BinaryOp.Mul: r = va * vb; break;
                case BinaryOp.Div: r = vb == 0 ? 0 : vb == -1 ? -va : va / vb; break;
                case BinaryOp.Pow: r = (int)PowInt64(va, vb); break;
                case BinaryOp.Max: r = va > vb ? va : vb; break;
                default: r = va < vb ? va : vb; break;
            }
            y[e] = r;
        }
    }

    /// <summary>
    /// Integer power by squaring (wrapping like the products it is made of). A negative exponent gives the truncated
    /// reciprocal power: 1 for base 1, +-1 for base -1, else 0.
    /// </summary>
    public static long PowInt64(long x, long n)
    {
        if (n < 0) return x == 1 ? 1L : x == -1 ? ((n & 1) == 0 ? 1L : -1L) : 0L;
        long result = 1;
        while (n > 0)
        {
            if ((n & 1) != 0) result *= x;
            x *= x;
            n >>= 1;
        }
        return result;
    }

    /// <summary>Abs (Alpha = 0) or Neg (Alpha = 1) of int64, wrapping at MinValue like two's complement.</summary>
    public static void UnaryInt64(Index1D i, ArrayView<long> x, ArrayView<long> y, UnaryParams p, Launch launch)
    {
        for (int j = 0; j < launch.Chunk; j++)
        {
            int e = i * launch.IndexStride + j * launch.ElementStride;
            if (e >= launch.Total) return;
            long v = x[e];
            y[e] = (UnaryOp)p.Op == UnaryOp.Neg ? -v : v < 0 ? -v : v;
        }
    }

    /// <summary>Abs or Neg of int32.</summary>
    public static void UnaryInt32(Index1D i, ArrayView<int> x, ArrayView<int> y, UnaryParams p, Launch launch)
    {
        for (int j = 0; j < launch.Chunk; j++)
        {
            int e = i * launch.IndexStride + j * launch.ElementStride;
            if (e >= launch.Total) return;
            int v = x[e];
            y[e] = (UnaryOp)p.Op == UnaryOp.Neg ? -v : v < 0 ? -v : v;
        }
    }

    /// <summary>Pow with a float base and an int64 exponent (ONNX Pow's T1=float, T2=int64), in double.</summary>
    public static void PowFloatInt64(Index1D i, ArrayView<float> a, ArrayView<long> b, ArrayView<float> y, BroadcastParams p, Launch launch)
    {
        for (int j = 0; j < launch.Chunk; j++)
        {
            int e = i * launch.IndexStride + j * launch.ElementStride;
            if (e >= launch.Total) return;
            y[e] = (float)XMath.Pow((double)a[Dims6.Offset(e, p.Out, p.A)], (double)b[Dims6.Offset(e, p.Out, p.B)]);
        }
    }

    /// <summary>Pow with a float base and an int32 exponent.</summary>
    public static void PowFloatInt32(Index1D i, ArrayView<float> a, ArrayView<int> b, ArrayView<float> y, BroadcastParams p, Launch launch)
    {
        for (int j = 0; j < launch.Chunk; j++)
        {
            int e = i * launch.IndexStride + j * launch.ElementStride;
            if (e >= launch.Total) return;
            y[e] = (float)XMath.Pow((double)a[Dims6.Offset(e, p.Out, p.A)], (double)b[Dims6.Offset(e, p.Out, p.B)]);
        }
    }

    /// <summary>Pow with an int64 base and a float exponent: pow in double, truncated to int64 (as ONNX Runtime casts).</summary>
    public static void PowInt64Float(Index1D i, ArrayView<long> a, ArrayView<float> b, ArrayView<long> y, BroadcastParams p, Launch launch)
    {
        for (int j = 0; j < launch.Chunk; j++)
        {
            int e = i * launch.IndexStride + j * launch.ElementStride;
            if (e >= launch.Total) return;
            y[e] = (long)XMath.Pow((double)a[Dims6.Offset(e, p.Out, p.A)], (double)b[Dims6.Offset(e, p.Out, p.B)]);
        }
    }

    /// <summary>Pow with an int32 base and a float exponent.</summary>
    public static void PowInt32Float(Index1D i, ArrayView<int> a, ArrayView<float> b, ArrayView<int> y, BroadcastParams p, Launch launch)
    {
        for (int j = 0; j < launch.Chunk; j++)
        {
            int e = i * launch.IndexStride + j * launch.ElementStride;
            if (e >= launch.Total) return;
            y[e] = (int)XMath.Pow((double)a[Dims6.Offset(e, p.Out, p.A)], (double)b[Dims6.Offset(e, p.Out, p.B)]);
        }
    }

    private static float Pow(float x, float e)
    {
        if (e == 2f) return x * x;
        if (e == 1f) return x;
        if (e == 0.5f && x >= 0f) return XMath.Sqrt(x);
        return (float)XMath.Pow((double)x, (double)e);
    }

    public static void Compare(Index1D i, ArrayView<float> a, ArrayView<float> b, ArrayView<byte> y, BroadcastParams p, Launch launch)
    {
        for (int j = 0; j < launch.Chunk; j++)
        {
            int e = i * launch.IndexStride + j * launch.ElementStride;
            if (e >= launch.Total) return;
            var va = a[Dims6.Offset(e, p.Out, p.A)];
            var vb = b[Dims6.Offset(e, p.Out, p.B)];
            bool r;
            switch ((CompareOp)p.Op)
            {
                case CompareOp.Equal: r = va == vb; break;
                case CompareOp.Greater: r = va > vb; break;
                case CompareOp.Less: r = va < vb; break;
                case CompareOp.GreaterOrEqual: r = va >= vb; break;
                default: r = va <= vb; break;
            }
            y[e] = r ? (byte)1 : (byte)0;
        }
    }

    public static void CompareInt64(Index1D i, ArrayView<long> a, ArrayView<long> b, ArrayView<byte> y, BroadcastParams p, Launch launch)
    {
        for (int j = 0; j < launch.Chunk; j++)
        {
            int e = i * launch.IndexStride + j * launch.ElementStride;
            if (e >= launch.Total) return;
            var va = a[Dims6.Offset(e, p.Out, p.A)];
            var vb = b[Dims6.Offset(e, p.Out, p.B)];
            bool r;
            switch ((CompareOp)p.Op)
            {
                case CompareOp.Equal: r = va == vb; break;
                case CompareOp.Greater: r = va > vb; break;
                case CompareOp.Less: r = va < vb; break;
                case CompareOp.GreaterOrEqual: r = va >= vb; break;
                default: r = va <= vb; break;
            }
            y[e] = r ? (byte)1 : (byte)0;
        }
    }

    public static void CompareInt32(Index1D i, ArrayView<int> a, ArrayView<int> b, ArrayView<byte> y, BroadcastParams p, Launch launch)
    {
        for (int j = 0; j < launch.Chunk; j++)
        {
            int e = i * launch.IndexStride + j * launch.ElementStride;
            if (e >= launch.Total) return;
            var va = a[Dims6.Offset(e, p.Out, p.A)];
            var vb = b[Dims6.Offset(e, p.Out, p.B)];
            bool r;
            switch ((CompareOp)p.Op)
            {
                case CompareOp.Equal: r = va == vb; break;
                case CompareOp.Greater: r = va > vb; break;
                case CompareOp.Less: r = va < vb; break;
                case CompareOp.GreaterOrEqual: r = va >= vb; break;
                default: r = va <= vb; break;
            }
            y[e] = r ? (byte)1 : (byte)0;
        }
    }

    /// <summary>Where(cond, x, y) for any element type: a pure selection.</summary>
    public static void Where<T>(Index1D i, ArrayView<byte> cond, ArrayView<T> x, ArrayView<T> y, ArrayView<T> z, BroadcastParams p, Launch launch)
        where T : unmanaged
    {
        for (int j = 0; j < launch.Chunk; j++)
        {
            int e = i * launch.IndexStride + j * launch.ElementStride;
            if (e >= launch.Total) return;
            var c = cond[Dims6.Offset(e, p.Out, p.C)];
            z[e] = c != 0 ? x[Dims6.Offset(e, p.Out, p.A)] : y[Dims6.Offset(e, p.Out, p.B)];
        }
    }

    public static void Fill<T>(Index1D i, ArrayView<T> y, T value, Launch launch) where T : unmanaged
    {
        for (int j = 0; j < launch.Chunk; j++)
        {
            int e = i * launch.IndexStride + j * launch.ElementStride;
            if (e >= launch.Total) return;
            y[e] = value;
        }
    }

    public static void CastFloatToHalf(Index1D i, ArrayView<float> x, ArrayView<ILGPU.Half> y, Launch launch)
    {
        for (int j = 0; j < launch.Chunk; j++)
        {
            int e = i * launch.IndexStride + j * launch.ElementStride;
            if (e >= launch.Total) return;
            y[e] = Interop.IntAsFloat(FloatToHalfBits(x[e]));
        }
    }

    /// <summary>
    /// IEEE float32 -> float16 bits, rounding to nearest even (overflow to infinity, subnormals kept, NaN stays NaN).
    /// ILGPU 1.5.3's own <c>(Half)float</c> truncates the mantissa (measured: about half of all values one ulp toward
    /// zero), which ONNX's Cast and float16 arithmetic must not do.
    /// </summary>
    public static ushort FloatToHalfBits(float value)
    {
        uint x = Interop.FloatAsInt(value);
        uint sign = (x >> 16) & 0x8000u;
        int exponent = (int)((x >> 23) & 0xFFu);
        uint mantissa = x & 0x7FFFFFu;
        if (exponent == 0xFF) return (ushort)(sign | 0x7C00u | (mantissa != 0 ? 0x200u | (mantissa >> 13) : 0u));
        int e = exponent - 127 + 15;
        if (e >= 31) return (ushort)(sign | 0x7C00u);
        if (e <= 0)
        {
            if (e < -10) return (ushort)sign;
            uint full = mantissa | 0x800000u;
            int shift = 14 - e;
            uint half = full >> shift;
            uint rest = full & ((1u << shift) - 1u);
            uint halfway = 1u << (shift - 1);
            if (rest > halfway || (rest == halfway && (half & 1u) != 0)) half++;
            return (ushort)(sign | half);
        }
        uint bits = sign | ((uint)e << 10) | (mantissa >> 13);
        uint remainder = mantissa & 0x1FFFu;
        // A carry out of the mantissa moves into the exponent, which is the correctly rounded result (up to infinity).
        if (remainder > 0x1000u || (remainder == 0x1000u && (bits & 1u) != 0)) bits++;
        return (ushort)bits;
    }

    public static void CastHalfToFloat(Index1D i, ArrayView<ILGPU.Half> x, ArrayView<float> y, Launch launch)
    {
        for (int j = 0; j < launch.Chunk; j++)
        {
            int e = i * launch.IndexStride + j * launch.ElementStride;
            if (e >= launch.Total) return;
            y[e] = (float)x[e];
        }
    }

    public static void CastFloatToInt64(Index1D i, ArrayView<float> x, ArrayView<long> y, Launch launch)
    {
        for (int j = 0; j < launch.Chunk; j++)
        {
            int e = i * launch.IndexStride + j * launch.ElementStride;
            if (e >= launch.Total) return;
            y[e] = (long)x[e];
        }
    }
    public static void CastInt64ToFloat(Index1D i, ArrayView<long> x, ArrayView<float> y, Launch launch)
    {
        for (int j = 0; j < launch.Chunk; j++)
        {
            int e = i * launch.IndexStride + j * launch.ElementStride;
            if (e >= launch.Total) return;
            y[e] = x[e];
        }
    }
    public static void CastFloatToInt32(Index1D i, ArrayView<float> x, ArrayView<int> y, Launch launch)
    {
        for (int j = 0; j < launch.Chunk; j++)
        {
            int e = i * launch.IndexStride + j * launch.ElementStride;
            if (e >= launch.Total) return;
            y[e] = (int)x[e];
        }
    }
    public static void CastInt32ToFloat(Index1D i, ArrayView<int> x, ArrayView<float> y, Launch launch)
    {
        for (int j = 0; j < launch.Chunk; j++)
        {
            int e = i * launch.IndexStride + j * launch.ElementStride;
            if (e >= launch.Total) return;
            y[e] = x[e];
        }
    }
    public static void CastInt64ToInt32(Index1D i, ArrayView<long> x, ArrayView<int> y, Launch launch)
    {
        for (int j = 0; j < launch.Chunk; j++)
        {
            int e = i * launch.IndexStride + j * launch.ElementStride;
            if (e >= launch.Total) return;
            y[e] = (int)x[e];
        }
    }
    public static void CastInt32ToInt64(Index1D i, ArrayView<int> x, ArrayView<long> y, Launch launch)
    {
        for (int j = 0; j < launch.Chunk; j++)
        {
            int e = i * launch.IndexStride + j * launch.ElementStride;
            if (e >= launch.Total) return;
            y[e] = x[e];
        }
    }
    public static void CastBoolToFloat(Index1D i, ArrayView<byte> x, ArrayView<float> y, Launch launch)
    {
        for (int j = 0; j < launch.Chunk; j++)
        {
            int e = i * launch.IndexStride + j * launch.ElementStride;
            if (e >= launch.Total) return;
            y[e] = x[e] != 0 ? 1f : 0f;
        }
    }
    public static void CastFloatToBool(Index1D i, ArrayView<float> x, ArrayView<byte> y, Launch launch)
    {
        for (int j = 0; j < launch.Chunk; j++)
        {
            int e = i * launch.IndexStride + j * launch.ElementStride;
            if (e >= launch.Total) return;
            y[e] = x[e] != 0f ? (byte)1 : (byte)0;
        }
    }
    public static void CastInt64ToBool(Index1D i, ArrayView<long> x, ArrayView<byte> y, Launch launch)
    {
        for (int j = 0; j < launch.Chunk; j++)
        {
            int e = i * launch.IndexStride + j * launch.ElementStride;
            if (e >= launch.Total) return;
            y[e] = x[e] != 0 ? (byte)1 : (byte)0;
        }
    }
    public static void CastBoolToInt64(Index1D i, ArrayView<byte> x, ArrayView<long> y, Launch launch)
    {
        for (int j = 0; j < launch.Chunk; j++)
        {
            int e = i * launch.IndexStride + j * launch.ElementStride;
            if (e >= launch.Total) return;
            y[e] = x[e] != 0 ? 1L : 0L;
        }
    }
}
