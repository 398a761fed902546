using AccelSdk.Backends;
using AccelSdk.Execution;
using AccelSdk.Ilgpu.Runtime;
using AccelSdk.Onnx;
using AccelSdk.Onnx.Conformance;
using ILGPU;
using ILGPU.Runtime.CPU;
using Xunit;
using Device = AccelSdk.Backends.Device;

namespace AccelSdk.Ilgpu.Tests;

/// <summary>
/// The GPU code paths (shared-memory tiled MatMul with group barriers, grid-stride element mapping) run here on a
/// CPU accelerator shaped like a GPU (groups of 256 threads), posing as a GPU device. CI has no GPU, so this is
/// where those kernels are checked against the ONNX node tests; tests/gpu/run-on-gpu.sh runs them on CUDA.
/// </summary>
public sealed class GpuPathTests
{
    private static readonly Lazy<IlgpuBackend> SimulatedGpu = new(() =>
    {
        var context = Context.Create(b => b.CPU(new CPUDevice(16, 16, 2)).EnableAlgorithms());
        var device = new Device("ilgpu", "ilgpu-simgpu", "CPU accelerator posing as a GPU (tests)", DeviceKind.Gpu, MemorySpace.BackendPrivate("ilgpu-simgpu"));
        var slot = new IlgpuDeviceSlot(device, () => context.GetCPUDevice(0).CreateCPUAccelerator(context, CPUAcceleratorMode.Parallel));
        return new IlgpuBackend(new[] { (slot, context) });
    });

    private static Device Gpu => SimulatedGpu.Value.Devices[0];

    public static IEnumerable<object[]> LinearCases() =>
        Directory.GetDirectories(Path.Combine(Shared.OnnxTestData, "node"))
            .Select(Path.GetFileName)
            .Where(n => n!.StartsWith("test_matmul_", StringComparison.Ordinal) || n.StartsWith("test_gemm", StringComparison.Ordinal) ||
                        n.StartsWith("test_conv_", StringComparison.Ordinal) || n.StartsWith("test_basic_conv_", StringComparison.Ordinal) ||
                        n is "test_relu" or "test_add_bcast" or "test_softmax_axis_1" or "test_transpose_default" or "test_maxpool_2d_pads")
            .OrderBy(n => n, StringComparer.Ordinal)
            .Select(n => new object[] { n! });

    [Theory]
    [MemberData(nameof(LinearCases))]
    public void NodeTestPassesOnTheGpuCodePath(string testCase)
    {
        var caseDir = Path.Combine(Shared.OnnxTestData, "node", testCase);
        var model = OnnxImporter.Load(Path.Combine(caseDir, "model.onnx"));
        Assert.Empty(GraphPartitioner.Unsupported(model, SimulatedGpu.Value, Gpu));
        var result = new ConformanceRunner(SimulatedGpu.Value, Gpu).RunCase("node", caseDir);
        Assert.True(result.Status == CaseStatus.Pass, $"{testCase}: {result.Status}: {result.Reason}");
    }

    [Fact]
    public void GpuDevicesDefaultToTheTiledMatMulAndTheSettingSelectsEither()
    {
        var model = TinyModels.ConvRelu();
        using (var tiled = (IlgpuPartition)SimulatedGpu.Value.Compile(Gpu, model, new CompileOptions()))
        {
            Assert.Equal(Ops.MatMulVariant.Tiled, tiled.MatMul);
        }
        var blockedOptions = new CompileOptions { Settings = new Dictionary<string, string> { ["ilgpu.matmul"] = "blocked" } };
        using (var blocked = (IlgpuPartition)SimulatedGpu.Value.Compile(Gpu, model, blockedOptions))
        {
            Assert.Equal(Ops.MatMulVariant.Blocked, blocked.MatMul);
        }
        var bad = new CompileOptions { Settings = new Dictionary<string, string> { ["ilgpu.matmul"] = "tiled" } };
        var e = Assert.Throws<BackendException>(() => Shared.Backend.Compile(Shared.Cpu, model, bad));
        Assert.Contains("groups of 256 threads", e.Message);
        using (var packed = (IlgpuPartition)Shared.Backend.Compile(Shared.Cpu, model, new CompileOptions()))
        {
            Assert.Equal(Ops.MatMulVariant.Packed, packed.MatMul);
        }
    }

