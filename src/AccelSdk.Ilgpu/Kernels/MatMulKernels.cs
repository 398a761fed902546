using System.Runtime.CompilerServices;
using ILGPU;

namespace AccelSdk.Ilgpu.Kernels;

/// <summary>
/// Batched C = alpha * A·B (+ bias). A element (i, p) is at <c>a[AOffset + batchA + i*As0 + p*As1]</c>; B is row-major
/// with unit column stride (<c>b[BOffset + batchB + p*Bs0 + j]</c>); C is dense row-major.
/// </summary>
internal struct MatMulParams
{
    public int M, N, K;
    public int Batch;
    public int ABatchStride, BBatchStride, CBatchStride;
    public int AOffset, BOffset, COffset;
    public int As0, As1, Bs0;
    public float Alpha;
    /// <summary>0: no bias; 1: bias[row] (conv output channel); 2: bias[col].</summary>
    public int BiasMode;
    public int BiasOffset;
    public int BlocksM, BlocksN;
}

/// <summary>
/// MatMul kernels written for ILGPU's CPU accelerator: no shared memory, no group barriers, a 4x8 register block of C
/// per index (32 independent accumulators), blocks enumerated row-block-fastest so the threads running at the same time
/// share one 8-column panel of B in cache. The JIT compiles the kernel body with full optimisation from the first call.
/// Edges that do not fill a 4x8 block go to <see cref="MatMulEdge"/>.
/// </summary>
internal static class MatMulKernels
{
    public const int BlockM = 4;
    public const int BlockN = 8;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MatMulBlocked(Index1D index, ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, ArrayView<float> bias, MatMulParams p, Launch launch)
    {
        for (int j = 0; j < launch.Chunk; j++)
        {
            int e = index * launch.IndexStride + j * launch.ElementStride;
            if (e >= launch.Total) return;
            int blocksPerBatch = p.BlocksM * p.BlocksN;
            int batch = e / blocksPerBatch;
            int blk = e - batch * blocksPerBatch;
            int i0 = (blk % p.BlocksM) * BlockM;
            int j0 = (blk / p.BlocksM) * BlockN;
            int k = p.K, n = p.N;
            int aBase = p.AOffset + batch * p.ABatchStride + i0 * p.As0;
            int bBase = p.BOffset + batch * p.BBatchStride + j0;
            int as0 = p.As0, as1 = p.As1, bs0 = p.Bs0;
            float c00 = 0, c01 = 0, c02 = 0, c03 = 0, c04 = 0, c05 = 0, c06 = 0, c07 = 0;
            float c10 = 0, c11 = 0, c12 = 0, c13 = 0, c14 = 0, c15 = 0, c16 = 0, c17 = 0;
            float c20 = 0, c21 = 0, c22 = 0, c23 = 0, c24 = 0, c25 = 0, c26 = 0, c27 = 0;
            float c30 = 0, c31 = 0, c32 = 0, c33 = 0, c34 = 0, c35 = 0, c36 = 0, c37 = 0;
            for (int q = 0; q < k; q++)
            {
                int ao = aBase + q * as1;
                float a0 = a[ao], a1 = a[ao + as0], a2 = a[ao + 2 * as0], a3 = a[ao + 3 * as0];
                int bo = bBase + q * bs0;
                float b0 = b[bo], b1 = b[bo + 1], b2 = b[bo + 2], b3 = b[bo + 3], b4 = b[bo + 4], b5 = b[bo + 5], b6 = b[bo + 6], b7 = b[bo + 7];
                c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3; c04 += a0 * b4; c05 += a0 * b5; c06 += a0 * b6; c07 += a0 * b7;
                c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3; c14 += a1 * b4; c15 += a1 * b5; c16 += a1 * b6; c17 += a1 * b7;
                c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3; c24 += a2 * b4; c25 += a2 * b5; c26 += a2 * b6; c27 += a2 * b7;
                c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3; c34 += a3 * b4; c35 += a3 * b5; c36 += a3 * b6; c37 += a3 * b7;
            }
            int o = p.COffset + batch * p.CBatchStride + i0 * n + j0;
            Store8(c, bias, p, o, i0, j0, c00, c01, c02, c03, c04, c05, c06, c07); o += n;
            Store8(c, bias, p, o, i0 + 1, j0, c10, c11, c12, c13, c14, c15, c16, c17); o += n;
            Store8(c, bias, p, o, i0 + 2, j0, c20, c21, c22, c23, c24, c25, c26, c27); o += n;
            Store8(c, bias, p, o, i0 + 3, j0, c30, c31, c32, c33, c34, c35, c36, c37);
        }
    }

