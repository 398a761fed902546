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
    public float Value;
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
    /// <summary>0 half_pixel, 1 asymmetric, 2 align_corners, 3 pytorch_half_pixel, 4 tf_half_pixel_for_nn, 5 tf_crop_and_resize.</summary>
    public int Transform;
    /// <summary>tf_crop_and_resize: the region of interest (normalised start/end per axis) and the value outside it.</summary>
    public float RoiStartH, RoiEndH, RoiStartW, RoiEndW, Extrapolation;
    /// <summary>0 nearest, 1 linear, 2 cubic.</summary>
    public int Mode;
    /// <summary>Cubic: the kernel's a (cubic_coeff_a).</summary>
    public float CubicA;
    /// <summary>Cubic: 1 = taps outside the input get weight 0 and the rest is renormalised (exclude_outside).</summary>
    public int ExcludeOutside;
    /// <summary>0 round_prefer_floor, 1 round_prefer_ceil, 2 floor, 3 ceil.</summary>
    public int NearestMode;
}

/// <summary>Data movement kernels, generic over the element type (they only move bits).</summary>
internal static class MovementKernels
{
    public static void StridedCopy<T>(Index1D i, ArrayView<T> src, ArrayView<T> dst, CopyParams p, Launch launch) where T : unmanaged
    {
        for (int j = 0; j < launch.Chunk; j++)
        {
            int e = i * launch.IndexStride + j * launch.ElementStride;
            if (e >= launch.Total) return;
            dst[p.DstOffset + Dims6.Offset(e, p.Dims, p.DstStrides)] = src[p.SrcOffset + Dims6.Offset(e, p.Dims, p.SrcStrides)];
        }
    }

    public static void Pad(Index1D i, ArrayView<float> x, ArrayView<float> y, PadParams p, Launch launch)
    {
        for (int j = 0; j < launch.Chunk; j++)
        {
            int e = i * launch.IndexStride + j * launch.ElementStride;
            if (e >= launch.Total) return;
            int rest = e;
            int s5 = PadSource(rest % p.Out.D5, p.In.D5, p.Begin.D5, p.Mode); rest /= p.Out.D5;
            int s4 = PadSource(rest % p.Out.D4, p.In.D4, p.Begin.D4, p.Mode); rest /= p.Out.D4;
            int s3 = PadSource(rest % p.Out.D3, p.In.D3, p.Begin.D3, p.Mode); rest /= p.Out.D3;
            int s2 = PadSource(rest % p.Out.D2, p.In.D2, p.Begin.D2, p.Mode); rest /= p.Out.D2;
            int s1 = PadSource(rest % p.Out.D1, p.In.D1, p.Begin.D1, p.Mode); rest /= p.Out.D1;
            int s0 = PadSource(rest, p.In.D0, p.Begin.D0, p.Mode);
            if (s0 < 0 || s1 < 0 || s2 < 0 || s3 < 0 || s4 < 0 || s5 < 0)
            {
                y[e] = p.Value;
                continue;
            }
            y[e] = x[s0 * p.InStrides.D0 + s1 * p.InStrides.D1 + s2 * p.InStrides.D2 + s3 * p.InStrides.D3 + s4 * p.InStrides.D4 + s5 * p.InStrides.D5];
        }
    }

    /// <summary>Source index along one dimension for output index <paramref name="o"/>, or -1 for constant padding.</summary>
    private static int PadSource(int o, int inDim, int begin, int mode)
    {
        int s = o - begin;
        if (s >= 0 && s < inDim) return s;
        if (mode == 0) return -1;
        if (mode == 2) return s < 0 ? 0 : inDim - 1;
        // reflect without repeating the edge; inDim >= 2 and pads < inDim are checked before launch.
        return s < 0 ? -s : 2 * (inDim - 1) - s;
    }

    public static void GatherInt64<T>(Index1D i, ArrayView<T> x, ArrayView<long> indices, ArrayView<T> y, GatherParams p, Launch launch) where T : unmanaged
    {
        for (int j = 0; j < launch.Chunk; j++)
        {
            int e = i * launch.IndexStride + j * launch.ElementStride;
            if (e >= launch.Total) return;
            int inner = e % p.Inner;
            int t = e / p.Inner;
            int k = t % p.IndexCount;
            int outer = t / p.IndexCount;
            long idx = indices[k];
            if (idx < 0) idx += p.AxisDim;
            y[e] = x[(outer * p.AxisDim + (int)idx) * p.Inner + inner];
        }
    }

    public static void GatherInt32<T>(Index1D i, ArrayView<T> x, ArrayView<int> indices, ArrayView<T> y, GatherParams p, Launch launch) where T : unmanaged
    {
        for (int j = 0; j < launch.Chunk; j++)
        {
            int e = i * launch.IndexStride + j * launch.ElementStride;
            if (e >= launch.Total) return;
            int inner = e % p.Inner;
            int t = e / p.Inner;
            int k = t % p.IndexCount;
            int outer = t / p.IndexCount;
            int idx = indices[k];
            if (idx < 0) idx += p.AxisDim;
            y[e] = x[(outer * p.AxisDim + idx) * p.Inner + inner];
        }
    }

