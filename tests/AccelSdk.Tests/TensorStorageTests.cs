using System.Buffers;
using System.Numerics.Tensors;
using AccelSdk.Ir;
using Xunit;

namespace AccelSdk.Tests;

/// <summary>Issue 12: tensors over caller memory without copies, native storage, views as System.Numerics.Tensors types.</summary>
public class TensorStorageTests
{
    [Fact]
    public void Create_copies_into_an_owned_aligned_buffer()
    {
        var data = new[] { 1f, 2f, 3f };
        var t = AccelTensor.Create(data, 3);
        Assert.Equal(TensorStorageKind.Owned, t.StorageKind);
        Assert.True(t.IsAligned);
        data[0] = 9f;
        Assert.Equal(1f, t.AsSpan<float>()[0]);
    }

    [Fact]
    public void Wrap_shares_the_callers_array_both_ways()
    {
        var data = new[] { 1f, 2f, 3f, 4f, 5f, 6f };
        using var t = AccelTensor.Wrap(data, 2, 3);
        Assert.Equal(TensorStorageKind.PinnedCallerMemory, t.StorageKind);
        Assert.Equal(new long[] { 2, 3 }, t.ShapeArray);
        data[4] = 50f;
        Assert.Equal(50f, t.AsSpan<float>()[4]);
        t.AsSpan<float>()[0] = -1f;
        Assert.Equal(-1f, data[0]);
        // Views share the storage.
        Assert.Equal(50f, t.Reshape(6).WithName("v").AsSpan<float>()[4]);
    }

    [Fact]
    public void Wrap_of_a_memory_slice_keeps_its_offset_and_reports_alignment()
    {
        var data = Enumerable.Range(0, 10).Select(i => (float)i).ToArray();
        using var t = AccelTensor.Wrap(data.AsMemory(1, 4), 4);
        Assert.Equal(new[] { 1f, 2f, 3f, 4f }, t.ToArray<float>());
        Assert.Equal(t.DataPointer % AccelTensor.Alignment == 0, t.IsAligned);
    }

    [Fact]
    public void Wrap_with_a_shape_that_does_not_match_the_length_is_an_invalid_tensor()
    {
        var e = Assert.Throws<InvalidTensorException>(() => AccelTensor.Wrap(new float[5], 2, 3));
        Assert.Contains("holds 6 elements but 5 were given", e.Message);
        Assert.Throws<InvalidTensorException>(() => AccelTensor.Wrap(new float[6], 2, -3));
    }

    [Fact]
    public void Dispose_unpins_the_callers_memory_and_views_then_refuse_access()
    {
        var data = new int[4];
        var t = AccelTensor.Wrap(data, 4);
        var view = t.Reshape(2, 2);
        view.Dispose(); // a view releases nothing
        Assert.Equal(0, t.AsSpan<int>()[0]);
        t.Dispose();
        t.Dispose();
        Assert.Throws<ObjectDisposedException>(() => t.DataPointer);
        Assert.Throws<ObjectDisposedException>(() => view.AsSpan<int>().Length);
    }

    [Fact]
    public void A_dense_SystemNumerics_tensor_is_wrapped_without_a_copy_and_a_strided_one_is_refused()
    {
        var source = Tensor.Create(new[] { 1, 2, 3, 4, 5, 6 }, new nint[] { 2, 3 });
        using var t = AccelTensor.Wrap(source);
        Assert.Equal(ElementType.Int32, t.ElementType);
        Assert.Equal(new long[] { 2, 3 }, t.ShapeArray);
        source[1, 2] = 60;
        Assert.Equal(60, t.AsSpan<int>()[5]);

        var column = source.Slice(new NRange[] { NRange.All, new NRange(1, 2) });
        Assert.False(column.IsDense);
        var e = Assert.Throws<InvalidTensorException>(() => AccelTensor.Wrap(column));
        Assert.Contains("not dense", e.Message);
        var copied = AccelTensor.Create<int>(column.AsReadOnlyTensorSpan());
        Assert.Equal(new[] { 2, 5 }, copied.ToArray<int>());
    }

    [Fact]
    public void Tensor_span_views_write_through_and_ToTensor_copies()
    {
        var t = AccelTensor.Zeros(ElementType.Float32, new long[] { 2, 2 });
        var span = t.AsTensorSpan<float>();
        span[1, 0] = 5f;
        Assert.Equal(5f, t.AsSpan<float>()[2]);
        var copy = t.ToTensor<float>();
        copy[1, 0] = 7f;
        Assert.Equal(5f, t.AsSpan<float>()[2]);
        Assert.Throws<InvalidOperationException>(() => t.AsTensorSpan<double>());
    }

    [Fact]
    public void Native_storage_is_zeroed_aligned_and_freed_by_dispose()
    {
        var t = AccelTensor.AllocateNative(ElementType.Float64, new long[] { 3, 5 }, "n");
        Assert.Equal(TensorStorageKind.Native, t.StorageKind);
        Assert.True(t.IsAligned);
        Assert.All(t.ToArray<double>(), v => Assert.Equal(0d, v));
        t.AsSpan<double>()[14] = 2.5;
        var copy = AccelTensor.Zeros(ElementType.Float64, new long[] { 3, 5 });
        t.CopyTo(copy);
        Assert.Equal(2.5, copy.AsSpan<double>()[14]);
        t.Dispose();
        Assert.Throws<ObjectDisposedException>(() => t.DataPointer);
        Assert.Throws<InvalidTensorException>(() => AccelTensor.AllocateNative(ElementType.String, new long[] { 2 }));
    }

    [Fact]
    public void CopyTo_a_tensor_of_another_type_or_shape_is_refused()
    {
        var a = AccelTensor.Zeros(ElementType.Float32, new long[] { 2, 3 });
        Assert.Throws<InvalidTensorException>(() => a.CopyTo(AccelTensor.Zeros(ElementType.Float32, new long[] { 3, 2 })));
        Assert.Throws<InvalidTensorException>(() => a.CopyTo(AccelTensor.Zeros(ElementType.Int32, new long[] { 2, 3 })));
        var strings = AccelTensor.CreateStrings(new[] { "a", "b" }, 2);
        var target = AccelTensor.Zeros(ElementType.String, new long[] { 2 });
        strings.CopyTo(target);
        Assert.Equal(new[] { "a", "b" }, target.Strings);
    }

    [Fact]
    public void The_readme_snippet_compiles_with_SystemNumerics_Tensors_imported()
    {
        // With `using System.Numerics.Tensors;` above, the SDK's tensor type must stay unambiguous.
        var pixels = new float[1 * 3 * 2 * 2];
        var input = AccelTensor.Create(pixels, 1, 3, 2, 2);
        Tensor<float> numerics = input.ToTensor<float>();
        Assert.Equal(12, numerics.FlattenedLength);
    }
}
