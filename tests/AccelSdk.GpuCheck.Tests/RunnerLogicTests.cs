using AccelSdk.GpuCheck;
using AccelSdk.GpuCheck.Stages;
using AccelSdk.Ir;

namespace AccelSdk.GpuCheck.Tests;

/// <summary>The GPU check runner's own logic, which the GPU machine has no time to debug: options, the split, comparisons.</summary>
public class RunnerLogicTests
{
    [Fact]
    public void BalancedCutMinimisesTheSlowerStage()
    {
        // A fast first device and a slow second one: the first stage should take most nodes.
        var first = new double?[] { 1, 1, 1, 1, 1, 1 };
        var second = new double?[] { 4, 4, 4, 4, 4, 4 };
        var cut = ThroughputStage.BalancedCut(first, second);
        Assert.Equal((5, 5.0, 4.0), cut);
    }

    [Fact]
    public void BalancedCutSkipsCutsThatNeedAnUnmeasuredNode()
    {
        var first = new double?[] { 1, null, 1, 1 };
        var second = new double?[] { 1, 1, 1, 1 };
        // Any prefix holding node 1 has no time on the first device: only k = 1 remains.
        Assert.Equal((1, 1.0, 3.0), ThroughputStage.BalancedCut(first, second));
        Assert.Null(ThroughputStage.BalancedCut(new double?[] { null, 1 }, new double?[] { 1, null }));
    }

    [Fact]
    public void NodesATuningDidNotTimeAreEstimatedFromTheOtherDeviceByTheWholeModelRatio()
    {
        var (first, second, estimated) = ThroughputStage.Complete(new double?[] { 2, null, 4 }, new double?[] { 1, 3, null }, 2.0);
        Assert.Equal(new double?[] { 2, 6, 4 }, first);
        Assert.Equal(new double?[] { 1, 3, 2 }, second);
        Assert.Equal(2, estimated);
        var (unknownFirst, _, none) = ThroughputStage.Complete(new double?[] { null }, new double?[] { 1 }, null);
        Assert.Equal(new double?[] { null }, unknownFirst);
        Assert.Equal(0, none);
    }

    [Fact]
    public void OptionsKeepTheStageOrderAndRejectWhatTheyDoNotKnow()
    {
        var options = CheckOptions.Parse(new[] { "--out", "o", "--device", "ilgpu-cpu", "--stages", "throughput,devices", "--budget-s", "0", "--sizes", "64,128" });
        Assert.Equal(new[] { "devices", "throughput" }, options.Stages);
        Assert.Equal(0, options.BudgetSeconds);
        Assert.Equal(new[] { 64, 128 }, options.MatMulSizes);
        Assert.Contains("--colour", Assert.Throws<UsageException>(() => CheckOptions.Parse(new[] { "--out", "o", "--device", "d", "--colour", "x" })).Message);
        Assert.Contains("gpu", Assert.Throws<UsageException>(() => CheckOptions.Parse(new[] { "--out", "o", "--device", "d", "--stages", "gpu" })).Message);
        Assert.Contains("--device", Assert.Throws<UsageException>(() => CheckOptions.Parse(new[] { "--out", "o" })).Message);
        Assert.Contains("-3", Assert.Throws<UsageException>(() => CheckOptions.Parse(new[] { "--out", "o", "--device", "d", "--runs", "-3" })).Message);
    }

    [Fact]
    public void RelativeDifferenceIsMaxDiffOverMaxReferenceAndNamesMismatches()
    {
        var expected = AccelTensor.Create(new[] { 1f, -4f, 2f }, 3);
        var (relative, problem) = AgreementStage.RelativeDifference(AccelTensor.Create(new[] { 1f, -4.002f, 2.001f }, 3), expected);
        Assert.Null(problem);
        Assert.Equal(0.002 / 4, relative, 1e-6);
        Assert.Contains("shape", AgreementStage.RelativeDifference(AccelTensor.Create(new[] { 1f, 2f, 3f }, 1, 3), expected).Problem);
        Assert.Contains("NaN", AgreementStage.RelativeDifference(AccelTensor.Create(new[] { 1f, float.NaN, 2f }, 3), expected).Problem);
    }

    [Fact]
    public void NvidiaSmiFactsAreReadFromTheQueryAndTheHeader()
    {
        var dir = Directory.CreateTempSubdirectory("gpu-check-smi").FullName;
        File.WriteAllText(Path.Combine(dir, "nvidia-smi.csv"), "NVIDIA H100 80GB HBM3, 81559, 9.0, 580.159.04\n");
        File.WriteAllText(Path.Combine(dir, "nvidia-smi.txt"), "| NVIDIA-SMI 580.159.04   Driver Version: 580.159.04   CUDA Version: 13.0     |\n");
        var facts = DevicesStage.ReadNvidiaSmi(dir);
        Assert.Equal(new DevicesStage.SmiFacts("NVIDIA H100 80GB HBM3", 81559, "9.0", "580.159.04", "13.0"), facts);
        File.WriteAllText(Path.Combine(dir, "nvidia-smi.csv"), "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver\n");
        Assert.Contains("nvidia-smi.csv", Assert.Throws<AccelSdkException>(() => DevicesStage.ReadNvidiaSmi(dir)).Message);
        Directory.Delete(dir, recursive: true);
    }
}
