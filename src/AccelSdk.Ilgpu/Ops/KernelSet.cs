using AccelSdk.Ilgpu.Kernels;
using AccelSdk.Ilgpu.Runtime;
using AccelSdk.Ir;
using ILGPU;
using ILGPU.Runtime;

namespace AccelSdk.Ilgpu.Ops;

using Accelerator = ILGPU.Runtime.Accelerator;

/// <summary>Typed access to the cached kernels of one accelerator; each property compiles its kernel on first use.</summary>
internal readonly struct KernelSet
{
    private readonly KernelCache _cache;

    public KernelSet(KernelCache cache) => _cache = cache;

    public Action<Index1D, ArrayView<float>, ArrayView<float>, UnaryParams> Unary =>
        _cache.Get(nameof(Unary), a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, UnaryParams>(ElementwiseKernels.Unary));

    public Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, BroadcastParams> Binary =>
        _cache.Get(nameof(Binary), a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, BroadcastParams>(ElementwiseKernels.Binary));

    public Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<byte>, BroadcastParams> Compare =>
        _cache.Get(nameof(Compare), a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<byte>, BroadcastParams>(ElementwiseKernels.Compare));

    public Action<Index1D, ArrayView<long>, ArrayView<long>, ArrayView<byte>, BroadcastParams> CompareInt64 =>
        _cache.Get(nameof(CompareInt64), a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<long>, ArrayView<long>, ArrayView<byte>, BroadcastParams>(ElementwiseKernels.CompareInt64));

    public Action<Index1D, ArrayView<int>, ArrayView<int>, ArrayView<byte>, BroadcastParams> CompareInt32 =>
        _cache.Get(nameof(CompareInt32), a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<int>, ArrayView<int>, ArrayView<byte>, BroadcastParams>(ElementwiseKernels.CompareInt32));

    public Action<Index1D, ArrayView<byte>, ArrayView<T>, ArrayView<T>, ArrayView<T>, BroadcastParams> Where<T>() where T : unmanaged =>
        _cache.Get($"Where<{typeof(T).Name}>", a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<byte>, ArrayView<T>, ArrayView<T>, ArrayView<T>, BroadcastParams>(ElementwiseKernels.Where));

    public Action<Index1D, ArrayView<T>, T> Fill<T>() where T : unmanaged =>
        _cache.Get($"Fill<{typeof(T).Name}>", a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<T>, T>(ElementwiseKernels.Fill));

    public Action<Index1D, ArrayView<TIn>, ArrayView<TOut>> Cast<TIn, TOut>(Action<Index1D, ArrayView<TIn>, ArrayView<TOut>> kernel)
        where TIn : unmanaged where TOut : unmanaged =>
        _cache.Get($"Cast<{typeof(TIn).Name},{typeof(TOut).Name}>", a => a.LoadAutoGroupedStreamKernel(kernel));

    public Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, MatMulParams> MatMulBlocked =>
        _cache.Get(nameof(MatMulBlocked), a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, MatMulParams>(MatMulKernels.MatMulBlocked));

    public Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, MatMulParams> MatMulEdge =>
        _cache.Get(nameof(MatMulEdge), a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, MatMulParams>(MatMulKernels.MatMulEdge));

    public Action<Index1D, ArrayView<float>, ArrayView<float>, WindowParams> Im2Col =>
        _cache.Get(nameof(Im2Col), a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, WindowParams>(ConvKernels.Im2Col));

    public Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, WindowParams> DirectConv =>
        _cache.Get(nameof(DirectConv), a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, WindowParams>(ConvKernels.DirectConv));

    public Action<Index1D, ArrayView<float>, ArrayView<float>, WindowParams> Pool =>
        _cache.Get(nameof(Pool), a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, WindowParams>(ConvKernels.Pool));

    public Action<Index1D, ArrayView<float>, ArrayView<float>, WindowParams> GlobalPool =>
        _cache.Get(nameof(GlobalPool), a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, WindowParams>(ConvKernels.GlobalPool));

    public Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, NormParams> BatchNorm =>
        _cache.Get(nameof(BatchNorm), a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, NormParams>(NormKernels.BatchNorm));

    public Action<Index1D, ArrayView<float>, ArrayView<float>, NormParams> Softmax =>
        _cache.Get(nameof(Softmax), a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, NormParams>(NormKernels.Softmax));

    public Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, NormParams> LayerNorm =>
        _cache.Get(nameof(LayerNorm), a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, NormParams>(NormKernels.LayerNorm));

    public Action<Index1D, ArrayView<float>, ArrayView<float>, ReduceParams> Reduce =>
        _cache.Get(nameof(Reduce), a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ReduceParams>(NormKernels.Reduce));

    public Action<Index1D, ArrayView<T>, ArrayView<T>, CopyParams> StridedCopy<T>() where T : unmanaged =>
        _cache.Get($"StridedCopy<{typeof(T).Name}>", a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<T>, ArrayView<T>, CopyParams>(MovementKernels.StridedCopy));

    public Action<Index1D, ArrayView<float>, ArrayView<float>, PadParams> Pad =>
        _cache.Get(nameof(Pad), a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, PadParams>(MovementKernels.Pad));

    public Action<Index1D, ArrayView<T>, ArrayView<long>, ArrayView<T>, GatherParams> GatherInt64<T>() where T : unmanaged =>
        _cache.Get($"GatherInt64<{typeof(T).Name}>", a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<T>, ArrayView<long>, ArrayView<T>, GatherParams>(MovementKernels.GatherInt64));

    public Action<Index1D, ArrayView<T>, ArrayView<int>, ArrayView<T>, GatherParams> GatherInt32<T>() where T : unmanaged =>
        _cache.Get($"GatherInt32<{typeof(T).Name}>", a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<T>, ArrayView<int>, ArrayView<T>, GatherParams>(MovementKernels.GatherInt32));

    public Action<Index1D, ArrayView<float>, ArrayView<float>, ResizeParams> Resize =>
        _cache.Get(nameof(Resize), a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ResizeParams>(MovementKernels.Resize));

    /// <summary>Runs the strided copy with the kernel matching the element size of <paramref name="type"/>.</summary>
    public void StridedCopy(ElementType type, int count, IlgpuTensor src, IlgpuTensor dst, CopyParams p)
    {
        if (count == 0) return;
        switch (type.SizeInBytes())
        {
            case 1: StridedCopy<byte>()(count, src.View<byte>(), dst.View<byte>(), p); break;
            case 2: StridedCopy<short>()(count, src.View<short>(), dst.View<short>(), p); break;
            case 4: StridedCopy<int>()(count, src.View<int>(), dst.View<int>(), p); break;
            case 8: StridedCopy<long>()(count, src.View<long>(), dst.View<long>(), p); break;
            default: throw new ArgumentException($"element type {type.ShortName()} cannot be copied by the ILGPU kernels");
        }
    }
}
