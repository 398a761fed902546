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
    private readonly Func<int, (int Count, Launch Launch)> _plan;

    /// <summary>Kernels of <paramref name="cache"/>; <paramref name="cpu"/> selects chunked (CPU) or grid-stride (GPU) element mapping.</summary>
    public KernelSet(KernelCache cache, bool cpu, int cpuThreads)
    {
        _cache = cache;
        _plan = total => Launch.Plan(total, cpu, cpuThreads);
    }

    public Action<Index1D, ArrayView<float>, ArrayView<float>, UnaryParams> Unary
    {
        get
        {
            var kernel = _cache.Get(nameof(Unary), a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, UnaryParams, Launch>(ElementwiseKernels.Unary));
            var plan = _plan;
            return (n, v0, v1, v2) =>
            {
                var (count, launch) = plan(n);
                if (count > 0) kernel(count, v0, v1, v2, launch);
            };
        }
    }

    public Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, BroadcastParams> Binary
    {
        get
        {
            var kernel = _cache.Get(nameof(Binary), a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, BroadcastParams, Launch>(ElementwiseKernels.Binary));
            var plan = _plan;
            return (n, v0, v1, v2, v3) =>
            {
                var (count, launch) = plan(n);
                if (count > 0) kernel(count, v0, v1, v2, v3, launch);
            };
        }
    }

    public Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<byte>, BroadcastParams> Compare
    {
        get
        {
            var kernel = _cache.Get(nameof(Compare), a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<byte>, BroadcastParams, Launch>(ElementwiseKernels.Compare));
            var plan = _plan;
            return (n, v0, v1, v2, v3) =>
            {
                var (count, launch) = plan(n);
                if (count > 0) kernel(count, v0, v1, v2, v3, launch);
            };
        }
    }

    public Action<Index1D, ArrayView<long>, ArrayView<long>, ArrayView<byte>, BroadcastParams> CompareInt64
    {
        get
        {
            var kernel = _cache.Get(nameof(CompareInt64), a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<long>, ArrayView<long>, ArrayView<byte>, BroadcastParams, Launch>(ElementwiseKernels.CompareInt64));
            var plan = _plan;
            return (n, v0, v1, v2, v3) =>
            {
                var (count, launch) = plan(n);
                if (count > 0) kernel(count, v0, v1, v2, v3, launch);
            };
        }
    }

    public Action<Index1D, ArrayView<long>, ArrayView<long>, ArrayView<long>, BroadcastParams> BinaryInt64
    {
        get
        {
            var kernel = _cache.Get(nameof(BinaryInt64), a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<long>, ArrayView<long>, ArrayView<long>, BroadcastParams, Launch>(ElementwiseKernels.BinaryInt64));
            var plan = _plan;
            return (n, v0, v1, v2, v3) =>
            {
                var (count, launch) = plan(n);
                if (count > 0) kernel(count, v0, v1, v2, v3, launch);
            };
        }
    }

    public Action<Index1D, ArrayView<int>, ArrayView<int>, ArrayView<int>, BroadcastParams> BinaryInt32
    {
        get
        {
            var kernel = _cache.Get(nameof(BinaryInt32), a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<int>, ArrayView<int>, ArrayView<int>, BroadcastParams, Launch>(ElementwiseKernels.BinaryInt32));
            var plan = _plan;
            return (n, v0, v1, v2, v3) =>
            {
                var (count, launch) = plan(n);
                if (count > 0) kernel(count, v0, v1, v2, v3, launch);
            };
        }
    }

    public Action<Index1D, ArrayView<int>, ArrayView<int>, ArrayView<byte>, BroadcastParams> CompareInt32
    {
        get
        {
            var kernel = _cache.Get(nameof(CompareInt32), a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<int>, ArrayView<int>, ArrayView<byte>, BroadcastParams, Launch>(ElementwiseKernels.CompareInt32));
            var plan = _plan;
            return (n, v0, v1, v2, v3) =>
            {
                var (count, launch) = plan(n);
                if (count > 0) kernel(count, v0, v1, v2, v3, launch);
            };
        }
    }

    public Action<Index1D, ArrayView<byte>, ArrayView<T>, ArrayView<T>, ArrayView<T>, BroadcastParams> Where<T>() where T : unmanaged
    {
        var kernel = _cache.Get($"Where<{typeof(T).Name}>", a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<byte>, ArrayView<T>, ArrayView<T>, ArrayView<T>, BroadcastParams, Launch>(ElementwiseKernels.Where));
        var plan = _plan;
        return (n, v0, v1, v2, v3, v4) =>
        {
            var (count, launch) = plan(n);
            if (count > 0) kernel(count, v0, v1, v2, v3, v4, launch);
        };
    }

    public Action<Index1D, ArrayView<T>, T> Fill<T>() where T : unmanaged
    {
        var kernel = _cache.Get($"Fill<{typeof(T).Name}>", a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<T>, T, Launch>(ElementwiseKernels.Fill));
        var plan = _plan;
        return (n, v0, v1) =>
        {
            var (count, launch) = plan(n);
            if (count > 0) kernel(count, v0, v1, launch);
        };
    }

    /// <summary>A broadcasting binary kernel over element types <typeparamref name="TA"/>, <typeparamref name="TB"/> -> <typeparamref name="TY"/>, cached under <paramref name="name"/>.</summary>
    public Action<Index1D, ArrayView<TA>, ArrayView<TB>, ArrayView<TY>, BroadcastParams> Broadcast<TA, TB, TY>(string name,
        Action<Index1D, ArrayView<TA>, ArrayView<TB>, ArrayView<TY>, BroadcastParams, Launch> method)
        where TA : unmanaged where TB : unmanaged where TY : unmanaged
    {
        var kernel = _cache.Get(name, a => a.LoadAutoGroupedStreamKernel(method));
        var plan = _plan;
        return (n, v0, v1, v2, v3) =>
        {
            var (count, launch) = plan(n);
            if (count > 0) kernel(count, v0, v1, v2, v3, launch);
        };
    }

    /// <summary>An element-wise unary kernel over <typeparamref name="T"/>, cached under <paramref name="name"/>.</summary>
    public Action<Index1D, ArrayView<T>, ArrayView<T>, UnaryParams> TypedUnary<T>(string name, Action<Index1D, ArrayView<T>, ArrayView<T>, UnaryParams, Launch> method)
        where T : unmanaged
    {
        var kernel = _cache.Get(name, a => a.LoadAutoGroupedStreamKernel(method));
        var plan = _plan;
        return (n, v0, v1, v2) =>
        {
            var (count, launch) = plan(n);
            if (count > 0) kernel(count, v0, v1, v2, launch);
        };
    }

    public Action<Index1D, ArrayView<TIn>, ArrayView<TOut>> Cast<TIn, TOut>(Action<Index1D, ArrayView<TIn>, ArrayView<TOut>, Launch> method)
        where TIn : unmanaged where TOut : unmanaged
    {
        var kernel = _cache.Get($"Cast<{typeof(TIn).Name},{typeof(TOut).Name}>", a => a.LoadAutoGroupedStreamKernel(method));
        var plan = _plan;
        return (n, x, y) =>
        {
            var (count, launch) = plan(n);
            if (count > 0) kernel(count, x, y, launch);
        };
    }

    public Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, MatMulParams> MatMulBlocked
    {
        get
        {
            var kernel = _cache.Get(nameof(MatMulBlocked), a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, MatMulParams, Launch>(MatMulKernels.MatMulBlocked));
            var plan = _plan;
            return (n, v0, v1, v2, v3, v4) =>
            {
                var (count, launch) = plan(n);
                if (count > 0) kernel(count, v0, v1, v2, v3, v4, launch);
            };
        }
    }

    /// <summary>The packed MatMul's A-panel copy (CPU accelerator only; see <see cref="PackedMatMulKernels"/>).</summary>
    public Action<int, PackedMatMulParams> PackA => Chunked<PackedMatMulParams>(nameof(PackA), PackedMatMulKernels.PackA);

    /// <summary>The packed MatMul's B-panel copy.</summary>
    public Action<int, PackedMatMulParams> PackB => Chunked<PackedMatMulParams>(nameof(PackB), PackedMatMulKernels.PackB);

    /// <summary>The packed Conv's im2col written straight into B panels.</summary>
    public Action<int, PackedMatMulParams, WindowParams> PackIm2Col
    {
        get
        {
            var kernel = _cache.Get(nameof(PackIm2Col), a => a.LoadAutoGroupedStreamKernel<Index1D, PackedMatMulParams, WindowParams, Launch>(PackedMatMulKernels.PackIm2Col));
            var plan = _plan;
            return (n, parameters, window) =>
            {
                var (count, launch) = plan(n);
                if (count > 0) kernel(count, parameters, window, launch);
            };
        }
    }

    /// <summary>The packed MatMul's 8x3 register-block kernel over packed panels.</summary>
    public Action<int, PackedMatMulParams> PackedMicroKernel => Chunked<PackedMatMulParams>(nameof(PackedMicroKernel), PackedMatMulKernels.MicroKernel);

    private Action<int, TParams> Chunked<TParams>(string name, Action<Index1D, TParams, Launch> body) where TParams : unmanaged
    {
        var kernel = _cache.Get(name, a => a.LoadAutoGroupedStreamKernel(body));
        var plan = _plan;
        return (n, parameters) =>
        {
            var (count, launch) = plan(n);
            if (count > 0) kernel(count, parameters, launch);
        };
    }

    /// <summary>The shared-memory tiled MatMul (explicitly grouped: 16x16 threads per 64x64 tile of C).</summary>
    public Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, MatMulParams> MatMulTiled =>
        _cache.Get(nameof(MatMulTiled), a => a.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, MatMulParams>(TiledMatMulKernels.MatMulTiled));

    public Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, MatMulParams> MatMulEdge
    {
        get
        {
            var kernel = _cache.Get(nameof(MatMulEdge), a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, MatMulParams, Launch>(MatMulKernels.MatMulEdge));
            var plan = _plan;
            return (n, v0, v1, v2, v3, v4) =>
            {
                var (count, launch) = plan(n);
                if (count > 0) kernel(count, v0, v1, v2, v3, v4, launch);
            };
        }
    }

    public Action<Index1D, ArrayView<float>, ArrayView<float>, WindowParams> Im2Col
    {
        get
        {
            var kernel = _cache.Get(nameof(Im2Col), a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, WindowParams, Launch>(ConvKernels.Im2Col));
            var plan = _plan;
            return (n, v0, v1, v2) =>
            {
                var (count, launch) = plan(n);
                if (count > 0) kernel(count, v0, v1, v2, launch);
            };
        }
    }

    public Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, WindowParams> DirectConv
    {
        get
        {
            var kernel = _cache.Get(nameof(DirectConv), a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, WindowParams, Launch>(ConvKernels.DirectConv));
            var plan = _plan;
            return (n, v0, v1, v2, v3, v4) =>
            {
                var (count, launch) = plan(n);
                if (count > 0) kernel(count, v0, v1, v2, v3, v4, launch);
            };
        }
    }

    public Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, WindowParams> ConvTranspose
    {
        get
        {
            var kernel = _cache.Get(nameof(ConvTranspose), a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, WindowParams, Launch>(ConvKernels.ConvTranspose));
            var plan = _plan;
            return (n, v0, v1, v2, v3, v4) =>
            {
                var (count, launch) = plan(n);
                if (count > 0) kernel(count, v0, v1, v2, v3, v4, launch);
            };
        }
    }

    public Action<Index1D, ArrayView<float>, ArrayView<float>, WindowParams> Pool
    {
        get
        {
            var kernel = _cache.Get(nameof(Pool), a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, WindowParams, Launch>(ConvKernels.Pool));
            var plan = _plan;
            return (n, v0, v1, v2) =>
            {
                var (count, launch) = plan(n);
                if (count > 0) kernel(count, v0, v1, v2, launch);
            };
        }
    }

    public Action<Index1D, ArrayView<float>, ArrayView<float>, WindowParams> GlobalPool
    {
        get
        {
            var kernel = _cache.Get(nameof(GlobalPool), a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, WindowParams, Launch>(ConvKernels.GlobalPool));
            var plan = _plan;
            return (n, v0, v1, v2) =>
            {
                var (count, launch) = plan(n);
                if (count > 0) kernel(count, v0, v1, v2, launch);
            };
        }
    }

    public Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, NormParams> BatchNorm
    {
        get
        {
            var kernel = _cache.Get(nameof(BatchNorm), a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, NormParams, Launch>(NormKernels.BatchNorm));
            var plan = _plan;
            return (n, v0, v1, v2, v3, v4, v5, v6) =>
            {
                var (count, launch) = plan(n);
                if (count > 0) kernel(count, v0, v1, v2, v3, v4, v5, v6, launch);
            };
        }
    }

    public Action<Index1D, ArrayView<float>, ArrayView<float>, NormParams> Softmax
    {
        get
        {
            var kernel = _cache.Get(nameof(Softmax), a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, NormParams, Launch>(NormKernels.Softmax));
            var plan = _plan;
            return (n, v0, v1, v2) =>
            {
                var (count, launch) = plan(n);
                if (count > 0) kernel(count, v0, v1, v2, launch);
            };
        }
    }

    public Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, NormParams> LayerNormStats
    {
        get
        {
            var kernel = _cache.Get(nameof(LayerNormStats), a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, NormParams, Launch>(NormKernels.LayerNormStats));
            var plan = _plan;
            return (n, v0, v1, v2, v3) =>
            {
                var (count, launch) = plan(n);
                if (count > 0) kernel(count, v0, v1, v2, v3, launch);
            };
        }
    }

    public Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, NormParams> LayerNorm
    {
        get
        {
            var kernel = _cache.Get(nameof(LayerNorm), a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, NormParams, Launch>(NormKernels.LayerNorm));
            var plan = _plan;
            return (n, v0, v1, v2, v3, v4) =>
            {
                var (count, launch) = plan(n);
                if (count > 0) kernel(count, v0, v1, v2, v3, v4, launch);
            };
        }
    }

    public Action<Index1D, ArrayView<float>, ArrayView<float>, ReduceParams> Reduce
    {
        get
        {
            var kernel = _cache.Get(nameof(Reduce), a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ReduceParams, Launch>(NormKernels.Reduce));
            var plan = _plan;
            return (n, v0, v1, v2) =>
            {
                var (count, launch) = plan(n);
                if (count > 0) kernel(count, v0, v1, v2, launch);
            };
        }
    }

    public Action<Index1D, ArrayView<T>, ArrayView<T>, CopyParams> StridedCopy<T>() where T : unmanaged
    {
        var kernel = _cache.Get($"StridedCopy<{typeof(T).Name}>", a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<T>, ArrayView<T>, CopyParams, Launch>(MovementKernels.StridedCopy));
        var plan = _plan;
        return (n, v0, v1, v2) =>
        {
            var (count, launch) = plan(n);
            if (count > 0) kernel(count, v0, v1, v2, launch);
        };
    }

    public Action<Index1D, ArrayView<float>, ArrayView<float>, PadParams> Pad
    {
        get
        {
            var kernel = _cache.Get(nameof(Pad), a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, PadParams, Launch>(MovementKernels.Pad));
            var plan = _plan;
            return (n, v0, v1, v2) =>
            {
                var (count, launch) = plan(n);
                if (count > 0) kernel(count, v0, v1, v2, launch);
            };
        }
    }

    public Action<Index1D, ArrayView<T>, ArrayView<long>, ArrayView<T>, GatherParams> GatherInt64<T>() where T : unmanaged
    {
        var kernel = _cache.Get($"GatherInt64<{typeof(T).Name}>", a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<T>, ArrayView<long>, ArrayView<T>, GatherParams, Launch>(MovementKernels.GatherInt64));
        var plan = _plan;
        return (n, v0, v1, v2, v3) =>
        {
            var (count, launch) = plan(n);
            if (count > 0) kernel(count, v0, v1, v2, v3, launch);
        };
    }

    public Action<Index1D, ArrayView<T>, ArrayView<int>, ArrayView<T>, GatherParams> GatherInt32<T>() where T : unmanaged
    {
        var kernel = _cache.Get($"GatherInt32<{typeof(T).Name}>", a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<T>, ArrayView<int>, ArrayView<T>, GatherParams, Launch>(MovementKernels.GatherInt32));
        var plan = _plan;
        return (n, v0, v1, v2, v3) =>
        {
            var (count, launch) = plan(n);
            if (count > 0) kernel(count, v0, v1, v2, v3, launch);
        };
    }

    public Action<Index1D, ArrayView<float>, ArrayView<float>, ResizeParams> Resize
    {
        get
        {
            var kernel = _cache.Get(nameof(Resize), a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ResizeParams, Launch>(MovementKernels.Resize));
            var plan = _plan;
            return (n, v0, v1, v2) =>
            {
                var (count, launch) = plan(n);
                if (count > 0) kernel(count, v0, v1, v2, launch);
            };
        }
    }

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
