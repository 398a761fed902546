using AccelSdk.Backends;
using AccelSdk.Execution;
using AccelSdk.Ir;

namespace AccelSdk.Optimize.Pruning;

/// <summary>Runs a model on calibration samples and hands out inner values (made extra graph outputs of a copy).</summary>
internal static class ActivationProbe
{
    /// <summary>(value name, tensor) for every requested value on every sample, sample by sample.</summary>
    public static IEnumerable<(string Name, AccelTensor Value)> Run(Model model, IReadOnlyCollection<string> values,
        IReadOnlyList<IReadOnlyDictionary<string, AccelTensor>> samples, AccelRuntime? runtime, string deviceId)
    {
        var probe = ModelPreparation.Clone(model);
        var present = new HashSet<string>(probe.Graph.Outputs.Select(o => o.Name), StringComparer.Ordinal);
        var inputs = new HashSet<string>(probe.Graph.Inputs.Select(i => i.Name), StringComparer.Ordinal);
        foreach (var name in values.Where(v => !present.Contains(v) && !inputs.Contains(v)).Distinct(StringComparer.Ordinal))
        {
            probe.Graph.Outputs.Add(new ValueInfo(name, new TensorType(ElementType.Float32, null)));
        }
        var (backend, device) = (runtime ?? AccelRuntime.Default).Resolve(deviceId);
        using var session = new AccelSession(GraphPartitioner.WholeModel(probe, backend, device));
        foreach (var sample in samples)
        {
            var result = session.Run(sample);
            foreach (var name in values) yield return (name, inputs.Contains(name) ? sample[name] : result[name]);
        }
    }
}
