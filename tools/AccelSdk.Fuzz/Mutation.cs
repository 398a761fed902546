namespace AccelSdk.Fuzz;

/// <summary>
/// One mutation applied to a seed: <see cref="Seed"/> drives every random choice it makes, so a mutant is replayed (and
/// minimised, by dropping steps) from its seed file and its list of steps alone.
/// </summary>
internal readonly record struct MutationStep(int Seed);

/// <summary>A mutant: the bytes, the steps that made them from the seed, and what each step did.</summary>
internal sealed record Mutant(byte[] Bytes, IReadOnlyList<MutationStep> Steps, IReadOnlyList<string> Descriptions);

/// <summary>A structure-aware mutator of one model format.</summary>
internal interface IMutator
{
    /// <summary>Applies <paramref name="steps"/> in order to <paramref name="seed"/>; the same inputs always give the same bytes.</summary>
    Mutant Apply(byte[] seed, IReadOnlyList<MutationStep> steps);
}

/// <summary>Helpers shared by the mutators: step lists and the boundary values that break size and index arithmetic.</summary>
internal static class Mutations
{
    /// <summary>1 to 4 steps, fewer more often (a single well-aimed change finds most bugs and minimises for free).</summary>
    public static MutationStep[] RandomSteps(Random random)
    {
        var count = 1;
        while (count < 4 && random.NextDouble() < 0.4) count++;
        return Enumerable.Range(0, count).Select(_ => new MutationStep(random.Next())).ToArray();
    }

    private static readonly long[] InterestingLongs =
    {
        0, 1, -1, 2, -2, 3, 4, 7, 8, 16, 255, 256, 65535, 65536, int.MaxValue, int.MinValue, (long)int.MaxValue + 1,
        uint.MaxValue, 1L << 40, long.MaxValue, long.MinValue,
    };

    private static readonly int[] InterestingInts = { 0, 1, -1, 2, -2, 3, 4, 7, 8, 16, 255, 256, 65535, 65536, 1 << 20, int.MaxValue, int.MinValue };

    /// <summary>A boundary value, a small one, or <paramref name="current"/> nudged.</summary>
    public static long InterestingLong(Random random, long current) => random.Next(4) switch
    {
        0 => InterestingLongs[random.Next(InterestingLongs.Length)],
        1 => random.Next(-4, 65),
        2 => unchecked(current + random.Next(-2, 3)),
        _ => random.Next(3) switch { 0 => unchecked(current * 2), 1 => unchecked(-current), _ => unchecked(current * 1000) },
    };

    /// <summary>A 32-bit boundary value, a small one, or <paramref name="current"/> nudged.</summary>
    public static int InterestingInt(Random random, int current) => random.Next(4) switch
    {
        0 => InterestingInts[random.Next(InterestingInts.Length)],
        1 => random.Next(-4, 65),
        2 => unchecked(current + random.Next(-2, 3)),
        _ => random.Next(2) == 0 ? unchecked(current * 2) : unchecked(-current),
    };

    private static readonly float[] InterestingFloats =
    {
        0f, -0f, 1f, -1f, float.NaN, float.PositiveInfinity, float.NegativeInfinity, float.MaxValue, float.Epsilon, 1e-30f, 65504f, 2.5f,
    };

    /// <summary>NaN, an infinity, a denormal, a huge or a plain value.</summary>
    public static float InterestingFloat(Random random) => InterestingFloats[random.Next(InterestingFloats.Length)];
}
