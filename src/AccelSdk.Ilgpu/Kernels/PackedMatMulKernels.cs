using System.Runtime.CompilerServices;
using ILGPU;

namespace AccelSdk.Ilgpu.Kernels;

/// <summary>
/// A <see cref="MatMulParams"/> product plus the host addresses the packed kernels work on: ILGPU's CPU accelerator
/// keeps buffers in pinned host memory, so <c>ArrayView.LoadEffectiveAddressAsPtr()</c> gives addresses that stay
/// valid while the (synchronous) launch runs.
/// </summary>
internal struct PackedMatMulParams
{
    public MatMulParams Mm;
    /// <summary>Host addresses of the first element of A, B, C and the bias views (offsets in <see cref="Mm"/> still apply).</summary>
    public long A, B, C, Bias;
    /// <summary>Host addresses of the packed A ([batchesA][PanelsM][K][MR]) and B ([batchesB][PanelsN][K][NR]) scratch buffers.</summary>
    public long PackedA, PackedB;
    public int PanelsM, PanelsN;
}

/// <summary>
/// MatMul for ILGPU's CPU accelerator (variant <c>packed</c>). ILGPU runs CPU kernels as the original .NET method, so
/// the JIT decides the speed: every <c>ArrayView</c> access carries ILGPU's bounds/accelerator assertions, and the
/// (cold) calls in them make the JIT keep all accumulators in stack slots. These kernels therefore read and write
/// through raw pointers (ILGPU's frontend accepts integer-to-pointer casts; vector types and <c>Unsafe.Add</c> it
/// rejects). A and B are first copied into zero-padded panels (<see cref="PackA"/>, <see cref="PackB"/>) so the
/// <see cref="MicroKernel"/> streams both operands contiguously with an 8x3 register block of C (24 accumulators,
/// 3 B values and one A value fit the 32 vector registers of AVX-512; <c>MathF.FusedMultiplyAdd</c> becomes
/// <c>vfmadd231ss</c>). Blocks are enumerated A-panel-fastest so the threads share one B panel in L1.
/// Only valid on the CPU accelerator: on a GPU or OpenCL device these addresses mean nothing.
/// </summary>
internal static class PackedMatMulKernels
{
    public const int MR = 8;
    public const int NR = 3;

    /// <summary>Index e = (batchA * PanelsM + panel) * K + k writes MR values of column k of the panel's rows.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static unsafe void PackA(Index1D index, PackedMatMulParams p, Launch launch)
    {
        float* a = (float*)p.A;
        float* dst = (float*)p.PackedA;
        int k = p.Mm.K;
        for (int t = 0; t < launch.Chunk; t++)
        {
            int e = index * launch.IndexStride + t * launch.ElementStride;
            if (e >= launch.Total) return;
            int row = e / k;
            int q = e - row * k;
            int batch = row / p.PanelsM;
            int i0 = (row - batch * p.PanelsM) * MR;
            float* src = a + p.Mm.AOffset + (long)batch * p.Mm.ABatchStride + (long)q * p.Mm.As1;
            float* o = dst + (long)e * MR;
            long as0 = p.Mm.As0;
            if (i0 + MR <= p.Mm.M)
            {
                src += i0 * as0;
                o[0] = src[0]; o[1] = src[as0]; o[2] = src[2 * as0]; o[3] = src[3 * as0];
                o[4] = src[4 * as0]; o[5] = src[5 * as0]; o[6] = src[6 * as0]; o[7] = src[7 * as0];
            }
            else
            {
                for (int r = 0; r < MR; r++) o[r] = i0 + r < p.Mm.M ? src[(i0 + r) * as0] : 0f;
            }
        }
    }

    /// <summary>Index e = (batchB * PanelsN + panel) * K + k writes NR values of row k of the panel's columns.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static unsafe void PackB(Index1D index, PackedMatMulParams p, Launch launch)
    {
        float* b = (float*)p.B;
        float* dst = (float*)p.PackedB;
        int k = p.Mm.K;
        for (int t = 0; t < launch.Chunk; t++)
        {
            int e = index * launch.IndexStride + t * launch.ElementStride;
            if (e >= launch.Total) return;
            int row = e / k;
            int q = e - row * k;
            int batch = row / p.PanelsN;
            int j0 = (row - batch * p.PanelsN) * NR;
            float* src = b + p.Mm.BOffset + (long)batch * p.Mm.BBatchStride + (long)q * p.Mm.Bs0 + j0;
            float* o = dst + (long)e * NR;
            if (j0 + NR <= p.Mm.N)
            {
                o[0] = src[0]; o[1] = src[1]; o[2] = src[2];
            }
            else
            {
                for (int c = 0; c < NR; c++) o[c] = j0 + c < p.Mm.N ? src[c] : 0f;
            }
        }
    }

