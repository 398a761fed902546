using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;
using Xunit;

namespace AccelSdk.Native.Tests;

/// <summary>The C# probe against the real shim and independent sources: .NET's intrinsics, /proc, sysfs, PoCL.</summary>
public sealed class DeviceProbeTests
{
    private static void RequireShim() =>
        Assert.True(DeviceProbe.IsAvailable, "the probe shim must be built first (dotnet cake --target=Native): " + DeviceProbe.UnavailableReason);

    [Fact]
    public void ShimLoadsFromTheRuntimesFolderBesideTheAssembly()
    {
        RequireShim();
        Assert.Null(DeviceProbe.UnavailableReason);
        var expected = Path.Combine(AppContext.BaseDirectory, "runtimes", NativeShim.RuntimeIdentifier, "native", "libaccelsdk_probe.so");
        Assert.True(File.Exists(expected), expected);
    }

    [Fact]
    public void LogicalCoresMatchProcCpuinfo()
    {
        RequireShim();
        var processors = File.ReadLines("/proc/cpuinfo").Count(l => l.StartsWith("processor", StringComparison.Ordinal));
        var cpu = DeviceProbe.ProbeCpu();
        Assert.Equal(processors, cpu.LogicalCores);
        Assert.InRange(cpu.PhysicalCores, 1, cpu.LogicalCores);
        Assert.InRange(cpu.Packages, 1, cpu.PhysicalCores);
        Assert.True(cpu.NumaNodes >= 1);
        Assert.False(string.IsNullOrWhiteSpace(cpu.Vendor));
        Assert.False(string.IsNullOrWhiteSpace(cpu.Model));
    }

    [Fact]
    public void IsaFeaturesAgreeWithDotNetHardwareIntrinsics()
    {
        RequireShim();
        var cpu = DeviceProbe.ProbeCpu();
        if (cpu.Architecture == "x86_64")
        {
            // .NET decides these from cpuid and XCR0 itself: an independent reading of the same facts.
            Assert.Equal(Sse2.IsSupported, cpu.Has(CpuFeature.Sse2));
            Assert.Equal(Sse42.IsSupported, cpu.Has(CpuFeature.Sse42));
            Assert.Equal(Popcnt.IsSupported, cpu.Has(CpuFeature.Popcnt));
            Assert.Equal(Avx.IsSupported, cpu.Has(CpuFeature.Avx));
            Assert.Equal(Avx2.IsSupported, cpu.Has(CpuFeature.Avx2));
            Assert.Equal(Fma.IsSupported, cpu.Has(CpuFeature.Fma));
            Assert.Equal(Bmi1.IsSupported, cpu.Has(CpuFeature.Bmi1));
            Assert.Equal(Bmi2.IsSupported, cpu.Has(CpuFeature.Bmi2));
            Assert.Equal(AvxVnni.IsSupported, cpu.Has(CpuFeature.AvxVnni));
            Assert.Equal(Avx512F.IsSupported, cpu.Has(CpuFeature.Avx512F));
            Assert.Equal(Avx512BW.IsSupported, cpu.Has(CpuFeature.Avx512Bw));
            Assert.Equal(Avx512Vbmi.IsSupported, cpu.Has(CpuFeature.Avx512Vbmi));
        }
        else
        {
            Assert.Equal("aarch64", cpu.Architecture);
            Assert.Equal(AdvSimd.IsSupported, cpu.Has(CpuFeature.Neon));
            Assert.Equal(Dp.IsSupported, cpu.Has(CpuFeature.ArmDotProd));
        }
        Assert.Equal(cpu.Features.Count, cpu.FeatureNames.Count);
    }

