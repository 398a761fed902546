using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Algorithms;

namespace AccelSdk.Ilgpu.Kernels;

/// <summary>
/// Geometry of a 1-D, 2-D or 3-D convolution or pooling window over one N,C,spatial... image. Every window op is
/// computed as 3-D: lower ranks have leading spatial dimensions of size 1 with kernel 1, stride 1, dilation 1, no padding.
/// </summary>
internal struct WindowParams
{
    /// <summary>Channels of the input image (per group for Conv).</summary>
    public int C;
    public int D, H, W;
    public int KD, KH, KW;
    public int SD, SH, SW;
    public int PadFront, PadTop, PadLeft, PadBack, PadBottom, PadRight;
    public int DD, DH, DW;
    public int OD, OH, OW;
    /// <summary>Element offset of the image (and group) in the input.</summary>
    public int InOffset;
    /// <summary>Element offset of the first output channel written.</summary>
    public int OutOffset;
    /// <summary>Conv: output channels per group; pooling: 1 = count padding in averages.</summary>
    public int M;
    public int Groups;
    public int BatchInStride, BatchOutStride;
    /// <summary>Pooling: 0 = max, 1 = average.</summary>
    public int Mode;
    public int HasBias;
}

/// <summary>Convolution and pooling kernels (3-D windows; 1-D and 2-D are the degenerate cases).</summary>
internal static class ConvKernels
{
    /// <summary>Unfolds one image (one group) into columns [C*KD*KH*KW, OD*OH*OW]; padding reads as zero.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Im2Col(Index1D index, ArrayView<float> x, ArrayView<float> col, WindowParams p, Launch launch)
    {
        for (int j = 0; j < launch.Chunk; j++)
        {
            int e = index * launch.IndexStride + j * launch.ElementStride;
            if (e >= launch.Total) return;
            int spatial = p.OD * p.OH * p.OW;
            int r = e / spatial;
            int s = e - r * spatial;
            int ow = s % p.OW;
            int st = s / p.OW;
            int oh = st % p.OH;
            int od = st / p.OH;
            int kw = r % p.KW;
            int t = r / p.KW;
            int kh = t % p.KH;
            t /= p.KH;
            int kd = t % p.KD;
            int c = t / p.KD;
            int id = od * p.SD - p.PadFront + kd * p.DD;
            int ih = oh * p.SH - p.PadTop + kh * p.DH;
            int iw = ow * p.SW - p.PadLeft + kw * p.DW;
            float v = 0f;
            if (id >= 0 && id < p.D && ih >= 0 && ih < p.H && iw >= 0 && iw < p.W) v = x[p.InOffset + ((c * p.D + id) * p.H + ih) * p.W + iw];
            col[e] = v;
        }
    }

    /// <summary>
    /// Direct convolution, one output element per index over the whole batch; used where im2col would not pay off
    /// (depthwise and other grouped convolutions with few channels per group). Weight is [Cout, C/groups, KD, KH, KW].
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void DirectConv(Index1D index, ArrayView<float> x, ArrayView<float> w, ArrayView<float> bias, ArrayView<float> y, WindowParams p, Launch launch)
    {
        for (int j = 0; j < launch.Chunk; j++)
        {
            int e = index * launch.IndexStride + j * launch.ElementStride;
            if (e >= launch.Total) return;
            int spatial = p.OD * p.OH * p.OW;
            int cout = p.M * p.Groups;
            int s = e % spatial;
            int t = e / spatial;
            int m = t % cout;
            int n = t / cout;
            int g = m / p.M;
            int ow = s % p.OW;
            int st = s / p.OW;
            int oh = st % p.OH;
            int od = st / p.OH;
            float acc = p.HasBias != 0 ? bias[m] : 0f;
            int inBase = n * p.BatchInStride + g * p.C * p.D * p.H * p.W;
            int wBase = m * p.C * p.KD * p.KH * p.KW;
            for (int c = 0; c < p.C; c++)
            {
                for (int kd = 0; kd < p.KD; kd++)
                {
                    int id = od * p.SD - p.PadFront + kd * p.DD;
                    if (id < 0 || id >= p.D) continue;
                    for (int kh = 0; kh < p.KH; kh++)
                    {
                        int ih = oh * p.SH - p.PadTop + kh * p.DH;
                        if (ih < 0 || ih >= p.H) continue;
                        for (int kw = 0; kw < p.KW; kw++)
                        {
                            int iw = ow * p.SW - p.PadLeft + kw * p.DW;
                            if (iw < 0 || iw >= p.W) continue;
                            acc += x[inBase + ((c * p.D + id) * p.H + ih) * p.W + iw] * w[wBase + ((c * p.KD + kd) * p.KH + kh) * p.KW + kw];
                        }
                    }
                }
            }
            y[e] = acc;
        }
    }

