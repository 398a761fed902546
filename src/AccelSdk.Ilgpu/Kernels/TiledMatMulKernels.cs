using ILGPU;

namespace AccelSdk.Ilgpu.Kernels;

/// <summary>
/// MatMul for GPUs: each group of 16x16 threads computes a 64x64 tile of C, staging 64x16 slices of A and 16x64 of B
/// in shared memory per K step, each thread accumulating a 4x4 register block (rows ty+16i, columns tx+16j so that
/// neighbouring threads touch neighbouring addresses). Grid: (ceil(N/64), ceil(M/64), Batch); group (16, 16).
/// Same <see cref="MatMulParams"/> contract as <see cref="MatMulKernels"/>. Group barriers make it a poor fit for the
/// CPU accelerator, where the register-blocked barrier-free kernel is used instead.
/// </summary>
internal static class TiledMatMulKernels
{
    public const int Tile = 64;
    public const int Step = 16;
    public const int Threads = 16;

    public static void MatMulTiled(ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, ArrayView<float> bias, MatMulParams p)
    {
        var aTile = SharedMemory.Allocate<float>(Tile * Step);
        var bTile = SharedMemory.Allocate<float>(Step * Tile);
        int tx = Group.IdxX, ty = Group.IdxY;
        int t = ty * Threads + tx;
        int colBase = Grid.IdxX * Tile, rowBase = Grid.IdxY * Tile, batch = Grid.IdxZ;
        int aBase = p.AOffset + batch * p.ABatchStride;
        int bBase = p.BOffset + batch * p.BBatchStride;
        float c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
        float c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;
        for (int k0 = 0; k0 < p.K; k0 += Step)
        {
            for (int r = 0; r < 4; r++)
            {
                int idx = t + r * Threads * Threads;
                int row = idx / Step, kk = idx % Step;
                int gr = rowBase + row, gk = k0 + kk;
                aTile[idx] = gr < p.M && gk < p.K ? a[aBase + gr * p.As0 + gk * p.As1] : 0f;
                int bk = idx / Tile, col = idx % Tile;
                int gc = colBase + col, gbk = k0 + bk;
                bTile[idx] = gbk < p.K && gc < p.N ? b[bBase + gbk * p.Bs0 + gc] : 0f;
            }
            Group.Barrier();
            for (int kk = 0; kk < Step; kk++)
            {
                float a0 = aTile[ty * Step + kk], a1 = aTile[(ty + 16) * Step + kk], a2 = aTile[(ty + 32) * Step + kk], a3 = aTile[(ty + 48) * Step + kk];
                float b0 = bTile[kk * Tile + tx], b1 = bTile[kk * Tile + tx + 16], b2 = bTile[kk * Tile + tx + 32], b3 = bTile[kk * Tile + tx + 48];
                c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
                c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
                c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
                c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
            }
            Group.Barrier();
        }
        Store(c, bias, p, batch, rowBase + ty, colBase + tx, c00, c01, c02, c03);
        Store(c, bias, p, batch, rowBase + ty + 16, colBase + tx, c10, c11, c12, c13);
        Store(c, bias, p, batch, rowBase + ty + 32, colBase + tx, c20, c21, c22, c23);
        Store(c, bias, p, batch, rowBase + ty + 48, colBase + tx, c30, c31, c32, c33);
    }

    private static void Store(ArrayView<float> c, ArrayView<float> bias, MatMulParams p, int batch, int row, int col, float v0, float v1, float v2, float v3)
    {
        if (row >= p.M) return;
        int o = p.COffset + batch * p.CBatchStride + row * p.N;
        StoreOne(c, bias, p, o, row, col, v0);
        StoreOne(c, bias, p, o, row, col + 16, v1);
        StoreOne(c, bias, p, o, row, col + 32, v2);
        StoreOne(c, bias, p, o, row, col + 48, v3);
    }

    private static void StoreOne(ArrayView<float> c, ArrayView<float> bias, MatMulParams p, int rowOffset, int row, int col, float v)
    {
        if (col >= p.N) return;
        float r = p.Alpha * v;
        if (p.BiasMode == 1) r += bias[p.BiasOffset + row];
        else if (p.BiasMode == 2) r += bias[p.BiasOffset + col];
        c[rowOffset + col] = r;
    }
}