    /// <summary>
    /// Conv's B operand (the im2col matrix, K = C*KD*KH*KW rows by OD*OH*OW columns; 1-D and 2-D windows have unit
    /// leading dimensions) written straight into packed panels: index e = panel * K + k gathers the NR input pixels of
    /// row k (zero outside the input). <see cref="PackedMatMulParams.B"/> is the input's address;
    /// <paramref name="w"/>.InOffset selects the image and group.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static unsafe void PackIm2Col(Index1D index, PackedMatMulParams p, WindowParams w, Launch launch)
    {
        float* x = (float*)p.B + w.InOffset;
        float* dst = (float*)p.PackedB;
        int k = p.Mm.K;
        int plane = w.OH * w.OW;
        int spatial = w.OD * plane;
        for (int t = 0; t < launch.Chunk; t++)
        {
            int e = index * launch.IndexStride + t * launch.ElementStride;
            if (e >= launch.Total) return;
            int panel = e / k;
            int q = e - panel * k;
            int kw = q % w.KW;
            int r = q / w.KW;
            int kh = r % w.KH;
            r /= w.KH;
            int kd = r % w.KD;
            int c = r / w.KD;
            float* volume = x + (long)c * w.D * w.H * w.W;
            float* o = dst + (long)e * NR;
            int s = panel * NR;
            int od = s / plane;
            int rest = s - od * plane;
            int oh = rest / w.OW;
            int ow = rest - oh * w.OW;
            for (int j = 0; j < NR; j++, s++, ow++)
            {
                if (ow == w.OW)
                {
                    ow = 0;
                    oh++;
                    if (oh == w.OH)
                    {
                        oh = 0;
                        od++;
                    }
                }
                int id = od * w.SD - w.PadFront + kd * w.DD;
                int ih = oh * w.SH - w.PadTop + kh * w.DH;
                int iw = ow * w.SW - w.PadLeft + kw * w.DW;
                o[j] = s < spatial && id >= 0 && id < w.D && ih >= 0 && ih < w.H && iw >= 0 && iw < w.W
                    ? volume[(id * w.H + ih) * w.W + iw]
                    : 0f;
            }
        }
    }