    /// <summary>
    /// Transposed convolution (gradient of Conv), one output element per element index over the whole batch:
    /// output o gathers every input i and tap k with o = i*S - Pad + k*Dil, per spatial dimension.
    /// Weight is [Cin, Cout/groups, KD, KH, KW]; here C is input channels per group, M output channels per group,
    /// D/H/W the input size and OD/OH/OW the output size.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ConvTranspose(Index1D index, ArrayView<float> x, ArrayView<float> w, ArrayView<float> bias, ArrayView<float> y, WindowParams p, Launch launch)
    {
        for (int j = 0; j < launch.Chunk; j++)
        {
            int e = index * launch.IndexStride + j * launch.ElementStride;
            if (e >= launch.Total) return;
            int spatial = p.OD * p.OH * p.OW;
            int cout = p.M * p.Groups;
            int s = e % spatial;
            int t = e / spatial;
            int m = t % cout;
            int n = t / cout;
            int g = m / p.M;
            int mg = m - g * p.M;
            int ow = s % p.OW;
            int st = s / p.OW;
            int oh = st % p.OH;
            int od = st / p.OH;
            int taps = p.KD * p.KH * p.KW;
            float acc = p.HasBias != 0 ? bias[m] : 0f;
            for (int c = 0; c < p.C; c++)
            {
                int ci = g * p.C + c;
                int inBase = n * p.BatchInStride + ci * p.D * p.H * p.W;
                int wBase = (ci * p.M + mg) * taps;
                for (int kd = 0; kd < p.KD; kd++)
                {
                    int dn = od + p.PadFront - kd * p.DD;
                    if (dn < 0 || dn % p.SD != 0) continue;
                    int id = dn / p.SD;
                    if (id >= p.D) continue;
                    for (int kh = 0; kh < p.KH; kh++)
                    {
                        int hn = oh + p.PadTop - kh * p.DH;
                        if (hn < 0 || hn % p.SH != 0) continue;
                        int ih = hn / p.SH;
                        if (ih >= p.H) continue;
                        for (int kw = 0; kw < p.KW; kw++)
                        {
                            int wn = ow + p.PadLeft - kw * p.DW;
                            if (wn < 0 || wn % p.SW != 0) continue;
                            int iw = wn / p.SW;
                            if (iw >= p.W) continue;
                            acc += x[inBase + (id * p.H + ih) * p.W + iw] * w[wBase + (kd * p.KH + kh) * p.KW + kw];
                        }
                    }
                }
            }
            y[e] = acc;
        }
    }

    /// <summary>Max or average pooling, one output element per index over N*C planes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Pool(Index1D index, ArrayView<float> x, ArrayView<float> y, WindowParams p, Launch launch)
    {
        for (int j = 0; j < launch.Chunk; j++)
        {
            int e = index * launch.IndexStride + j * launch.ElementStride;
            if (e >= launch.Total) return;
            int spatial = p.OD * p.OH * p.OW;
            int plane = e / spatial;
            int s = e - plane * spatial;
            int ow = s % p.OW;
            int st = s / p.OW;
            int oh = st % p.OH;
            int od = st / p.OH;
            int inBase = plane * p.D * p.H * p.W;
            int ds = od * p.SD - p.PadFront, hs = oh * p.SH - p.PadTop, ws = ow * p.SW - p.PadLeft;
            // best: IEEE 754-2008 maxNum over the window (a NaN is skipped unless every element is NaN), see NormKernels.Reduce.
            float best = float.NegativeInfinity;
            float sum = 0f;
            int count = 0;
            for (int kd = 0; kd < p.KD; kd++)
            {
                int id = ds + kd * p.DD;
                if (id < 0 || id >= p.D) continue;
                for (int kh = 0; kh < p.KH; kh++)
                {
                    int ih = hs + kh * p.DH;
                    if (ih < 0 || ih >= p.H) continue;
                    for (int kw = 0; kw < p.KW; kw++)
                    {
                        int iw = ws + kw * p.DW;
                        if (iw < 0 || iw >= p.W) continue;
                        float v = x[inBase + (id * p.H + ih) * p.W + iw];
                        if (count == 0 || v > best || ElementwiseKernels.IsNaN(best)) best = v;
                        sum += v;
                        count++;
                    }
                }
            }
            if (p.Mode == 0)
            {
                y[e] = best;
                continue;
            }
            if (p.M != 0)
            {
                // count_include_pad: the window clipped to the padded image (ONNX reference semantics).
                int de = XMin(ds + (p.KD - 1) * p.DD + 1, p.D + p.PadBack);
                int he = XMin(hs + (p.KH - 1) * p.DH + 1, p.H + p.PadBottom);
                int we = XMin(ws + (p.KW - 1) * p.DW + 1, p.W + p.PadRight);
                int dc = (de - ds + p.DD - 1) / p.DD;
                int hc = (he - hs + p.DH - 1) / p.DH;
                int wc = (we - ws + p.DW - 1) / p.DW;
                count = dc * hc * wc;
            }
            y[e] = count > 0 ? sum / count : 0f;
        }
    }

    private static int XMin(int a, int b) => a < b ? a : b;

    /// <summary>Global average (Mode 1) or max (Mode 0) over each N*C plane of Spatial elements (passed in H).</summary>
    public static void GlobalPool(Index1D plane, ArrayView<float> x, ArrayView<float> y, WindowParams p, Launch launch)
    {
        for (int j = 0; j < launch.Chunk; j++)
        {
            int e = plane * launch.IndexStride + j * launch.ElementStride;
            if (e >= launch.Total) return;
            int n = p.H;
            int b = e * n;
            float sum = 0f, best = float.NegativeInfinity;
            for (int i = 0; i < n; i++)
            {
                float v = x[b + i];
                sum += v;
                // maxNum: a NaN is skipped unless every element is NaN (see NormKernels.Reduce).
                if (i == 0 || v > best || ElementwiseKernels.IsNaN(best)) best = v;
            }
            y[e] = p.Mode == 1 ? sum / n : best;
        }
    }
}
