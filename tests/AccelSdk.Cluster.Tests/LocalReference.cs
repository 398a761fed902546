using AccelSdk.Execution;
using AccelSdk.Ir;

namespace AccelSdk.Cluster.Tests;

/// <summary>The single-process session the cluster's answers are compared with (same backend: same bits).</summary>
internal static class LocalReference
{
    public static AccelSession Open(string path, string device = "ort-cpu")
    {
        return AccelRuntime.Default.Resolve(device).Load(Model.Load(path));
    }

    /// <summary>Distinct fixed-seed inputs of the model's declared types.</summary>
    public static IReadOnlyDictionary<string, AccelTensor> Inputs(string path, int seed) => SampleInputs.Random(Model.Load(path), seed);

    public static void AssertSameBits(IReadOnlyList<AccelTensor> expected, IReadOnlyList<AccelTensor> actual, string what)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (var i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i].ElementType, actual[i].ElementType);
            Assert.Equal(expected[i].ShapeArray, actual[i].ShapeArray);
            Assert.True(expected[i].Bytes.SequenceEqual(actual[i].Bytes), $"{what}: output {i} differs from the local session's");
        }
    }

    /// <summary>For plans that may compile differently (an autotuned variant): within 1e-5, absolute or relative.</summary>
    public static void AssertClose(IReadOnlyList<AccelTensor> expected, IReadOnlyList<AccelTensor> actual, string what)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (var i = 0; i < expected.Count; i++)
        {
            var (e, a) = (expected[i].ToArray<float>(), actual[i].ToArray<float>());
            Assert.Equal(e.Length, a.Length);
            for (var j = 0; j < e.Length; j++)
                Assert.True(Math.Abs(e[j] - a[j]) <= 1e-5 * Math.Max(1, Math.Abs(e[j])), $"{what}: output {i}[{j}] {a[j]} vs local {e[j]}");
        }
    }
}
