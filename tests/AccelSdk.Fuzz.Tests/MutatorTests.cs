using AccelSdk.TestSupport;

namespace AccelSdk.Fuzz.Tests;

/// <summary>The mutators on real seed models: reproducible from their steps, in-place for TFLite, and aimed at structure.</summary>
public sealed class MutatorTests
{
    private static byte[] NodeTest(string name) => File.ReadAllBytes(Path.Combine(RepoPaths.OnnxCase("node", name), "model.onnx"));

    private static byte[] TfLiteSeed(string name) => File.ReadAllBytes(RepoPaths.Model(Path.Combine("tflite", name)));

    [Fact]
    public void Onnx_mutants_replay_byte_for_byte_from_their_steps()
    {
        var seed = NodeTest("test_conv_with_strides_padding");
        var mutator = new OnnxMutator();
        for (var i = 0; i < 200; i++)
        {
            var steps = Mutations.RandomSteps(new Random(i));
            var first = mutator.Apply(seed, steps);
            var again = mutator.Apply(seed, steps);
            Assert.Equal(first.Bytes, again.Bytes);
            Assert.Equal(first.Descriptions, again.Descriptions);
            Assert.Equal(steps.Length, first.Descriptions.Count);
        }
    }

    [Fact]
    public void Onnx_mutations_change_the_model_and_every_kind_is_reached()
    {
        var seed = NodeTest("test_conv_with_strides_padding");
        var mutator = new OnnxMutator();
        var mutants = Enumerable.Range(0, 400).Select(i => mutator.Apply(seed, new[] { new MutationStep(i) })).ToArray();

        var unchanged = mutants.Where(m => m.Bytes.AsSpan().SequenceEqual(seed)).Select(m => m.Descriptions[0]).ToArray();
        Assert.True(unchanged.Length < 200, $"most single mutations must change the bytes; these did not:\n{string.Join("\n", unchanged)}");
        var kinds = mutants.Select(m => m.Descriptions[0].Split(':')[0]).ToHashSet();
        foreach (var kind in new[] { "shape dim", "tensor dims", "element type", "value name", "attribute", "remove/duplicate", "tensor data", "scalar", "wire" })
        {
            Assert.Contains(kind, kinds);
        }
        Assert.Contains(kinds, k => k is "op type" or "opset");
    }

    [Fact]
    public void A_tflite_seed_yields_sites_of_every_structural_kind_at_the_values_the_file_holds()
    {
        var seed = TfLiteSeed("fc_qat.bin");
        var sites = FlatBufferSites.Collect(seed);
        var kinds = sites.Select(s => s.Kind).ToHashSet();
        foreach (var kind in new[] { SiteKind.TensorIndex, SiteKind.Dim, SiteKind.BufferIndex, SiteKind.TensorType, SiteKind.OpcodeIndex, SiteKind.VectorLength, SiteKind.Offset })
        {
            Assert.Contains(kind, kinds);
        }
        // Every tensor index the walker found lies inside the tensor table it was counted against (-1: an omitted optional input).
        Assert.All(sites.Where(s => s.Kind == SiteKind.TensorIndex), s =>
        {
            var value = BitConverter.ToInt32(seed, s.Position);
            Assert.InRange(value, -1, s.Bound - 1);
        });
    }

    [Fact]
    public void Tflite_steps_patch_in_place_so_any_subset_replays()
    {
        var seed = TfLiteSeed("add.bin");
        var mutator = new TfLiteMutator();
        for (var i = 0; i < 200; i++)
        {
            var steps = Mutations.RandomSteps(new Random(i));
            var all = mutator.Apply(seed, steps);
            Assert.Equal(seed.Length, all.Bytes.Length);
            Assert.Equal(all.Bytes, mutator.Apply(seed, steps).Bytes);
            var changed = Enumerable.Range(0, seed.Length).Count(b => seed[b] != all.Bytes[b]);
            Assert.InRange(changed, 0, 8 * steps.Length);
        }
    }

    [Fact]
    public void A_run_seed_gives_the_same_mutant_seeds_in_every_process()
    {
        // Fixed values: a per-process hash (System.HashCode) here would make --seed runs unrepeatable.
        Assert.Equal(Supervisor.MutantSeed(1, 0), Supervisor.MutantSeed(1, 0));
        Assert.Equal(-1551761096, Supervisor.MutantSeed(1, 0));
        Assert.NotEqual(Supervisor.MutantSeed(1, 0), Supervisor.MutantSeed(1, 1));
        Assert.NotEqual(Supervisor.MutantSeed(1, 0), Supervisor.MutantSeed(2, 0));
    }
}
