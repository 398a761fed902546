using AccelSdk.Ilgpu;

namespace AccelSdk;

/// <summary>Adds ILGPU to an <see cref="AccelRuntimeBuilder"/>.</summary>
public static class IlgpuRuntimeBuilderExtensions
{
    /// <summary>The ILGPU backend (<see cref="IlgpuBackend"/>: its CPU accelerator, CUDA GPUs, and OpenCL devices when opted in).</summary>
    public static AccelRuntimeBuilder AddIlgpu(this AccelRuntimeBuilder builder) => builder.AddBackend(new IlgpuBackendProvider());
}