    [Fact]
    public void EveryPublicFeatureHasTheShimsName()
    {
        RequireShim();
        // The C names as the Linux kernel spells the flags; the enum must cover exactly the bits the shim names.
        var expected = new Dictionary<CpuFeature, string>
        {
            [CpuFeature.Sse2] = "sse2", [CpuFeature.Sse3] = "sse3", [CpuFeature.Ssse3] = "ssse3",
            [CpuFeature.Sse41] = "sse4_1", [CpuFeature.Sse42] = "sse4_2", [CpuFeature.Popcnt] = "popcnt",
            [CpuFeature.Avx] = "avx", [CpuFeature.F16c] = "f16c", [CpuFeature.Fma] = "fma", [CpuFeature.Bmi1] = "bmi1",
            [CpuFeature.Bmi2] = "bmi2", [CpuFeature.Avx2] = "avx2", [CpuFeature.AvxVnni] = "avx_vnni",
            [CpuFeature.Avx512F] = "avx512f", [CpuFeature.Avx512Cd] = "avx512cd", [CpuFeature.Avx512Bw] = "avx512bw",
            [CpuFeature.Avx512Dq] = "avx512dq", [CpuFeature.Avx512Vl] = "avx512vl", [CpuFeature.Avx512Ifma] = "avx512ifma",
            [CpuFeature.Avx512Vbmi] = "avx512vbmi", [CpuFeature.Avx512Vnni] = "avx512_vnni",
            [CpuFeature.Avx512Bf16] = "avx512_bf16", [CpuFeature.Avx512Fp16] = "avx512_fp16",
            [CpuFeature.AmxTile] = "amx_tile", [CpuFeature.AmxInt8] = "amx_int8", [CpuFeature.AmxBf16] = "amx_bf16",
            [CpuFeature.Neon] = "neon", [CpuFeature.ArmFp16] = "asimdhp", [CpuFeature.ArmDotProd] = "asimddp",
            [CpuFeature.ArmI8mm] = "i8mm", [CpuFeature.ArmBf16] = "bf16", [CpuFeature.Sve] = "sve", [CpuFeature.Sve2] = "sve2",
        };
        Assert.Equal(Enum.GetValues<CpuFeature>().Order(), expected.Keys.Order());
        foreach (var (feature, name) in expected) Assert.Equal(name, DeviceProbe.FeatureName((int)feature));
        for (var bit = 0; bit < 64; bit++)
        {
            if (!Enum.IsDefined((CpuFeature)bit)) Assert.Null(DeviceProbe.FeatureName(bit));
        }
    }

    [Fact]
    public void CacheSizesMatchSysfs()
    {
        RequireShim();
        var cacheDir = "/sys/devices/system/cpu/cpu0/cache";
        Assert.True(Directory.Exists(cacheDir), $"{cacheDir} is missing: this test needs Linux sysfs");
        var cpu = DeviceProbe.ProbeCpu();
        foreach (var index in Directory.EnumerateDirectories(cacheDir, "index*"))
        {
            var level = File.ReadAllText(Path.Combine(index, "level")).Trim();
            var type = File.ReadAllText(Path.Combine(index, "type")).Trim();
            var size = File.ReadAllText(Path.Combine(index, "size")).Trim();
            var bytes = long.Parse(size.TrimEnd('K', 'M')) * (size.EndsWith('M') ? 1024 * 1024 : size.EndsWith('K') ? 1024 : 1);
            var probed = (level, type) switch
            {
                ("1", "Data") => cpu.Caches.L1DataBytes,
                ("1", "Instruction") => cpu.Caches.L1InstructionBytes,
                ("2", _) => cpu.Caches.L2Bytes,
                ("3", _) => cpu.Caches.L3Bytes,
                _ => bytes,
            };
            Assert.Equal(bytes, probed);
        }
    }