    /// <summary>Index e = (batch * PanelsN + jp) * PanelsM + ip computes the 8x3 block (ip, jp) of C in one pass over K.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static unsafe void MicroKernel(Index1D index, PackedMatMulParams p, Launch launch)
    {
        int k = p.Mm.K;
        int blocksPerBatch = p.PanelsM * p.PanelsN;
        long packedAPerBatch = p.Mm.ABatchStride == 0 ? 0 : (long)p.PanelsM * k * MR;
        long packedBPerBatch = p.Mm.BBatchStride == 0 ? 0 : (long)p.PanelsN * k * NR;
        for (int t = 0; t < launch.Chunk; t++)
        {
            int e = index * launch.IndexStride + t * launch.ElementStride;
            if (e >= launch.Total) return;
            int batch = e / blocksPerBatch;
            int blk = e - batch * blocksPerBatch;
            int jp = blk / p.PanelsM;
            int ip = blk - jp * p.PanelsM;
            float* pa = (float*)p.PackedA + batch * packedAPerBatch + (long)ip * k * MR;
            float* pb = (float*)p.PackedB + batch * packedBPerBatch + (long)jp * k * NR;
            float c00 = 0, c01 = 0, c02 = 0, c10 = 0, c11 = 0, c12 = 0, c20 = 0, c21 = 0, c22 = 0, c30 = 0, c31 = 0, c32 = 0;
            float c40 = 0, c41 = 0, c42 = 0, c50 = 0, c51 = 0, c52 = 0, c60 = 0, c61 = 0, c62 = 0, c70 = 0, c71 = 0, c72 = 0;
            for (int q = 0; q < k; q++, pa += MR, pb += NR)
            {
                float b0 = pb[0], b1 = pb[1], b2 = pb[2];
                float a = pa[0];
                c00 = MathF.FusedMultiplyAdd(a, b0, c00); c01 = MathF.FusedMultiplyAdd(a, b1, c01); c02 = MathF.FusedMultiplyAdd(a, b2, c02);
                a = pa[1];
                c10 = MathF.FusedMultiplyAdd(a, b0, c10); c11 = MathF.FusedMultiplyAdd(a, b1, c11); c12 = MathF.FusedMultiplyAdd(a, b2, c12);
                a = pa[2];
                c20 = MathF.FusedMultiplyAdd(a, b0, c20); c21 = MathF.FusedMultiplyAdd(a, b1, c21); c22 = MathF.FusedMultiplyAdd(a, b2, c22);
                a = pa[3];
                c30 = MathF.FusedMultiplyAdd(a, b0, c30); c31 = MathF.FusedMultiplyAdd(a, b1, c31); c32 = MathF.FusedMultiplyAdd(a, b2, c32);
                a = pa[4];
                c40 = MathF.FusedMultiplyAdd(a, b0, c40); c41 = MathF.FusedMultiplyAdd(a, b1, c41); c42 = MathF.FusedMultiplyAdd(a, b2, c42);
                a = pa[5];
                c50 = MathF.FusedMultiplyAdd(a, b0, c50); c51 = MathF.FusedMultiplyAdd(a, b1, c51); c52 = MathF.FusedMultiplyAdd(a, b2, c52);
                a = pa[6];
                c60 = MathF.FusedMultiplyAdd(a, b0, c60); c61 = MathF.FusedMultiplyAdd(a, b1, c61); c62 = MathF.FusedMultiplyAdd(a, b2, c62);
                a = pa[7];
                c70 = MathF.FusedMultiplyAdd(a, b0, c70); c71 = MathF.FusedMultiplyAdd(a, b1, c71); c72 = MathF.FusedMultiplyAdd(a, b2, c72);
            }
            int i0 = ip * MR, j0 = jp * NR;
            float* c = (float*)p.C + p.Mm.COffset + (long)batch * p.Mm.CBatchStride + (long)i0 * p.Mm.N + j0;
            Store(p, c, i0, j0, c00, c01, c02); c += p.Mm.N;
            Store(p, c, i0 + 1, j0, c10, c11, c12); c += p.Mm.N;
            Store(p, c, i0 + 2, j0, c20, c21, c22); c += p.Mm.N;
            Store(p, c, i0 + 3, j0, c30, c31, c32); c += p.Mm.N;
            Store(p, c, i0 + 4, j0, c40, c41, c42); c += p.Mm.N;
            Store(p, c, i0 + 5, j0, c50, c51, c52); c += p.Mm.N;
            Store(p, c, i0 + 6, j0, c60, c61, c62); c += p.Mm.N;
            Store(p, c, i0 + 7, j0, c70, c71, c72);
        }
    }

    /// <summary>Writes alpha * v (+ bias) for the columns of row <paramref name="row"/> that exist (edge blocks are padded).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Store(PackedMatMulParams p, float* c, int row, int j0, float v0, float v1, float v2)
    {
        if (row >= p.Mm.M) return;
        float al = p.Mm.Alpha;
        v0 *= al; v1 *= al; v2 *= al;
        float* bias = (float*)p.Bias + p.Mm.BiasOffset;
        if (p.Mm.BiasMode == 1)
        {
            float bv = bias[row];
            v0 += bv; v1 += bv; v2 += bv;
        }
        if (j0 + NR <= p.Mm.N)
        {
            if (p.Mm.BiasMode == 2)
            {
                v0 += bias[j0]; v1 += bias[j0 + 1]; v2 += bias[j0 + 2];
            }
            c[0] = v0; c[1] = v1; c[2] = v2;
            return;
        }
        if (j0 < p.Mm.N) c[0] = p.Mm.BiasMode == 2 ? v0 + bias[j0] : v0;
        if (j0 + 1 < p.Mm.N) c[1] = p.Mm.BiasMode == 2 ? v1 + bias[j0 + 1] : v1;
    }
}
