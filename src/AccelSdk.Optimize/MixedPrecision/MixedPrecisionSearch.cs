using AccelSdk.Autotune.Precision;
using AccelSdk.Ir;
using AccelSdk.Onnx;
using AccelSdk.Optimize.Quantization;

namespace AccelSdk.Optimize.MixedPrecision;

/// <summary>
/// The autotuner's lower-precision candidate (<c>AutotuneOptions.PrecisionSearch</c>): <see cref="MixedPrecisionQuantizer"/>
/// chooses int8 (static QDQ) or float32 per layer (float16 too on a device with fp16 arithmetic) within the budget,
/// calibrating and measuring accuracy on the calibration inputs, on the ONNX Runtime device the float32 plan starts on
/// (ort-cpu when that plan starts on another backend: the QDQ model is made for ONNX Runtime's int8 kernels).
/// </summary>
public sealed class MixedPrecisionSearch : IPrecisionSearch
{
    /// <summary>How the int8 layers are quantized.</summary>
    public StaticQuantizationOptions Static { get; init; } = new();

    /// <summary>Timed runs per candidate inside the search.</summary>
    public int MeasuredRuns { get; init; } = 15;

    /// <inheritdoc />
    public PrecisionCandidate? Search(Model model, IReadOnlyList<IReadOnlyDictionary<string, AccelTensor>> calibration, AccuracyBudget budget,
        AccelRuntime runtime, DeviceTarget device, CancellationToken cancellationToken, out string why)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var deviceId = device.Backend.Name == OnnxRuntime.OrtBackend.BackendName ? device.Device.Id : "ort-cpu";
        var result = MixedPrecisionQuantizer.Quantize(model, calibration, calibration, new MixedPrecisionOptions
        {
            MaxCosineDrop = budget.MaxCosineDrop, MinTop1 = budget.MinTop1, Static = Static, Device = deviceId, Runtime = runtime, MeasuredRuns = MeasuredRuns,
        });
        cancellationToken.ThrowIfCancellationRequested();
        why = $"on {deviceId}: {result.Settings["candidates"]}";
        var layers = result.Layers.ToDictionary(l => l.Node, l => l.Choice, StringComparer.Ordinal);
        // Every layer reverted is float32 with extra steps: timing noise alone could make it look faster.
        if (result.Settings["chosen"] == "float32" || layers.Values.All(choice => choice == "float32")) return null;
        return new PrecisionCandidate(result.Model, layers, $"{result.Settings["chosen"]} ({result.Settings["layers_int8"]} layers int8) on {deviceId}; {result.Notes[0]}");
    }

    /// <inheritdoc />
    public byte[] Save(Model model) => OnnxExporter.ToBytes(model);

    /// <inheritdoc />
    public Model Load(byte[] bytes, string label) => OnnxImporter.Parse(bytes, label);
}