    /// <summary>2-D resize of each N*C plane (nearest, bilinear or bicubic).</summary>
    public static void Resize(Index1D i, ArrayView<float> x, ArrayView<float> y, ResizeParams p, Launch launch)
    {
        for (int j = 0; j < launch.Chunk; j++)
        {
            int e = i * launch.IndexStride + j * launch.ElementStride;
            if (e >= launch.Total) return;
            int ow = e % p.OutW;
            int t = e / p.OutW;
            int oh = t % p.OutH;
            int plane = t / p.OutH;
            float sh, sw;
            int b = plane * p.InH * p.InW;
            if (p.Transform == 5)
            {
                sh = CropCoord(oh, p.RoiStartH, p.RoiEndH, p.InH, p.OutH);
                sw = CropCoord(ow, p.RoiStartW, p.RoiEndW, p.InW, p.OutW);
                if (sh < 0f || sh > p.InH - 1 || sw < 0f || sw > p.InW - 1)
                {
                    y[e] = p.Extrapolation;
                    continue;
                }
            }
            else
            {
                sh = SourceCoord(oh, p.ScaleH, p.InH, p.OutH, p.Transform);
                sw = SourceCoord(ow, p.ScaleW, p.InW, p.OutW, p.Transform);
            }
            if (p.Mode == 0)
            {
                int ih = Nearest(sh, p.NearestMode, p.InH);
                int iw = Nearest(sw, p.NearestMode, p.InW);
                y[e] = x[b + ih * p.InW + iw];
                continue;
            }
            if (p.Mode == 2)
            {
                y[e] = Bicubic(x, b, sh, sw, p);
                continue;
            }
            sh = sh < 0f ? 0f : sh > p.InH - 1 ? p.InH - 1 : sh;
            sw = sw < 0f ? 0f : sw > p.InW - 1 ? p.InW - 1 : sw;
            int h0 = (int)sh, w0 = (int)sw;
            int h1 = h0 + 1 < p.InH ? h0 + 1 : h0;
            int w1 = w0 + 1 < p.InW ? w0 + 1 : w0;
            float dh = sh - h0, dw = sw - w0;
            // Where both taps are the same element, weigh them 0.5/0.5 like ONNX Runtime: the same value for finite
            // inputs, and an infinite input stays infinite instead of becoming inf * 0 = NaN.
            if (h1 == h0) dh = 0.5f;
            if (w1 == w0) dw = 0.5f;
            float v00 = x[b + h0 * p.InW + w0], v01 = x[b + h0 * p.InW + w1];
            float v10 = x[b + h1 * p.InW + w0], v11 = x[b + h1 * p.InW + w1];
            y[e] = (v00 * (1f - dw) + v01 * dw) * (1f - dh) + (v10 * (1f - dw) + v11 * dw) * dh;
        }
    }

    /// <summary>
    /// Bicubic sample of one plane at source (sh, sw) as the ONNX reference computes it: taps at base-1 .. base+2 where
    /// base = floor(s), or s-1 when s is integral (ratio in (0, 1]); taps outside the input read the edge, or get
    /// weight 0 with the rest renormalised under exclude_outside.
    /// </summary>
    private static float Bicubic(ArrayView<float> x, int plane, float sh, float sw, ResizeParams p)
    {
        int bh = CubicBase(sh), bw = CubicBase(sw);
        float sumH = CubicWeightSum(sh, bh, p.InH, p), sumW = CubicWeightSum(sw, bw, p.InW, p);
        float acc = 0f;
        for (int kh = 0; kh < 4; kh++)
        {
            float wh = CubicWeight(sh, bh, kh, p.InH, p) / sumH;
            if (wh == 0f) continue;
            int ih = bh - 1 + kh;
            ih = ih < 0 ? 0 : ih >= p.InH ? p.InH - 1 : ih;
            float row = 0f;
            for (int kw = 0; kw < 4; kw++)
            {
                int iw = bw - 1 + kw;
                iw = iw < 0 ? 0 : iw >= p.InW ? p.InW - 1 : iw;
                row += CubicWeight(sw, bw, kw, p.InW, p) / sumW * x[plane + ih * p.InW + iw];
            }
            acc += wh * row;
        }
        return acc;
    }

    private static int CubicBase(float s)
    {
        float f = ILGPU.Algorithms.XMath.Floor(s);
        return s == f ? (int)f - 1 : (int)f;
    }

    /// <summary>Weight of tap k (source index base-1+k) for source coordinate s: the cubic kernel at their distance.</summary>
    private static float CubicWeight(float s, int b, int k, int len, ResizeParams p)
    {
        int idx = b - 1 + k;
        if (p.ExcludeOutside != 0 && (idx < 0 || idx >= len)) return 0f;
        float d = s - idx;
        d = d < 0f ? -d : d;
        float a = p.CubicA;
        if (d <= 1f) return ((a + 2f) * d - (a + 3f)) * d * d + 1f;
        if (d < 2f) return ((a * d - 5f * a) * d + 8f * a) * d - 4f * a;
        return 0f;
    }

    /// <summary>The renormalising divisor: the sum of the taps' weights under exclude_outside, else 1.</summary>
    private static float CubicWeightSum(float s, int b, int len, ResizeParams p)
    {
        if (p.ExcludeOutside == 0) return 1f;
        return CubicWeight(s, b, 0, len, p) + CubicWeight(s, b, 1, len, p) + CubicWeight(s, b, 2, len, p) + CubicWeight(s, b, 3, len, p);
    }

    private static float CropCoord(int o, float start, float end, int inLen, int outLen) =>
        outLen > 1 ? start * (inLen - 1) + o * (end - start) * (inLen - 1) / (outLen - 1) : 0.5f * (start + end) * (inLen - 1);

    private static float SourceCoord(int o, float scale, int inLen, int outLen, int transform)
    {
        switch (transform)
        {
            case 1: return o / scale;
            case 2: return outLen == 1 ? 0f : o * (float)(inLen - 1) / (outLen - 1);
            case 3: return outLen > 1 ? (o + 0.5f) / scale - 0.5f : -0.5f;
            case 4: return (o + 0.5f) / scale;
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
