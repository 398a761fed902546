using System.Diagnostics;
using AccelSdk.Backends;
using AccelSdk.Execution;
using AccelSdk.Ilgpu.Runtime;
using AccelSdk.Onnx;
using AccelSdk.Onnx.Conformance;
using Xunit;
using Xunit.Abstractions;

namespace AccelSdk.Ilgpu.Tests;

/// <summary>
/// Debian's PoCL (installed by scripts/setup-ilgpu.sh) under the opt-in <see cref="PoclCompatibility"/> shim: the
/// device must be usable as <c>ilgpu-opencl:0</c>, pass every claimed ONNX case, and run ResNet18 and BlazeFace
/// within 1e-4 of ONNX Runtime, with both the default (blocked) and the tiled MatMul. PoCL compiles each kernel with
/// LLVM once per process, so the class shares one backend.
/// </summary>
public sealed class PoclCompatibilityTests(ITestOutputHelper output)
{
    private static readonly Lazy<IlgpuBackend> CompatBackend = new(() => new IlgpuBackend(PoclCompatibility.OptInValue));

    private static Device Pocl
    {
        get
        {
            Assert.True(File.Exists("/etc/OpenCL/vendors/pocl.icd"), "PoCL is not installed: run scripts/setup-ilgpu.sh");
            var devices = CompatBackend.Value.Devices.Where(d => d.Id.StartsWith("ilgpu-opencl:", StringComparison.Ordinal) && d.Name.Contains("Portable Computing Language", StringComparison.Ordinal)).ToArray();
            var device = Assert.Single(devices);
            Assert.True(device.IsAvailable, $"{device.Id}: {device.UnavailableReason}");
            return device;
        }
    }

    [Fact]
    public void WithoutTheOptInPoclIsRefusedWithIlgpusReasonAndTheHint()
    {
        using var backend = new IlgpuBackend("1");
        var pocl = Assert.Single(backend.Devices, d => d.Name.Contains("Portable Computing Language", StringComparison.Ordinal));
        Assert.False(pocl.IsAvailable);
        Assert.Contains("GenericAddressSpace", pocl.UnavailableReason);
        Assert.Contains($"{DeviceDiscovery.OpenClOptIn}={PoclCompatibility.OptInValue}", pocl.UnavailableReason);
        Assert.False(pocl.Properties.ContainsKey(PoclCompatibility.PropertyName));
    }

    [Fact]
    public void WithTheOptInPoclIsAnAvailableDeviceMarkedAsRunningUnderTheShim()
    {
        var device = Pocl;
        Assert.Equal(DeviceKind.Cpu, device.Kind);
        Assert.Contains("-D__generic=__global", device.Properties[PoclCompatibility.PropertyName]);
        Assert.Contains(PoclCompatibility.GenericAsGlobal, Environment.GetEnvironmentVariable(PoclCompatibility.BuildFlagsVariable));
    }

    [Fact]
    public void EveryClaimedNodeTestPassesOnPocl()
    {
        var expected = ConformanceRunner.ReadExpectedFailures(Path.Combine(Shared.RepoRoot, "tests", "conformance", "ilgpu-expected-failures.txt"));
        var watch = Stopwatch.StartNew();
        var report = new ConformanceRunner(CompatBackend.Value, Pocl).Run(Shared.OnnxTestData, expected);
        var counts = report.Counts;
        output.WriteLine($"{Pocl.Id}: {report.Results.Count} cases: {counts[CaseStatus.Pass]} pass, {counts[CaseStatus.Fail]} fail, " +
            $"{counts[CaseStatus.Error]} error, {counts[CaseStatus.Skip]} skip, {counts[CaseStatus.NotClaimed]} not claimed in {watch.Elapsed.TotalSeconds:F0} s");
        Assert.True(report.UnexpectedFailures.Count == 0,
            string.Join("\n", report.UnexpectedFailures.Select(r => $"{r.Key}: {r.Status}: {r.Reason}")));
        Assert.Empty(report.UnexpectedPasses);
        Assert.True(counts[CaseStatus.Pass] >= 430, $"only {counts[CaseStatus.Pass]} cases passed");
        // float16 is refused on this device (PoCL has no cl_khr_fp16): reported as not claimed, with the reason.
        var cast = report.Results.Single(r => r.Key == "node/test_cast_FLOAT16_to_FLOAT");
        Assert.Equal(CaseStatus.NotClaimed, cast.Status);
        Assert.Contains("no float16 support", cast.Reason);
    }

    [Theory]
    [InlineData("resnet18", "blocked")]
    [InlineData("resnet18", "tiled")]
    [InlineData("face_detection_front_128x128_barracuda.onnx", "blocked")]
    [InlineData("face_detection_back_256x256_barracuda.onnx", "tiled")]
    public void RealModelsMatchOnnxRuntimeWithin1e4Relative(string model, string matMul)
    {
        var path = model == "resnet18" ? TestSupport.RepoPaths.ResNet18 : TestSupport.RepoPaths.Model(Path.Combine("blazeface", model));
        var options = new CompileOptions { Settings = new Dictionary<string, string> { [IlgpuPartition.MatMulSetting] = matMul } };
        ModelTests.CompareWithOrt(OnnxImporter.Load(path), CompatBackend.Value, Pocl, output, options);
    }

    [Fact]
    public void ThePackedMatMulIsRefusedOnOpenCl()
    {
        var options = new CompileOptions { Settings = new Dictionary<string, string> { [IlgpuPartition.MatMulSetting] = "packed" } };
        var e = Assert.Throws<BackendException>(() => CompatBackend.Value.Compile(Pocl, TinyModels.ConvRelu(), options));
        Assert.Contains("only on ILGPU's CPU accelerator", e.Message);
    }
}