    [Fact]
    public void RecordedTwoSocketTreeIsParsedIntoEveryField()
    {
        RequireShim();
        var root = Directory.CreateTempSubdirectory("accelsdk-probe-").FullName;
        try
        {
            void Write(string relative, string text)
            {
                var path = Path.Combine(root, relative.TrimStart('/'));
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                File.WriteAllText(path, text);
            }
            Write("/sys/devices/system/cpu/online", "0-3\n");
            Write("/sys/devices/system/node/online", "0-1\n");
            Write("/proc/cpuinfo", "processor\t: 0\nmodel name\t: Recorded\n");
            for (var cpu = 0; cpu < 4; cpu++)
            {
                var dir = $"/sys/devices/system/cpu/cpu{cpu}";
                Write($"{dir}/topology/physical_package_id", $"{cpu / 2}\n");
                Write($"{dir}/topology/core_id", $"{cpu % 2}\n");
                Write($"{dir}/cache/index0/level", "1\n");
                Write($"{dir}/cache/index0/type", "Data\n");
                Write($"{dir}/cache/index0/size", "32K\n");
                Write($"{dir}/cache/index0/shared_cpu_list", $"{cpu}\n");
                Write($"{dir}/cache/index1/level", "3\n");
                Write($"{dir}/cache/index1/type", "Unified\n");
                Write($"{dir}/cache/index1/size", "16M\n");
                Write($"{dir}/cache/index1/shared_cpu_list", cpu < 2 ? "0-1\n" : "2-3\n");
            }
            var info = DeviceProbe.ProbeCpu(root);
            Assert.Equal(4, info.LogicalCores);
            Assert.Equal(4, info.PhysicalCores);
            Assert.Equal(2, info.Packages);
            Assert.Equal(2, info.NumaNodes);
            Assert.Equal(new CpuCaches(32 * 1024, 0, 0, 16L * 1024 * 1024, 0, 2), info.Caches);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public void PoclOpenClDeviceIsListedWhenInstalled()
    {
        RequireShim();
        var opencl = DeviceProbe.ProbeOpenCl();
        if (!File.Exists("/etc/OpenCL/vendors/pocl.icd"))
        {
            // Without an ICD the probe must still answer, with the reason.
            Assert.False(string.IsNullOrEmpty(opencl.Message));
            return;
        }
        Assert.True(opencl.IsAvailable, opencl.Message);
        Assert.Equal("libOpenCL.so.1", opencl.Library);
        var pocl = Assert.Single(opencl.Devices, d => d.Platform.Contains("Portable Computing Language", StringComparison.Ordinal));
        Assert.Equal(ComputeDeviceType.Cpu, pocl.Type);
        Assert.StartsWith("OpenCL ", pocl.Version);
        Assert.True(pocl.ComputeUnits >= 1);
        Assert.True(pocl.GlobalMemoryBytes > 0);
        Assert.Null(pocl.ComputeCapability);
    }

    [Fact]
    public void MissingOpenClLoaderIsReportedWithTheLibraryName()
    {
        RequireShim();
        var result = DeviceProbe.ProbeOpenCl("libaccelsdk-missing-opencl.so");
        Assert.False(result.IsAvailable);
        Assert.Empty(result.Devices);
        Assert.Contains("libaccelsdk-missing-opencl.so", result.Message);
    }

    [Fact]
    public void CudaIsProbedWithoutCrashingWhereverItRuns()
    {
        RequireShim();
        var missing = DeviceProbe.ProbeCuda("libaccelsdk-missing-cuda.so");
        Assert.False(missing.IsAvailable);
        Assert.Contains("libaccelsdk-missing-cuda.so", missing.Message);

        var cuda = DeviceProbe.ProbeCuda();
        Assert.Equal("libcuda.so.1", cuda.Library);
        if (!cuda.IsAvailable)
        {
            Assert.Empty(cuda.Devices);
            Assert.False(string.IsNullOrEmpty(cuda.Message));
            return;
        }
        Assert.NotEmpty(cuda.Devices);
        foreach (var gpu in cuda.Devices)
        {
            Assert.Equal(ComputeDeviceType.Gpu, gpu.Type);
            Assert.True(gpu.ComputeCapability >= 30, gpu.ToString());
            Assert.True(gpu.GlobalMemoryBytes > 0);
        }
    }

    [Fact]
    public void FingerprintIsStableAcrossProbes()
    {
        RequireShim();
        var first = DeviceProbe.ProbeNow();
        var second = DeviceProbe.ProbeNow();
        Assert.Equal(first.Fingerprint, second.Fingerprint);
        Assert.Matches("^[0-9a-f]{16}$", first.Fingerprint);
        Assert.Same(DeviceProbe.Current, DeviceProbe.Current);
    }
}

/// <summary>The probe as the core sees it: Accel.Machine and the fingerprint recorded by Accel.Select.</summary>
public sealed class MachineProbeExtensionTests
{
    [Fact]
    public void AcceleratorMachineIsTheDeviceProbe()
    {
        var machine = Accel.Machine;
        Assert.NotNull(machine);
        Assert.IsType<DeviceProbeExtension>(machine);
        Assert.Equal(DeviceProbe.Current!.Fingerprint, machine!.Fingerprint);
        Assert.Equal(DeviceProbe.Current.Cpu.LogicalCores.ToString(System.Globalization.CultureInfo.InvariantCulture), machine.Facts["cpu.logical_cores"]);
        Assert.Equal(string.Join(' ', DeviceProbe.Current.Cpu.FeatureNames), machine.Facts["cpu.isa"]);
        Assert.Equal(DeviceProbe.Current.Cpu.Caches.L2Bytes.ToString(System.Globalization.CultureInfo.InvariantCulture), machine.Facts["cpu.l2_bytes"]);
    }

    [Fact]
    public void SelectionRecordsTheMachineFingerprint()
    {
        var graph = new Ir.Graph { Name = "relu" };
        graph.Inputs.Add(new Ir.ValueInfo("X", new Ir.TensorType(Ir.ElementType.Float32, new Ir.TensorShape(1, 4))));
        graph.Outputs.Add(new Ir.ValueInfo("Y", new Ir.TensorType(Ir.ElementType.Float32, new Ir.TensorShape(1, 4))));
        graph.Nodes.Add(new Ir.Node("Relu", new[] { "X" }, new[] { "Y" }, "relu"));
        var model = new Ir.Model(graph);
        model.OpsetImports[""] = 17;
        using var session = Accel.Select(model, new SelectOptions { WarmupRuns = 0, MeasuredRuns = 1, Candidates = new[] { "ort-cpu" } });
        Assert.Equal(DeviceProbe.Current!.Fingerprint, session.Selection!.MachineFingerprint);
    }
}
