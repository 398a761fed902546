using AccelSdk.Ir;

namespace AccelSdk.Tests;

/// <summary>Size arithmetic on hostile shapes and types: typed errors before any allocation (issue 15).</summary>
public class TensorSizeTests
{
    [Fact]
    public void A_negative_dimension_is_a_typed_error_naming_the_tensor_and_shape()
    {
        var e = Assert.Throws<InvalidTensorException>(() => AccelTensor.CountElements(new long[] { 1, 3, 4, -1 }, "x"));
        Assert.Equal("x", e.TensorName);
        Assert.Contains("[1,3,4,-1]", e.Message);
        Assert.Contains("negative", e.Message);
    }

    [Fact]
    public void An_element_count_past_long_range_is_a_typed_error_not_an_overflow()
    {
        var e = Assert.Throws<InvalidTensorException>(() => AccelTensor.CountElements(new[] { 1L << 40, 1L << 40 }));
        Assert.Contains("[1099511627776,1099511627776]", e.Message);
    }

    [Fact]
    public void A_zero_dimension_makes_an_empty_shape_whatever_the_other_dimensions()
    {
        Assert.Equal(0, AccelTensor.CountElements(new[] { 1L << 40, 1L << 40, 0 }));
        Assert.Equal(0, AccelTensor.Zeros(ElementType.Float32, new[] { long.MaxValue, 0 }).ByteLength);
    }

    [Fact]
    public void A_byte_size_past_long_range_is_a_typed_error()
    {
        var e = Assert.Throws<InvalidTensorException>(() => AccelTensor.ByteLengthOf(ElementType.Complex128, new[] { 1L << 60 }, "w"));
        Assert.Equal("w", e.TensorName);
        Assert.Contains("complex128", e.Message);
    }

    [Fact]
    public void Dense_data_over_one_buffer_is_refused_before_allocating()
    {
        var before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<InvalidTensorException>(() => AccelTensor.Zeros(ElementType.Float32, new long[] { 1, 3, 65537, 65537 }, "image"));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1 << 20, "the refused tensor was allocated");
        Assert.Equal("image", e.TensorName);
        Assert.Contains("51,541,180,428 bytes", e.Message);
        Assert.Contains(AccelTensor.MaxByteLength.ToString("N0"), e.Message);
    }

    [Theory]
    [InlineData(ElementType.Undefined, "undefined")]
    [InlineData((ElementType)99, "99")]
    [InlineData((ElementType)17, "17")]
    public void An_element_type_without_dense_storage_is_a_typed_error(ElementType type, string shown)
    {
        var e = Assert.Throws<InvalidTensorException>(() => AccelTensor.Zeros(type, new long[] { 2 }, "x"));
        Assert.Contains($"element type {shown} cannot be stored", e.Message);
    }

    [Fact]
    public void Reshape_and_FromBytes_mismatches_are_typed_errors()
    {
        var t = AccelTensor.Create(new[] { 1f, 2f, 3f, 4f }, 2, 2).WithName("t");
        Assert.Contains("cannot reshape [2,2] to [3]", Assert.Throws<InvalidTensorException>(() => t.Reshape(3)).Message);
        var e = Assert.Throws<InvalidTensorException>(() => AccelTensor.FromBytes(ElementType.Float32, new long[] { 2 }, new byte[7], "b"));
        Assert.Contains("needs 8 bytes, got 7", e.Message);
    }

    [Fact]
    public void Device_tensor_sizes_are_checked_too()
    {
        var host = new Backends.HostTensor(AccelTensor.Zeros(ElementType.Int64, new long[] { 3, 5 }));
        Assert.Equal(120, host.ByteLength);
    }
}