    private static void Store8(ArrayView<float> c, ArrayView<float> bias, MatMulParams p, int o, int row, int j0,
        float v0, float v1, float v2, float v3, float v4, float v5, float v6, float v7)
    {
        float al = p.Alpha;
        if (p.BiasMode == 1)
        {
            float bv = bias[p.BiasOffset + row];
            c[o] = al * v0 + bv; c[o + 1] = al * v1 + bv; c[o + 2] = al * v2 + bv; c[o + 3] = al * v3 + bv;
            c[o + 4] = al * v4 + bv; c[o + 5] = al * v5 + bv; c[o + 6] = al * v6 + bv; c[o + 7] = al * v7 + bv;
        }
        else if (p.BiasMode == 2)
        {
            int bo = p.BiasOffset + j0;
            c[o] = al * v0 + bias[bo]; c[o + 1] = al * v1 + bias[bo + 1]; c[o + 2] = al * v2 + bias[bo + 2]; c[o + 3] = al * v3 + bias[bo + 3];
            c[o + 4] = al * v4 + bias[bo + 4]; c[o + 5] = al * v5 + bias[bo + 5]; c[o + 6] = al * v6 + bias[bo + 6]; c[o + 7] = al * v7 + bias[bo + 7];
        }
        else
        {
            c[o] = al * v0; c[o + 1] = al * v1; c[o + 2] = al * v2; c[o + 3] = al * v3;
            c[o + 4] = al * v4; c[o + 5] = al * v5; c[o + 6] = al * v6; c[o + 7] = al * v7;
        }
    }

    /// <summary>
    /// The elements outside full 4x8 blocks: per batch, rows [4*BlocksM, M) of every column, then columns
    /// [8*BlocksN, N) of the full-block rows. One element per index. With BlocksM = BlocksN = 0 it computes all of C.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MatMulEdge(Index1D index, ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, ArrayView<float> bias, MatMulParams p, Launch launch)
    {
        for (int j = 0; j < launch.Chunk; j++)
        {
            int e = index * launch.IndexStride + j * launch.ElementStride;
            if (e >= launch.Total) return;
            int fullRows = p.BlocksM * BlockM;
            int fullCols = p.BlocksN * BlockN;
            int bottom = (p.M - fullRows) * p.N;
            int right = fullRows * (p.N - fullCols);
            int perBatch = bottom + right;
            int batch = e / perBatch;
            int r = e - batch * perBatch;
            int row, col;
            if (r < bottom)
            {
                row = fullRows + r / p.N;
                col = r % p.N;
            }
            else
            {
                r -= bottom;
                int w = p.N - fullCols;
                row = r / w;
                col = fullCols + r % w;
            }
            int ao = p.AOffset + batch * p.ABatchStride + row * p.As0;
            int bo = p.BOffset + batch * p.BBatchStride + col;
            float s = 0;
            for (int q = 0; q < p.K; q++) s += a[ao + q * p.As1] * b[bo + q * p.Bs0];
            s *= p.Alpha;
            if (p.BiasMode == 1) s += bias[p.BiasOffset + row];
            else if (p.BiasMode == 2) s += bias[p.BiasOffset + col];
            c[p.COffset + batch * p.CBatchStride + row * p.N + col] = s;
        }
    }
}
