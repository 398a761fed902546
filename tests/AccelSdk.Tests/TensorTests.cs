using AccelSdk.Ir;

namespace AccelSdk.Tests;

public class TensorTests
{
    [Fact]
    public void Create_copies_data_and_reports_shape()
    {
        var data = new[] { 1f, 2f, 3f, 4f, 5f, 6f };
        var t = AccelTensor.Create(data, 2, 3);
        data[0] = 99;
        Assert.Equal(ElementType.Float32, t.ElementType);
        Assert.Equal(new long[] { 2, 3 }, t.ShapeArray);
        Assert.Equal(6, t.ElementCount);
        Assert.Equal(24, t.ByteLength);
        Assert.Equal(1f, t.AsSpan<float>()[0]);
    }

    [Fact]
    public void Create_rejects_a_shape_that_does_not_hold_the_data()
    {
        var e = Assert.Throws<InvalidTensorException>(() => AccelTensor.Create(new[] { 1f, 2f, 3f }, 2, 2));
        Assert.Contains("[2,2]", e.Message);
        Assert.Contains("3 were given", e.Message);
    }

    [Fact]
    public void Dense_data_is_pinned_so_native_code_can_use_it_in_place()
    {
        var t = AccelTensor.Zeros(ElementType.Float32, new long[] { 256 });
        var before = t.DataPointer;
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        Assert.Equal(before, t.DataPointer);
        Assert.NotEqual(0, before);
    }

    [Fact]
    public void Views_of_the_wrong_element_size_are_refused()
    {
        var t = AccelTensor.Create(new long[] { 1, 2 }, 2);
        Assert.Throws<InvalidOperationException>(() => t.AsSpan<int>());
        Assert.Equal(new long[] { 1, 2 }, t.ToInt64Array());
    }

    [Fact]
    public void String_tensors_hold_strings()
    {
        var t = AccelTensor.CreateStrings(new[] { "a", "bc" }, 2);
        Assert.True(t.IsString);
        Assert.Equal(new[] { "a", "bc" }, t.Strings);
        Assert.Throws<InvalidOperationException>(() => t.Bytes.ToArray());
    }

    [Fact]
    public void BFloat16_and_float16_read_as_double()
    {
        var bf = AccelTensor.FromBytes(ElementType.BFloat16, new long[] { 1 }, BitConverter.GetBytes((ushort)(BitConverter.SingleToInt32Bits(1.5f) >> 16)));
        Assert.Equal(1.5, bf.GetAsDouble(0));
        var h = AccelTensor.Create(new[] { (Half)0.25f }, 1);
        Assert.Equal(0.25, h.GetAsDouble(0));
    }

    [Fact]
    public void Shapes_with_symbolic_dimensions_accept_matching_concrete_shapes()
    {
        var shape = new TensorShape(new[] { Dimension.Symbolic("batch"), Dimension.Known(3) });
        Assert.False(shape.IsFullyKnown);
        Assert.True(shape.Accepts(new long[] { 7, 3 }));
        Assert.False(shape.Accepts(new long[] { 7, 4 }));
        Assert.False(shape.Accepts(new long[] { 3 }));
        Assert.Equal("[batch,3]", shape.ToString());
    }
}
