using ILGPU;
using ILGPU.Algorithms;

namespace AccelSdk.Ilgpu.Kernels;

internal struct NormParams
{
    public int Channels;
    public int Inner;
    public int Outer;
    public float Epsilon;
    public int Log;
    public int HasBias;
}

/// <summary>Reduction code of <see cref="NormKernels.Reduce"/>.</summary>
internal enum ReduceOp
{
    Sum, Mean, Max, Min, Prod, L1, L2, SumSquare, LogSum, LogSumExp,
}

internal struct ReduceParams
{
    public int Op;
    /// <summary>Output (kept) dims and the input strides of the kept dims.</summary>
    public Dims6 Out, OutStrides;
    /// <summary>Reduced dims and their input strides.</summary>
    public Dims6 Red, RedStrides;
    public int RedCount;
}

/// <summary>Normalisation, softmax and reduction kernels: one row (or one output) per index, no barriers.</summary>
internal static class NormKernels
{
    /// <summary>Inference BatchNormalization on [N, C, inner...]: y = (x - mean) * scale / sqrt(var + eps) + bias.</summary>
    public static void BatchNorm(Index1D i, ArrayView<float> x, ArrayView<float> scale, ArrayView<float> bias,
        ArrayView<float> mean, ArrayView<float> variance, ArrayView<float> y, NormParams p, Launch launch)
    {
        for (int j = 0; j < launch.Chunk; j++)
        {
            int e = i * launch.IndexStride + j * launch.ElementStride;
            if (e >= launch.Total) return;
            int c = (e / p.Inner) % p.Channels;
            y[e] = (x[e] - mean[c]) * (scale[c] / XMath.Sqrt(variance[c] + p.Epsilon)) + bias[c];
        }
    }

    /// <summary>Softmax (or LogSoftmax) over the middle axis of [Outer, Channels, Inner]; one (outer, inner) per index.</summary>
    public static void Softmax(Index1D index, ArrayView<float> x, ArrayView<float> y, NormParams p, Launch launch)
    {
        for (int j = 0; j < launch.Chunk; j++)
        {
            int e = index * launch.IndexStride + j * launch.ElementStride;
            if (e >= launch.Total) return;
            int outer = e / p.Inner;
            int inner = e - outer * p.Inner;
            int b = outer * p.Channels * p.Inner + inner;
            float max = float.NegativeInfinity;
            for (int c = 0; c < p.Channels; c++) max = ElementwiseKernels.Max(max, x[b + c * p.Inner]);
            float sum = 0f;
            for (int c = 0; c < p.Channels; c++) sum += XMath.Exp(x[b + c * p.Inner] - max);
            if (p.Log != 0)
            {
                float logSum = XMath.Log(sum);
                for (int c = 0; c < p.Channels; c++) y[b + c * p.Inner] = x[b + c * p.Inner] - max - logSum;
            }
            else
            {
                float inv = 1f / sum;
                for (int c = 0; c < p.Channels; c++) y[b + c * p.Inner] = XMath.Exp(x[b + c * p.Inner] - max) * inv;
            }
        }
    }

    /// <summary>LayerNormalization of each of Outer rows of Channels elements; scale/bias have Channels elements.</summary>
    public static void LayerNorm(Index1D row, ArrayView<float> x, ArrayView<float> scale, ArrayView<float> bias, ArrayView<float> y, NormParams p, Launch launch)
    {
        for (int j = 0; j < launch.Chunk; j++)
        {
            int e = row * launch.IndexStride + j * launch.ElementStride;
            if (e >= launch.Total) return;
            int b = e * p.Channels;
            float mean = 0f;
            for (int c = 0; c < p.Channels; c++) mean += x[b + c];
            mean /= p.Channels;
            float variance = 0f;
            for (int c = 0; c < p.Channels; c++)
            {
                float d = x[b + c] - mean;
                variance += d * d;
            }
            variance /= p.Channels;
            float inv = 1f / XMath.Sqrt(variance + p.Epsilon);
            for (int c = 0; c < p.Channels; c++)
            {
                float v = (x[b + c] - mean) * inv * scale[c];
                y[b + c] = p.HasBias != 0 ? v + bias[c] : v;
            }
        }
    }

