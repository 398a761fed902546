using ILGPU;

namespace AccelSdk.Ilgpu.Kernels;

/// <summary>A strided copy of a region: element i of the region is read at Src + offset(i, Dims, SrcStrides) and
/// written at Dst + offset(i, Dims, DstStrides). Transpose, Expand, Slice, Concat, Split and Tile are all this.</summary>
internal struct CopyParams
{
    public Dims6 Dims;
    public Dims6 SrcStrides;
    public Dims6 DstStrides;
    public int SrcOffset;
    public int DstOffset;
}

internal struct PadParams
{
    public Dims6 Out;
    public Dims6 In;
    public Dims6 InStrides;
    public Dims6 Begin;
    /// <summary>0 constant, 1 reflect, 2 edge.</summary>
    public int Mode;
}

internal struct GatherParams
{
    public int AxisDim;
    public int Inner;
    public int IndexCount;
}

internal struct ResizeParams
{
    public int InH, InW, OutH, OutW;
    public float ScaleH, ScaleW;
    /// <summary>0 half_pixel, 1 asymmetric, 2 align_corners, 3 pytorch_half_pixel.</summary>
    public int Transform;
    /// <summary>0 nearest, 1 linear.</summary>
    public int Mode;
    /// <summary>0 round_prefer_floor, 1 round_prefer_ceil, 2 floor, 3 ceil.</summary>
    public int NearestMode;
}

/// <summary>Data movement kernels, generic over the element type (they only move bits).</summary>
internal static class MovementKernels
{
    public static void StridedCopy<T>(Index1D i, ArrayView<T> src, ArrayView<T> dst, CopyParams p) where T : unmanaged =>
        dst[p.DstOffset + Dims6.Offset(i, p.Dims, p.DstStrides)] = src[p.SrcOffset + Dims6.Offset(i, p.Dims, p.SrcStrides)];

    public static void Pad(Index1D i, ArrayView<float> x, ArrayView<float> y, PadParams p, float value)
    {
        int rest = i;
        int src = 0;
        bool outside = false;
        // Innermost dimension first.
        src += PadIndex(ref rest, p.Out.D5, p.In.D5, p.Begin.D5, p.InStrides.D5, p.Mode, ref outside);
        src += PadIndex(ref rest, p.Out.D4, p.In.D4, p.Begin.D4, p.InStrides.D4, p.Mode, ref outside);
        src += PadIndex(ref rest, p.Out.D3, p.In.D3, p.Begin.D3, p.InStrides.D3, p.Mode, ref outside);
        src += PadIndex(ref rest, p.Out.D2, p.In.D2, p.Begin.D2, p.InStrides.D2, p.Mode, ref outside);
        src += PadIndex(ref rest, p.Out.D1, p.In.D1, p.Begin.D1, p.InStrides.D1, p.Mode, ref outside);
        src += PadIndex(ref rest, p.Out.D0, p.In.D0, p.Begin.D0, p.InStrides.D0, p.Mode, ref outside);
        y[i] = outside ? value : x[src];
    }

    private static int PadIndex(ref int rest, int outDim, int inDim, int begin, int stride, int mode, ref bool outside)
    {
        int o = rest % outDim;
        rest /= outDim;
        int s = o - begin;
        if (s < 0 || s >= inDim)
        {
            if (mode == 0) { outside = true; return 0; }
            if (mode == 2) s = s < 0 ? 0 : inDim - 1;
            else
            {
                // reflect without repeating the edge; inDim >= 2 is checked before launch.
                int period = 2 * (inDim - 1);
                s = s % period;
                if (s < 0) s += period;
                if (s >= inDim) s = period - s;
            }
        }
        return s * stride;
    }

    public static void GatherInt64<T>(Index1D i, ArrayView<T> x, ArrayView<long> indices, ArrayView<T> y, GatherParams p) where T : unmanaged
    {
        int inner = i % p.Inner;
        int t = i / p.Inner;
        int k = t % p.IndexCount;
        int outer = t / p.IndexCount;
        long idx = indices[k];
        if (idx < 0) idx += p.AxisDim;
        y[i] = x[(outer * p.AxisDim + (int)idx) * p.Inner + inner];
    }

    public static void GatherInt32<T>(Index1D i, ArrayView<T> x, ArrayView<int> indices, ArrayView<T> y, GatherParams p) where T : unmanaged
    {
        int inner = i % p.Inner;
        int t = i / p.Inner;
        int k = t % p.IndexCount;
        int outer = t / p.IndexCount;
        int idx = indices[k];
        if (idx < 0) idx += p.AxisDim;
        y[i] = x[(outer * p.AxisDim + idx) * p.Inner + inner];
    }

    /// <summary>2-D resize of each N*C plane (nearest or bilinear).</summary>
    public static void Resize(Index1D i, ArrayView<float> x, ArrayView<float> y, ResizeParams p)
    {
        int ow = i % p.OutW;
        int t = i / p.OutW;
        int oh = t % p.OutH;
        int plane = t / p.OutH;
        float sh = SourceCoord(oh, p.ScaleH, p.InH, p.OutH, p.Transform);
        float sw = SourceCoord(ow, p.ScaleW, p.InW, p.OutW, p.Transform);
        int b = plane * p.InH * p.InW;
        if (p.Mode == 0)
        {
            int ih = Nearest(sh, p.NearestMode, p.InH);
            int iw = Nearest(sw, p.NearestMode, p.InW);
            y[i] = x[b + ih * p.InW + iw];
            return;
        }
        sh = sh < 0f ? 0f : sh > p.InH - 1 ? p.InH - 1 : sh;
        sw = sw < 0f ? 0f : sw > p.InW - 1 ? p.InW - 1 : sw;
        int h0 = (int)sh, w0 = (int)sw;
        int h1 = h0 + 1 < p.InH ? h0 + 1 : h0;
        int w1 = w0 + 1 < p.InW ? w0 + 1 : w0;
        float dh = sh - h0, dw = sw - w0;
        float v00 = x[b + h0 * p.InW + w0], v01 = x[b + h0 * p.InW + w1];
        float v10 = x[b + h1 * p.InW + w0], v11 = x[b + h1 * p.InW + w1];
        y[i] = (v00 * (1f - dw) + v01 * dw) * (1f - dh) + (v10 * (1f - dw) + v11 * dw) * dh;
    }

    private static float SourceCoord(int o, float scale, int inLen, int outLen, int transform)
    {
        switch (transform)
        {
            case 1: return o / scale;
            case 2: return outLen == 1 ? 0f : o * (float)(inLen - 1) / (outLen - 1);
            case 3: return outLen > 1 ? (o + 0.5f) / scale - 0.5f : 0f;
            default: return (o + 0.5f) / scale - 0.5f;
        }
    }

    private static int Nearest(float s, int mode, int len)
    {
        int r;
        switch (mode)
        {
            case 1: r = (int)ILGPU.Algorithms.XMath.Floor(s + 0.5f); break;
            case 2: r = (int)ILGPU.Algorithms.XMath.Floor(s); break;
            case 3: r = (int)ILGPU.Algorithms.XMath.Ceiling(s); break;
            default:
                float f = ILGPU.Algorithms.XMath.Floor(s);
                r = s - f == 0.5f ? (int)f : (int)ILGPU.Algorithms.XMath.Floor(s + 0.5f);
                break;
        }
        return r < 0 ? 0 : r >= len ? len - 1 : r;
    }
}
