using AccelSdk.Native;

namespace AccelSdk;

/// <summary>Adds the native device probe to an <see cref="AccelRuntimeBuilder"/>.</summary>
public static class NativeRuntimeBuilderExtensions
{
    /// <summary>The typed device probe (<see cref="DeviceProbeExtension"/>): <see cref="AccelRuntime.Machine"/> and the fingerprint in selection reports.</summary>
    public static AccelRuntimeBuilder AddDeviceProbe(this AccelRuntimeBuilder builder) => builder.AddMachineProbe(new DeviceProbeExtension());
}
