using AccelSdk.Execution;
using AccelSdk.Ir;

namespace AccelSdk.Tests;

/// <summary>The caps of issue 15 item 4, without a backend: parsing, defaults, and sample inputs checked before allocation.</summary>
[Collection(nameof(EnvironmentVariableTests))]
public class ResourceLimitsTests
{
    [Theory]
    [InlineData("123", 123L)]
    [InlineData("64k", 64L << 10)]
    [InlineData("512M", 512L << 20)]
    [InlineData("2g", 2L << 30)]
    public void Byte_counts_parse_with_binary_suffixes(string text, long expected) => Assert.Equal(expected, ResourceLimits.ParseBytes(text));

    [Theory]
    [InlineData("")]
    [InlineData("-5")]
    [InlineData("0")]
    [InlineData("12T")]
    [InlineData("lots")]
    [InlineData("99999999999G")]
    public void Non_byte_counts_do_not_parse(string text) => Assert.Null(ResourceLimits.ParseBytes(text));

    [Fact]
    public void Defaults_are_a_quarter_of_available_memory_and_the_environment_overrides_them()
    {
        var quarter = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 4;
        WithVariables(null, null, () =>
        {
            Assert.Equal(quarter, ResourceLimits.Default.MaxTensorBytes);
            Assert.Equal(quarter, ResourceLimits.Default.MaxRunBytes);
        });
        WithVariables("3M", "5k", () =>
        {
            Assert.Equal(3L << 20, ResourceLimits.Default.MaxTensorBytes);
            Assert.Equal(5L << 10, ResourceLimits.Default.MaxRunBytes);
        });
        WithVariables("a lot", null, () =>
        {
            var e = Assert.Throws<AccelSdkException>(() => ResourceLimits.Default);
            Assert.Contains("ACCELSDK_MAX_TENSOR_BYTES='a lot' is not a byte count", e.Message);
        });
    }

    [Fact]
    public void Over_the_cap_names_the_tensor_the_cap_and_both_sizes()
    {
        var limits = new ResourceLimits { MaxTensorBytes = 1000, MaxRunBytes = 5000 };
        limits.CheckTensor("x", 1000);
        var e = Assert.Throws<ResourceLimitException>(() => limits.CheckTensor("x", 1001, "input"));
        Assert.Equal(("x", "MaxTensorBytes", 1001L, 1000L), (e.TensorName, e.LimitName, e.RequestedBytes, e.AllowedBytes));
        Assert.Equal("tensor 'x' needs 1,001 bytes, over the MaxTensorBytes cap of 1,000 bytes (input)", e.Message);
    }

    [Fact]
    public void Sample_inputs_of_huge_declared_dims_fail_before_allocating()
    {
        var g = new Graph { Name = "huge" };
        g.Inputs.Add(new ValueInfo("x", new TensorType(ElementType.Float32, new TensorShape(new[] { Dimension.Symbolic("N"), Dimension.Known(1L << 20) }))));
        g.Outputs.Add(new ValueInfo("y", null));
        g.Nodes.Add(new Node("Relu", new[] { "x" }, new[] { "y" }));
        var model = new Model(g);
        var limits = new ResourceLimits { MaxTensorBytes = 1 << 20 };
        var before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<ResourceLimitException>(() => SampleInputs.Random(model, limits: limits));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1 << 20, "the refused sample input was allocated");
        Assert.Equal("x", e.TensorName);
        Assert.Equal(4L << 20, e.RequestedBytes);

        g.Inputs[0] = new ValueInfo("x", new TensorType(ElementType.Float32, new TensorShape(1L << 40, 1L << 40)));
        var overflow = Assert.Throws<InputMismatchException>(() => SampleInputs.Random(model, limits: ResourceLimits.Unlimited));
        Assert.Contains("huge: no sample input can be made: tensor 'x': shape [1099511627776,1099511627776] has more than", overflow.Message);
        g.Inputs[0] = new ValueInfo("x", new TensorType((ElementType)99, new TensorShape(2)));
        Assert.Contains("no dense storage", Assert.Throws<InputMismatchException>(() => SampleInputs.Random(model)).Message);
    }

    private static void WithVariables(string? tensor, string? run, Action check)
    {
        var saved = (Environment.GetEnvironmentVariable(ResourceLimits.MaxTensorBytesVariable), Environment.GetEnvironmentVariable(ResourceLimits.MaxRunBytesVariable));
        try
        {
            Environment.SetEnvironmentVariable(ResourceLimits.MaxTensorBytesVariable, tensor);
            Environment.SetEnvironmentVariable(ResourceLimits.MaxRunBytesVariable, run);
            check();
        }
        finally
        {
            Environment.SetEnvironmentVariable(ResourceLimits.MaxTensorBytesVariable, saved.Item1);
            Environment.SetEnvironmentVariable(ResourceLimits.MaxRunBytesVariable, saved.Item2);
        }
    }
}

/// <summary>Tests that set process environment variables run alone.</summary>
[CollectionDefinition(nameof(EnvironmentVariableTests), DisableParallelization = true)]
public sealed class EnvironmentVariableTests;
