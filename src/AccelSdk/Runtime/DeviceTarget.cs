using AccelSdk.Backends;
using AccelSdk.Execution;
using AccelSdk.Ir;

namespace AccelSdk;

/// <summary>
/// One device of one backend, ready to load models onto: what <see cref="AccelRuntime.SelectDevice"/> and
/// <see cref="AccelRuntime.Resolve"/> return. Deconstructs as <c>var (backend, device) = target;</c>.
/// </summary>
/// <param name="Backend">The backend that owns the device.</param>
/// <param name="Device">The device.</param>
public sealed record DeviceTarget(IBackend Backend, Device Device)
{
    /// <summary>Compiles <paramref name="model"/> whole for this device as one partition.</summary>
    public AccelSession Load(Model model, CompileOptions? options = null) =>
        new(GraphPartitioner.WholeModel(model, Backend, Device), options);

    /// <inheritdoc />
    public override string ToString() => Device.ToString();
}
