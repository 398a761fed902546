using System.Reflection;
using System.Runtime.InteropServices;
using ILGPU.Runtime.OpenCL;

namespace AccelSdk.Ilgpu.Runtime;

/// <summary>
/// The one place that works around ILGPU 1.5.3's refusal of PoCL (Debian 12's CPU OpenCL runtime), used only when
/// <c>ACCELSDK_ILGPU_OPENCL=pocl-compat</c>. ILGPU requires the OpenCL 2.0 generic address space and emits
/// <c>__generic</c> pointers where its address-space inference leaves them; PoCL 3.1 reports OpenCL C 1.2 without
/// that feature. ILGPU's maintainers do not plan OpenCL 1.2 support (m4rs-mt/ILGPU#1013) and ILGPU offers no public
/// switch, so this shim:
/// <list type="number">
/// <item>appends <c>-D__generic=__global</c> to <c>POCL_EXTRA_BUILD_FLAGS</c> in the native process environment
/// (PoCL reads it at every program build), so ILGPU's remaining generic pointers become global pointers;</item>
/// <item>sets ILGPU's <c>CLCapabilityContext.GenericAddressSpace</c> (an internal setter) through reflection so that
/// ILGPU creates the accelerator.</item>
/// </list>
/// That is sound only for kernels whose generic pointers all point to global memory; the conformance run on the
/// device (tests/AccelSdk.Ilgpu.Tests/PoclCompatibilityTests.cs) is what shows which kernels qualify. The reflection
/// target is internal ILGPU API: it is looked up when the shim is enabled, and a missing setter leaves the device
/// refused with that reason.
/// </summary>
internal static class PoclCompatibility
{
    /// <summary>The value of <c>ACCELSDK_ILGPU_OPENCL</c> that enables this shim.</summary>
    public const string OptInValue = "pocl-compat";

    public const string BuildFlagsVariable = "POCL_EXTRA_BUILD_FLAGS";

    public const string GenericAsGlobal = "-D__generic=__global";

    /// <summary>The device property that marks a device running under this shim.</summary>
    public const string PropertyName = "ilgpu.compat";

    public static bool IsPocl(CLDevice device) => device.PlatformName.Contains("Portable Computing Language", StringComparison.Ordinal);

    /// <summary>A PoCL device that ILGPU would refuse for lack of the generic address space.</summary>
    public static bool Applies(CLDevice device) => IsPocl(device) && !device.Capabilities.GenericAddressSpace;

    /// <summary>
    /// Prepares <paramref name="device"/> for ILGPU; returns null on success or why the shim could not be applied
    /// (the device then stays refused with that reason).
    /// </summary>
    public static string? Enable(CLDevice device)
    {
        var setter = device.Capabilities.GetType().GetProperty("GenericAddressSpace", BindingFlags.Public | BindingFlags.Instance)?.GetSetMethod(nonPublic: true);
        if (setter is null)
        {
            return $"pocl-compat: this ILGPU version ({IlgpuBackend.IlgpuVersion}) has no GenericAddressSpace capability setter to force";
        }
        var flags = Environment.GetEnvironmentVariable(BuildFlagsVariable) ?? "";
        if (!flags.Contains(GenericAsGlobal, StringComparison.Ordinal))
        {
            flags = string.IsNullOrEmpty(flags) ? GenericAsGlobal : $"{flags} {GenericAsGlobal}";
            // PoCL reads the native environment; Environment.SetEnvironmentVariable changes only .NET's copy on Unix.
            if (SetNativeEnvironment(BuildFlagsVariable, flags, 1) != 0)
            {
                return $"pocl-compat: could not set {BuildFlagsVariable} (setenv failed: {Marshal.GetLastPInvokeErrorMessage()})";
            }
            Environment.SetEnvironmentVariable(BuildFlagsVariable, flags);
        }
        setter.Invoke(device.Capabilities, new object[] { true });
        return null;
    }

    /// <summary>What the device's properties say about the shim.</summary>
    public const string Description = "pocl-compat: ILGPU's generic-address-space check forced, generic pointers compiled as __global (" + BuildFlagsVariable + "=" + GenericAsGlobal + ")";

    [DllImport("libc", EntryPoint = "setenv", SetLastError = true)]
    private static extern int SetNativeEnvironment([MarshalAs(UnmanagedType.LPUTF8Str)] string name, [MarshalAs(UnmanagedType.LPUTF8Str)] string value, int overwrite);
}
