using AccelSdk.Ir;

namespace AccelSdk.Optimize.Pruning;

/// <summary>
/// How much each atom (a channel removed everywhere at once) matters, from the weights alone: for every layer that
/// writes the channel (its filter) or reads it (its input slice), the L2 norm of that slice relative to the mean over
/// the layer's channels; the atom's importance is the mean of those ratios, so channels spanning many layers and
/// channels of one layer compare on the same scale.
/// </summary>
internal static class ChannelImportance
{
    /// <param name="model">The model (BatchNorm folded).</param>
    /// <param name="deps">Its channel dependencies.</param>
    /// <param name="activationRms">
    /// With calibration data: root mean square of each channel of the values layers read. Then a reader's slice counts
    /// as its norm times the channel's RMS (what the channel really contributes to the reader's output) and the
    /// filters that write the channel do not count.
    /// </param>
    public static Dictionary<int, double> Of(Model model, ChannelDependencies deps, IReadOnlyDictionary<string, double[]>? activationRms = null)
    {
        var editor = new GraphEditor(model.Graph);
        var sum = new Dictionary<int, double>();
        var count = new Dictionary<int, int>();
        void Add(string value, AccelTensor weight, int axis, bool reads)
        {
            if (!deps.Values.TryGetValue(value, out var layout) || weight.Shape[axis] != layout.Count) return;
            if (activationRms is not null && !reads) return;
            var norms = Norms(weight, axis);
            if (activationRms?.GetValueOrDefault(value) is { } rms)
            {
                for (var c = 0; c < norms.Length; c++) norms[c] *= rms[c];
            }
            var mean = norms.Average();
            if (mean <= 0) return;
            var atoms = deps.AtomsOf(value);
            for (var c = 0; c < norms.Length; c++)
            {
                sum[atoms[c]] = sum.GetValueOrDefault(atoms[c]) + norms[c] / mean;
                count[atoms[c]] = count.GetValueOrDefault(atoms[c]) + 1;
            }
        }
        foreach (var node in model.Graph.Nodes)
        {
            if (node.Inputs.Count < 2 || editor.Initializer(node.Inputs[1]) is not { ElementType: ElementType.Float32 } w) continue;
            switch (node.OpType)
            {
                case "Conv" when w.Rank >= 3:
                    Add(node.Outputs[0], w, 0, reads: false);
                    if (node.GetInt("group", 1) == 1) Add(node.Inputs[0], w, 1, reads: true);
                    break;
                case "Gemm" when w.Rank == 2:
                    var transB = node.GetInt("transB", 0) != 0;
                    Add(node.Outputs[0], w, transB ? 0 : 1, reads: false);
                    Add(node.Inputs[0], w, transB ? 1 : 0, reads: true);
                    break;
                case "MatMul" when w.Rank == 2:
                    Add(node.Outputs[0], w, 1, reads: false);
                    Add(node.Inputs[0], w, 0, reads: true);
                    break;
            }
        }
        return sum.ToDictionary(kv => kv.Key, kv => kv.Value / count[kv.Key]);
    }

    /// <summary>Per-channel root mean square of the values layers read (Conv, Gemm, MatMul inputs that have channel slots), over the calibration samples.</summary>
    public static Dictionary<string, double[]> ActivationRms(Model model, ChannelDependencies deps,
        IReadOnlyList<IReadOnlyDictionary<string, AccelTensor>> calibration, AccelRuntime? runtime, string deviceId)
    {
        var read = model.Graph.Nodes.Where(n => n.OpType is "Conv" or "Gemm" or "MatMul" && n.Inputs.Count > 0)
            .Select(n => n.Inputs[0]).Where(deps.Values.ContainsKey).Distinct(StringComparer.Ordinal).ToList();
        var sums = read.ToDictionary(v => v, v => new double[deps.Values[v].Count], StringComparer.Ordinal);
        var counts = read.ToDictionary(v => v, _ => 0L, StringComparer.Ordinal);
        foreach (var (name, tensor) in ActivationProbe.Run(model, read, calibration, runtime, deviceId))
        {
            var layout = deps.Values[name];
            var shape = tensor.Shape;
            var inner = 1L;
            for (var d = layout.Axis + 1; d < shape.Length; d++) inner *= shape[d];
            var data = tensor.AsSpan<float>();
            var sum = sums[name];
            for (var i = 0; i < data.Length; i++) sum[(int)(i / inner % layout.Count)] += (double)data[i] * data[i];
            counts[name] += data.Length / layout.Count;
        }
        return sums.ToDictionary(kv => kv.Key, kv => kv.Value.Select(s => Math.Sqrt(s / Math.Max(1, counts[kv.Key]))).ToArray(), StringComparer.Ordinal);
    }

    /// <summary>L2 norm of each slice of <paramref name="weight"/> along <paramref name="axis"/>.</summary>
    internal static double[] Norms(AccelTensor weight, int axis)
    {
        var shape = weight.Shape;
        var channels = (int)shape[axis];
        var inner = 1;
        for (var d = axis + 1; d < shape.Length; d++) inner *= (int)shape[d];
        var values = weight.AsSpan<float>();
        var squares = new double[channels];
        for (var i = 0; i < values.Length; i++) squares[i / inner % channels] += (double)values[i] * values[i];
        return squares.Select(Math.Sqrt).ToArray();
    }
}
