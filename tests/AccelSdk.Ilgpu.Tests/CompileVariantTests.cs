using AccelSdk.Backends;
using AccelSdk.Ilgpu.Ops;
using AccelSdk.Ilgpu.Runtime;
using AccelSdk.Ir;
using Xunit;

namespace AccelSdk.Ilgpu.Tests;

/// <summary>The MatMul kernel variants the backend offers the autotuner, and how their settings select a kernel.</summary>
public class CompileVariantTests
{
    private static Model MatMul() => TinyModels.Single(new Node("MatMul", new[] { "A", "B" }, new[] { "Y" }, "mm"),
        new[] { TinyModels.F32("A", 19, 33), TinyModels.F32("B", 33, 10) }, new[] { TinyModels.F32("Y", 19, 10) });

    [Fact]
    public void Cpu_accelerator_offers_packed_then_blocked_and_each_variant_selects_its_kernel()
    {
        var variants = Shared.Backend.CompileVariants(Shared.Cpu);
        Assert.Equal(new[] { "packed", "blocked" }, variants.Select(v => v.Name));
        var model = MatMul();
        foreach (var (variant, expected) in variants.Zip(new[] { MatMulVariant.Packed, MatMulVariant.Blocked }))
        {
            using var partition = (IlgpuPartition)Shared.Backend.Compile(Shared.Cpu, model, variant.ApplyTo(new CompileOptions()));
            Assert.Equal(expected, partition.MatMul);
        }
    }

    [Fact]
    public void A_device_scoped_setting_wins_over_the_backend_wide_one_and_other_devices_keys_are_ignored()
    {
        var model = MatMul();
        var scoped = new CompileOptions
        {
            Settings = new Dictionary<string, string>
            {
                [IlgpuPartition.MatMulSetting] = "packed",
                [IlgpuPartition.MatMulSetting + "@ilgpu-cpu"] = "blocked",
                [IlgpuPartition.MatMulSetting + "@ilgpu-cuda:0"] = "tiled",
            },
        };
        using (var partition = (IlgpuPartition)Shared.Backend.Compile(Shared.Cpu, model, scoped))
        {
            Assert.Equal(MatMulVariant.Blocked, partition.MatMul);
        }
        var otherDevice = new CompileOptions { Settings = new Dictionary<string, string> { [IlgpuPartition.MatMulSetting + "@ilgpu-cuda:0"] = "tiled" } };
        using (var partition = (IlgpuPartition)Shared.Backend.Compile(Shared.Cpu, model, otherDevice))
        {
            Assert.Equal(MatMulVariant.Packed, partition.MatMul);
        }
    }
}
