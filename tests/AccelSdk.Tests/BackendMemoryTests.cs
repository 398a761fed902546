using System.Runtime.InteropServices;
using AccelSdk.Backends;
using AccelSdk.Ir;

namespace AccelSdk.Tests;

/// <summary>Memory a backend lends in place (<see cref="AccelTensor.WrapBackendMemory"/>) and host tensors that own it.</summary>
public sealed unsafe class BackendMemoryTests
{
    private sealed class Lease(nint pointer) : IDisposable
    {
        public int Disposed;

        public void Dispose()
        {
            Disposed++;
            NativeMemory.Free((void*)pointer);
        }
    }

    [Fact]
    public void A_lent_buffer_is_read_in_place_and_given_back_exactly_once()
    {
        var pointer = (nint)NativeMemory.Alloc(4 * sizeof(float));
        var data = new Span<float>((void*)pointer, 4);
        new[] { 1f, -2f, 3f, -4f }.CopyTo(data);
        var lease = new Lease(pointer);
        var tensor = AccelTensor.WrapBackendMemory(ElementType.Float32, new long[] { 2, 2 }, pointer, lease, "lent");
        Assert.Equal(TensorStorageKind.BackendMemory, tensor.StorageKind);
        Assert.Equal(pointer, tensor.DataPointer);
        Assert.Equal(new[] { 1f, -2f, 3f, -4f }, tensor.ToArray<float>());
        var host = new HostTensor(tensor, ownsValue: true);
        host.Dispose();
        host.Dispose();
        tensor.Dispose();
        Assert.Equal(1, lease.Disposed);
        Assert.Throws<ObjectDisposedException>(() => tensor.ToArray<float>());
    }

    [Fact]
    public void A_host_tensor_that_does_not_own_its_value_leaves_it_alone()
    {
        var tensor = AccelTensor.Create(new[] { 1f, 2f }, 2);
        new HostTensor(tensor).Dispose();
        Assert.Equal(new[] { 1f, 2f }, tensor.ToArray<float>());
    }

    [Fact]
    public void A_null_pointer_is_refused_for_a_non_empty_tensor()
    {
        Assert.Throws<ArgumentException>(() => AccelTensor.WrapBackendMemory(ElementType.Float32, new long[] { 4 }, 0, new Lease(0)));
    }
}