    /// <summary>LayerNormalization's optional outputs: the mean and 1/sqrt(variance + epsilon) of each row.</summary>
    public static void LayerNormStats(Index1D row, ArrayView<float> x, ArrayView<float> mean, ArrayView<float> invStdDev, NormParams p, Launch launch)
    {
        for (int j = 0; j < launch.Chunk; j++)
        {
            int e = row * launch.IndexStride + j * launch.ElementStride;
            if (e >= launch.Total) return;
            int b = e * p.Channels;
            float m = 0f;
            for (int c = 0; c < p.Channels; c++) m += x[b + c];
            m /= p.Channels;
            float variance = 0f;
            for (int c = 0; c < p.Channels; c++)
            {
                float d = x[b + c] - m;
                variance += d * d;
            }
            variance /= p.Channels;
            mean[e] = m;
            invStdDev[e] = 1f / XMath.Sqrt(variance + p.Epsilon);
        }
    }

    /// <summary>Reduces the <see cref="ReduceParams.Red"/> dims for each output element.</summary>
    public static void Reduce(Index1D i, ArrayView<float> x, ArrayView<float> y, ReduceParams p, Launch launch)
    {
        for (int j = 0; j < launch.Chunk; j++)
        {
            int e = i * launch.IndexStride + j * launch.ElementStride;
            if (e >= launch.Total) return;
            int b = Dims6.Offset(e, p.Out, p.OutStrides);
            var op = (ReduceOp)p.Op;
            // Max and Min are IEEE 754-2008 maxNum/minNum: a NaN is skipped unless every element is NaN. ONNX Runtime's
            // CPU EP skips a NaN too except in the first SIMD lanes of a reduction (Eigen's and MLAS's max keep the
            // accumulator's operand), so maxNum agrees with it wherever its answer does not depend on the NaN's position.
            float acc = op == ReduceOp.Prod ? 1f : 0f;
            float max = float.NegativeInfinity;
            if (op == ReduceOp.LogSumExp)
            {
                for (int r = 0; r < p.RedCount; r++) max = ElementwiseKernels.Max(max, x[b + Dims6.Offset(r, p.Red, p.RedStrides)]);
                // As ONNX Runtime: an infinite maximum is not subtracted (inf - inf would turn +Inf inputs into NaN).
                if (ElementwiseKernels.IsInfinity(max)) max = 0f;
            }
            for (int r = 0; r < p.RedCount; r++)
            {
                float v = x[b + Dims6.Offset(r, p.Red, p.RedStrides)];
                switch (op)
                {
                    case ReduceOp.Max: acc = r == 0 || v > acc || ElementwiseKernels.IsNaN(acc) ? v : acc; break;
                    case ReduceOp.Min: acc = r == 0 || v < acc || ElementwiseKernels.IsNaN(acc) ? v : acc; break;
                    case ReduceOp.Prod: acc *= v; break;
                    case ReduceOp.L1: acc += XMath.Abs(v); break;
                    case ReduceOp.L2:
                    case ReduceOp.SumSquare: acc += v * v; break;
                    case ReduceOp.LogSumExp: acc += XMath.Exp(v - max); break;
                    default: acc += v; break;
                }
            }
            switch (op)
            {
                case ReduceOp.Mean: acc /= p.RedCount; break;
                case ReduceOp.L2: acc = XMath.Sqrt(acc); break;
                case ReduceOp.LogSum: acc = XMath.Log(acc); break;
                case ReduceOp.LogSumExp: acc = XMath.Log(acc) + max; break;
            }
            y[e] = acc;
        }
    }
}
