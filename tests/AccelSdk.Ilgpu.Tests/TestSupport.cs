using AccelSdk.Backends;
using AccelSdk.Ilgpu;

namespace AccelSdk.Ilgpu.Tests;

/// <summary>One ILGPU backend for the whole test run: accelerators and compiled kernels are shared like in an application.</summary>
public static class Shared
{
    private static readonly Lazy<IlgpuBackend> LazyBackend = new(() => new IlgpuBackend());

    public static IlgpuBackend Backend => LazyBackend.Value;

    public static Device Cpu => Backend.Devices.Single(d => d.Id == "ilgpu-cpu");

    /// <summary>
    /// The device the conformance and model tests run on: <c>ilgpu-cpu</c>, or the one named by
    /// <c>ACCELSDK_ILGPU_TEST_DEVICE</c> (e.g. <c>ilgpu-cuda:0</c> on a machine with an NVIDIA GPU and .NET; tests/gpu/ runs the same checks without .NET).
    /// </summary>
    public static Device TestDevice
    {
        get
        {
            var id = Environment.GetEnvironmentVariable("ACCELSDK_ILGPU_TEST_DEVICE");
            if (string.IsNullOrEmpty(id)) return Cpu;
            var device = Backend.Devices.FirstOrDefault(d => d.Id == id)
                ?? throw new InvalidOperationException($"ACCELSDK_ILGPU_TEST_DEVICE={id}: no such ILGPU device (have {string.Join(", ", Backend.Devices.Select(d => d.Id))})");
            return device.IsAvailable ? device : throw new InvalidOperationException($"{id} is unavailable: {device.UnavailableReason}");
        }
    }

    public static string RepoRoot => TestSupport.RepoPaths.Root;

    public const string OnnxTestData = TestSupport.RepoPaths.OnnxTestData;

}
