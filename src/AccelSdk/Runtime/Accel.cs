using System.Diagnostics.CodeAnalysis;
using AccelSdk.Backends;
using AccelSdk.Execution;
using AccelSdk.Ir;

namespace AccelSdk;

/// <summary>
/// The three-line entry point, over <see cref="AccelRuntime.Default"/> (every AccelSdk extension deployed beside the
/// application). Applications that configure backends, logging or several runtimes use an <see cref="AccelRuntime"/>.
/// <code>
/// using var session = Accel.Select("model.onnx");
/// var outputs = session.Run(input);
/// </code>
/// </summary>
[RequiresUnreferencedCode(ExtensionDiscovery.TrimMessage)]
[RequiresDynamicCode(ExtensionDiscovery.TrimMessage)]
public static class Accel
{
    /// <summary>The default runtime every member of this class uses.</summary>
    public static AccelRuntime Runtime => AccelRuntime.Default;

    /// <summary>Every device of every backend on this machine, unavailable ones included with their reason.</summary>
    public static IReadOnlyList<Device> Devices => Runtime.Devices;

    /// <summary>The first available machine probe, or null.</summary>
    public static IMachineProbe? Machine => Runtime.Machine;

    /// <summary>The best general device with no model to measure; see <see cref="AccelRuntime.SelectDevice"/>.</summary>
    public static DeviceTarget SelectDevice(SelectionPolicy policy = SelectionPolicy.LowestLatency) => Runtime.SelectDevice(policy);

    /// <summary>Loads the model file and selects where it runs best; see <see cref="AccelRuntime.Select(Model, SelectOptions?, IProgress{SelectionProgress}?, CancellationToken)"/>.</summary>
    public static AccelSession Select(string modelPath, SelectOptions? options = null) => Runtime.Select(modelPath, options);

    /// <summary>Selects where <paramref name="model"/> runs best; see <see cref="AccelRuntime.Select(Model, SelectOptions?, IProgress{SelectionProgress}?, CancellationToken)"/>.</summary>
    public static AccelSession Select(Model model, SelectOptions? options = null) => Runtime.Select(model, options);

    /// <summary>Selects on the thread pool, with progress and cancellation; see <see cref="AccelRuntime.SelectAsync(string, SelectOptions?, IProgress{SelectionProgress}?, CancellationToken)"/>.</summary>
    public static Task<AccelSession> SelectAsync(string modelPath, SelectOptions? options = null, IProgress<SelectionProgress>? progress = null, CancellationToken cancellationToken = default) =>
        Runtime.SelectAsync(modelPath, options, progress, cancellationToken);
}
