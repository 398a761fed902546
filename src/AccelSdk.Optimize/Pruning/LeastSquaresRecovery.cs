using AccelSdk.Backends;
using AccelSdk.Execution;
using AccelSdk.Ir;
using AccelSdk.Optimize.Data;

namespace AccelSdk.Optimize.Pruning;

/// <summary>
/// Accuracy recovery without training (channel pruning by reconstruction, He et al. 2017; ThiNet): layer by layer in
/// graph order, every Conv/Gemm/MatMul downstream of a removed channel gets new weights and bias, the ridge
/// least-squares fit that maps its input in the pruned model (so earlier errors are compensated too) to its output in
/// the original model, on positions sampled from the calibration inputs.
/// </summary>
internal static class LeastSquaresRecovery
{
    /// <summary>A refittable layer: its node and how its weight is laid out.</summary>
    private sealed record Layer(Node Node, LayerGeometry Geometry);

    /// <summary>A refitted layer and the ridge its fit used (the largest over its groups).</summary>
    public sealed record RefittedLayer(string Label, double Ridge);

    /// <summary>Refits the layers of <paramref name="pruned"/> in place; returns them in graph order.</summary>
    public static List<RefittedLayer> Refit(Model original, Model pruned, IReadOnlyDictionary<string, int[]> keep,
        IReadOnlyList<IReadOnlyDictionary<string, AccelTensor>> calibration, RecoveryOptions options)
    {
        foreach (var s in calibration) InputSets.Validate(original, s, "calibration data");
        var editor = new GraphEditor(pruned.Graph);
        var layers = Downstream(pruned, keep.Keys)
            .Select(n => LayerGeometry.Of(n, editor) is { } g ? new Layer(n, g) : null)
            .OfType<Layer>().ToList();
        if (layers.Count == 0) return new List<RefittedLayer>();
        var targets = Targets(original, layers, keep, calibration, options);
        var refitted = new List<RefittedLayer>();
        var uses = pruned.Graph.Nodes.SelectMany(n => n.Inputs).Where(i => i.Length > 0)
            .GroupBy(i => i, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        foreach (var layer in layers)
        {
            var inputs = Activations(pruned, layer.Node.Inputs[0], calibration, options.Runtime, options.Device);
            var target = targets[layer.Node];
            var ridge = 0.0;
            for (var g = 0; g < layer.Geometry.Groups; g++)
            {
                var x = layer.Geometry.Features(inputs, target.Positions, g);
                var y = target.Rows(g, layer.Geometry.OutputsPerGroup);
                var w = layer.Geometry.Prior(g);
                var chosen = options.Ridge ?? ChooseRidge(x, y, target.Positions, layer.Geometry.FeatureCount, layer.Geometry.OutputsPerGroup, w, options.RidgeCandidates);
                RidgeSolver.Solve(x, y, target.Positions.Count, layer.Geometry.FeatureCount, layer.Geometry.OutputsPerGroup, w, chosen);
                layer.Geometry.Store(w, g);
                ridge = Math.Max(ridge, chosen);
            }
            layer.Geometry.Write(editor, uses);
            refitted.Add(new RefittedLayer(ChannelPruner.Label(layer.Node), ridge));
        }
        return refitted;
    }

    /// <summary>
    /// The candidate ridge whose fit on the other samples best reproduces the held-out ones: the last quarter of the
    /// samples (at least one). The pruned model must generalise to new inputs, not to new positions of the same input,
    /// so whole samples are held out, and a contiguous block, so that the views of one augmented image
    /// (<see cref="ImagePreprocessing.Augment"/>, consecutive) fall on one side.
    /// </summary>
    internal static double ChooseRidge(float[] x, float[] y, List<(int Sample, int Row, int Position)> positions, int features, int outputs,
        double[] prior, IReadOnlyList<double> candidates)
    {
        var samples = positions.Select(p => p.Sample).Distinct().Order().ToList();
        if (samples.Count < 2 || candidates.Count == 1) return candidates.Count == 1 ? candidates[0] : RecoveryOptions.FallbackRidge;
        var heldOut = samples.Skip(samples.Count - Math.Max(1, samples.Count / 4)).ToHashSet();
        var (fitX, fitY) = Rows(x, y, positions, features, outputs, p => !heldOut.Contains(p.Sample));
        var (testX, testY) = Rows(x, y, positions, features, outputs, p => heldOut.Contains(p.Sample));
        var (fitRows, testRows) = (fitY.Length / outputs, testY.Length / outputs);
        var system = RidgeSolver.RidgeSystem.Build(fitX, RidgeSolver.Residual(fitX, fitY, fitRows, features, outputs, prior), fitRows, features, outputs);
        var testResidual = RidgeSolver.Residual(testX, testY, testRows, features, outputs, prior);
        var best = (Ridge: candidates.Max(), Error: double.PositiveInfinity);
        foreach (var ridge in candidates)
        {
            if (system.Delta(ridge) is not { } delta) continue;
            var error = RidgeSolver.Error(testX, testResidual, testRows, features, outputs, delta);
            if (error < best.Error) best = (ridge, error);
        }
        return best.Ridge;
    }

    private static (float[] X, float[] Y) Rows(float[] x, float[] y, List<(int Sample, int Row, int Position)> positions, int features, int outputs,
        Func<(int Sample, int Row, int Position), bool> include)
    {
        var picked = Enumerable.Range(0, positions.Count).Where(r => include(positions[r])).ToList();
        var (px, py) = (new float[picked.Count * features], new float[picked.Count * outputs]);
        for (var i = 0; i < picked.Count; i++)
        {
            x.AsSpan(picked[i] * features, features).CopyTo(px.AsSpan(i * features));
            y.AsSpan(picked[i] * outputs, outputs).CopyTo(py.AsSpan(i * outputs));
        }
        return (px, py);
    }

    /// <summary>Nodes reading, directly or through other nodes, a value that lost channels; in graph order.</summary>
    private static List<Node> Downstream(Model model, IEnumerable<string> changed)
    {
        var affected = new HashSet<string>(changed, StringComparer.Ordinal);
        var result = new List<Node>();
        foreach (var node in model.Graph.Nodes)
        {
            if (!node.Inputs.Any(affected.Contains)) continue;
            result.Add(node);
            affected.UnionWith(node.Outputs);
        }
        return result;
    }

    /// <summary>The original model's output of every layer at sampled positions, only the channels that stay.</summary>
    private static Dictionary<Node, LayerTarget> Targets(Model original, List<Layer> layers, IReadOnlyDictionary<string, int[]> keep,
        IReadOnlyList<IReadOnlyDictionary<string, AccelTensor>> calibration, RecoveryOptions options)
    {
        var probe = ModelPreparation.Clone(original);
        var names = layers.Select(l => l.Node.Outputs[0]).ToList();
        var existing = new HashSet<string>(probe.Graph.Outputs.Select(o => o.Name), StringComparer.Ordinal);
        foreach (var name in names.Where(n => !existing.Contains(n))) probe.Graph.Outputs.Add(new ValueInfo(name, new TensorType(ElementType.Float32, null)));
        var (backend, device) = (options.Runtime ?? AccelRuntime.Default).Resolve(options.Device);
        using var session = new AccelSession(GraphPartitioner.WholeModel(probe, backend, device));
        var targets = layers.ToDictionary(l => l.Node, l => new LayerTarget(keep.GetValueOrDefault(l.Node.Outputs[0])));
        var random = new Random(options.Seed);
        var perSample = Math.Max(1, options.RowsPerLayer / calibration.Count);
        for (var s = 0; s < calibration.Count; s++)
        {
            var result = session.Run(calibration[s]);
            foreach (var layer in layers) targets[layer.Node].Add(s, result[layer.Node.Outputs[0]], perSample, random);
        }
        return targets;
    }

    /// <summary>The value <paramref name="name"/> of the current pruned model on every calibration sample.</summary>
    private static List<AccelTensor> Activations(Model model, string name, IReadOnlyList<IReadOnlyDictionary<string, AccelTensor>> calibration, AccelRuntime? runtime, string deviceId)
    {
        var isInput = model.Graph.Inputs.Any(i => i.Name == name);
        if (isInput) return calibration.Select(s => s[name]).ToList();
        var added = !model.Graph.Outputs.Any(o => o.Name == name);
        if (added) model.Graph.Outputs.Add(new ValueInfo(name, new TensorType(ElementType.Float32, null)));
        try
        {
            var (backend, device) = (runtime ?? AccelRuntime.Default).Resolve(deviceId);
            using var session = new AccelSession(GraphPartitioner.WholeModel(model, backend, device));
            return calibration.Select(s => session.Run(s)[name]).ToList();
        }
        finally
        {
            if (added) model.Graph.Outputs.RemoveAll(o => o.Name == name);
        }
    }

    /// <summary>Sampled output positions of one layer and the original's values there.</summary>
    private sealed class LayerTarget(int[]? keptOutputs)
    {
        private readonly List<float[]> _values = new();

        /// <summary>(sample, batch row, flat spatial index) of each sampled output position.</summary>
        public List<(int Sample, int Row, int Position)> Positions { get; } = new();

        public void Add(int sample, AccelTensor output, int count, Random random)
        {
            var shape = output.Shape;
            // NCHW (channels at 1) for Conv; [.., C] rows for Gemm/MatMul.
            var isConv = shape.Length == 4;
            var rows = isConv ? (int)shape[0] : (int)(output.ElementCount / shape[^1]);
            var channels = isConv ? (int)shape[1] : (int)shape[^1];
            var spatial = isConv ? (int)(shape[2] * shape[3]) : 1;
            var data = output.AsSpan<float>();
            var total = rows * spatial;
            var picks = total <= count ? Enumerable.Range(0, total) : Enumerable.Range(0, count).Select(_ => random.Next(total));
            foreach (var pick in picks)
            {
                var (row, position) = (pick / spatial, pick % spatial);
                var channelsOut = keptOutputs ?? Enumerable.Range(0, channels).ToArray();
                var v = new float[channelsOut.Length];
                for (var k = 0; k < v.Length; k++)
                {
                    v[k] = isConv ? data[(row * channels + channelsOut[k]) * spatial + position] : data[row * channels + channelsOut[k]];
                }
                Positions.Add((sample, row, position));
                _values.Add(v);
            }
        }

        /// <summary>The targets of group <paramref name="group"/>, rows x outputs, row-major.</summary>
        public float[] Rows(int group, int outputsPerGroup)
        {
            var result = new float[_values.Count * outputsPerGroup];
            for (var r = 0; r < _values.Count; r++) _values[r].AsSpan(group * outputsPerGroup, outputsPerGroup).CopyTo(result.AsSpan(r * outputsPerGroup));
            return result;
        }
    }
}
