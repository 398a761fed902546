namespace AccelSdk.Ilgpu.Kernels;

/// <summary>
/// Up to six dimensions (or strides) passed by value to kernels, outermost in <see cref="D0"/>. Shapes of lower rank
/// are padded at the front with size 1 / stride 0, so one kernel serves every rank up to six.
/// </summary>
internal struct Dims6
{
    public int D0, D1, D2, D3, D4, D5;

    public const int MaxRank = 6;

    public static Dims6 From(ReadOnlySpan<long> values, long pad)
    {
        if (values.Length > MaxRank) throw new ArgumentException($"rank {values.Length} exceeds {MaxRank}");
        Span<int> v = stackalloc int[MaxRank];
        v.Fill(checked((int)pad));
        var offset = MaxRank - values.Length;
        for (var i = 0; i < values.Length; i++) v[offset + i] = checked((int)values[i]);
        return new Dims6 { D0 = v[0], D1 = v[1], D2 = v[2], D3 = v[3], D4 = v[4], D5 = v[5] };
    }

    /// <summary>Offset of linear index <paramref name="i"/> of a region of dims <paramref name="d"/> under strides <paramref name="s"/>.</summary>
    public static int Offset(int i, Dims6 d, Dims6 s)
    {
        var o = 0;
        o += (i % d.D5) * s.D5; i /= d.D5;
        o += (i % d.D4) * s.D4; i /= d.D4;
        o += (i % d.D3) * s.D3; i /= d.D3;
        o += (i % d.D2) * s.D2; i /= d.D2;
        o += (i % d.D1) * s.D1; i /= d.D1;
        o += i * s.D0;
        return o;
    }
}

/// <summary>
/// How the elements of a kernel map onto the indices it is launched with: index i handles elements
/// <c>i*IndexStride + j*ElementStride</c> for j below <see cref="Chunk"/> (stopping at <see cref="Total"/>).
/// On the CPU accelerator each index takes one contiguous chunk (launching costs about a microsecond per index there);
/// on GPUs consecutive indices take consecutive elements (grid-stride, coalesced).
/// </summary>
internal struct Launch
{
    public int Total;
    public int Chunk;
    public int IndexStride;
    public int ElementStride;

    public static (int Count, Launch Launch) Plan(long total, bool cpu, int cpuThreads)
    {
        var n = (int)total;
        if (n <= 0) return (0, new Launch { Total = 0, Chunk = 1, IndexStride = 1, ElementStride = 1 });
        if (cpu)
        {
            var count = Math.Min(n, Math.Max(1, cpuThreads) * 8);
            var chunk = (n + count - 1) / count;
            count = (n + chunk - 1) / chunk;
            return (count, new Launch { Total = n, Chunk = chunk, IndexStride = chunk, ElementStride = 1 });
        }
        var gpuCount = Math.Min(n, 1 << 20);
        var gpuChunk = (n + gpuCount - 1) / gpuCount;
        return (gpuCount, new Launch { Total = n, Chunk = gpuChunk, IndexStride = 1, ElementStride = gpuCount });
    }
}