    [Theory]
    [InlineData(3, 70, 33, 90, false)]
    [InlineData(3, 70, 33, 90, true)]
    [InlineData(2, 1, 5, 1, false)]
    [InlineData(1, 17, 1, 4, false)]
    public void PackedMatMulMatchesADoubleReferenceWithBatchBroadcastOnEitherSide(int batch, int m, int k, int n, bool batchOnB)
    {
        var a = batchOnB ? TinyModels.F32("A", m, k) : TinyModels.F32("A", batch, m, k);
        var b = batchOnB ? TinyModels.F32("B", batch, k, n) : TinyModels.F32("B", k, n);
        var model = TinyModels.Single(new Ir.Node("MatMul", new[] { "A", "B" }, new[] { "C" }, "mm"), new[] { a, b }, new[] { TinyModels.F32("C", batch, m, n) });
        var inputs = SampleInputs.Random(model, seed: 5);
        var packedOptions = new CompileOptions { Settings = new Dictionary<string, string> { ["ilgpu.matmul"] = "packed" } };
        using var packed = new AccelSession(GraphPartitioner.WholeModel(model, Shared.Backend, Shared.Cpu), packedOptions);
        var r = packed.Run(inputs)[0].ToArray<float>();
        var ha = inputs["A"].ToArray<float>();
        var hb = inputs["B"].ToArray<float>();
        Assert.Equal(batch * m * n, r.Length);
        for (var i = 0; i < r.Length; i++)
        {
            int bi = i / (m * n), row = i / n % m, col = i % n;
            double expected = 0;
            for (var q = 0; q < k; q++)
            {
                var av = ha[(batchOnB ? 0 : bi * m * k) + row * k + q];
                var bv = hb[(batchOnB ? bi * k * n : 0) + q * n + col];
                expected += (double)av * bv;
            }
            Assert.True(Math.Abs(r[i] - expected) <= 1e-4 * (1 + Math.Abs(expected)), $"packed [{bi},{row},{col}] = {r[i]}, expected {expected}");
        }
    }

    [Fact]
    public void TiledAndBlockedMatMulAgreeOnOddSizes()
    {
        var a = TinyModels.F32("A", 3, 70, 33);
        var b = TinyModels.F32("B", 33, 90);
        var model = TinyModels.Single(new Ir.Node("MatMul", new[] { "A", "B" }, new[] { "C" }, "mm"), new[] { a, b }, new[] { TinyModels.F32("C", 3, 70, 90) });
        var inputs = SampleInputs.Random(model, seed: 11);
        var blockedOptions = new CompileOptions { Settings = new Dictionary<string, string> { ["ilgpu.matmul"] = "blocked" } };
        using var tiled = new AccelSession(GraphPartitioner.WholeModel(model, SimulatedGpu.Value, Gpu));
        using var blocked = new AccelSession(GraphPartitioner.WholeModel(model, Shared.Backend, Shared.Cpu), blockedOptions);
        var t = tiled.Run(inputs)[0].ToArray<float>();
        var r = blocked.Run(inputs)[0].ToArray<float>();
        var ha = inputs["A"].ToArray<float>();
        var hb = inputs["B"].ToArray<float>();
        for (var i = 0; i < t.Length; i++)
        {
            int batch = i / (70 * 90), row = i / 90 % 70, col = i % 90;
            double expected = 0;
            for (var k = 0; k < 33; k++) expected += (double)ha[batch * 70 * 33 + row * 33 + k] * hb[k * 90 + col];
            Assert.True(Math.Abs(t[i] - expected) <= 1e-4 * (1 + Math.Abs(expected)), $"tiled [{batch},{row},{col}] = {t[i]}, expected {expected}");
            Assert.True(Math.Abs(r[i] - expected) <= 1e-4 * (1 + Math.Abs(expected)), $"blocked [{batch},{row},{col}] = {r[i]}, expected {expected}");
        }
    }

    /// <summary>float16, integer, 1-D/3-D window and cubic-resize cases on the grid-stride (GPU) element mapping.</summary>
    public static IEnumerable<object[]> ExtendedOpCases() => new[]
    {
        "test_max_float16", "test_min_int64", "test_pow_types_int64_int64", "test_pow_types_float32_int32", "test_div",
        "test_convtranspose_3d", "test_convtranspose_1d", "test_maxpool_3d_default", "test_averagepool_1d_default",
        "test_resize_upsample_scales_cubic", "test_resize_downsample_scales_cubic_A_n0p5_exclude_outside", "test_cast_FLOAT_to_FLOAT16",
    }.Select(n => new object[] { n });

    [Theory]
    [MemberData(nameof(ExtendedOpCases))]
    public void ExtendedOpNodeTestPassesOnTheGpuCodePath(string testCase) => NodeTestPassesOnTheGpuCodePath(testCase);
}
