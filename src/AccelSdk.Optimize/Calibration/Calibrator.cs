using AccelSdk.Backends;
using AccelSdk.Execution;
using AccelSdk.Ir;
using AccelSdk.Optimize.Data;

namespace AccelSdk.Optimize.Calibration;

/// <summary>How an activation's quantization range is chosen from what calibration observed.</summary>
public enum CalibrationMethod
{
    /// <summary>The smallest and largest value seen.</summary>
    MinMax,

    /// <summary>Cut the tails: the range holding <see cref="CalibrationOptions.Percentile"/> % of the values.</summary>
    Percentile,

    /// <summary>The clipping threshold that minimizes the KL divergence between the float and quantized histograms.</summary>
    Entropy,
}

/// <summary>Calibration settings.</summary>
public sealed record CalibrationOptions
{
    /// <summary>The runtime whose devices run the models; null takes <see cref="AccelRuntime.Default"/>.</summary>
    public AccelRuntime? Runtime { get; init; }

    /// <summary>The range-choosing method.</summary>
    public CalibrationMethod Method { get; init; } = CalibrationMethod.MinMax;

    /// <summary>For <see cref="CalibrationMethod.Percentile"/>: share of values kept, in percent.</summary>
    public double Percentile { get; init; } = 99.999;

    /// <summary>Histogram bins for Percentile and Entropy.</summary>
    public int Bins { get; init; } = 2048;

    /// <summary>Device that runs the float model on the calibration inputs.</summary>
    public string Device { get; init; } = "ort-cpu";
}

/// <summary>The chosen and the observed range of one activation tensor.</summary>
/// <param name="Min">Lower end of the chosen range.</param>
/// <param name="Max">Upper end of the chosen range.</param>
/// <param name="ObservedMin">Smallest value seen.</param>
/// <param name="ObservedMax">Largest value seen.</param>
public readonly record struct TensorRange(float Min, float Max, float ObservedMin, float ObservedMax);

/// <summary>Runs the float model on real inputs and chooses a quantization range for each requested activation.</summary>
public static class Calibrator
{
    /// <summary>Ranges of <paramref name="tensorNames"/> (graph inputs or node outputs) over <paramref name="samples"/>.</summary>
    public static Dictionary<string, TensorRange> Calibrate(Model model, IReadOnlyCollection<string> tensorNames,
        IReadOnlyList<IReadOnlyDictionary<string, AccelTensor>> samples, CalibrationOptions? options = null)
    {
        options ??= new CalibrationOptions();
        if (samples.Count == 0) throw new CalibrationDataException(model.Label, "no calibration samples were given");
        if (options.Percentile is <= 50 or > 100) throw new InvalidOptimizationOptionException("percentile", $"{options.Percentile} is outside (50, 100]");
        if (options.Bins < 256) throw new InvalidOptimizationOptionException("bins", $"{options.Bins} is below 256");
        foreach (var s in samples) InputSets.Validate(model, s, "calibration data");

        var probe = ModelPreparation.Clone(model);
        var types = ShapeInference.Infer(probe);
        var graphInputs = new HashSet<string>(probe.Graph.Inputs.Select(i => i.Name), StringComparer.Ordinal);
        var outputs = new HashSet<string>(probe.Graph.Outputs.Select(o => o.Name), StringComparer.Ordinal);
        foreach (var name in tensorNames)
        {
            if (graphInputs.Contains(name) || outputs.Contains(name)) continue;
            var type = types.TryGetValue(name, out var t) && t is TensorType tt ? tt : new TensorType(ElementType.Float32, null);
            probe.Graph.Outputs.Add(new ValueInfo(name, type));
        }
        var (backend, device) = (options.Runtime ?? AccelRuntime.Default).Resolve(options.Device);
        using var session = new AccelSession(GraphPartitioner.WholeModel(probe, backend, device));

        var observations = tensorNames.ToDictionary(n => n, _ => new Observation(), StringComparer.Ordinal);
        foreach (var sample in samples)
        {
            foreach (var (name, tensor) in Fetch(session, sample, tensorNames)) observations[name].AddMinMax(tensor);
        }
        if (options.Method != CalibrationMethod.MinMax)
        {
            foreach (var o in observations.Values) o.StartHistogram(options.Bins, options.Method == CalibrationMethod.Entropy);
            foreach (var sample in samples)
            {
                foreach (var (name, tensor) in Fetch(session, sample, tensorNames)) observations[name].AddToHistogram(tensor);
            }
        }
        return observations.ToDictionary(kv => kv.Key, kv => kv.Value.Range(options), StringComparer.Ordinal);
    }

    private static IEnumerable<(string, AccelTensor)> Fetch(AccelSession session, IReadOnlyDictionary<string, AccelTensor> sample, IReadOnlyCollection<string> names)
    {
        var result = session.Run(sample);
        foreach (var name in names)
        {
            var tensor = sample.TryGetValue(name, out var input) ? input : result[name];
            if (tensor.ElementType == ElementType.Float32) yield return (name, tensor);
        }
    }

    private sealed class Observation
    {
        private float _min = float.PositiveInfinity;
        private float _max = float.NegativeInfinity;
        private double[]? _histogram;
        private float _lower;
        private float _upper;
        private bool _absolute;

        public void AddMinMax(AccelTensor t)
        {
            foreach (var v in t.AsSpan<float>())
            {
                if (float.IsNaN(v)) continue;
                if (v < _min) _min = v;
                if (v > _max) _max = v;
            }
        }

        /// <summary>Entropy looks at |x| on [0, max|x|]; Percentile at x on [min, max].</summary>
        public void StartHistogram(int bins, bool absolute)
        {
            _histogram = new double[bins];
            _absolute = absolute;
            (_lower, _upper) = absolute ? (0f, MathF.Max(MathF.Abs(_min), MathF.Abs(_max))) : (_min, _max);
        }

        public void AddToHistogram(AccelTensor t)
        {
            var h = _histogram!;
            var width = (_upper - _lower) / h.Length;
            if (!(width > 0)) return;
            foreach (var raw in t.AsSpan<float>())
            {
                if (float.IsNaN(raw)) continue;
                // Exact zeros (half of every post-Relu tensor) quantize exactly whatever the threshold; left in, their
                // spike in the first bin dominates KL and drives the threshold far too low.
                if (_absolute && raw == 0) continue;
                var v = _absolute ? MathF.Abs(raw) : raw;
                h[Math.Clamp((int)((v - _lower) / width), 0, h.Length - 1)]++;
            }
        }

        public TensorRange Range(CalibrationOptions options)
        {
            if (float.IsInfinity(_min)) return new TensorRange(0, 0, 0, 0);
            if (_histogram is null || !(_upper > _lower)) return new TensorRange(_min, _max, _min, _max);
            var width = (_upper - _lower) / _histogram.Length;
            if (options.Method == CalibrationMethod.Percentile)
            {
                var total = _histogram.Sum();
                var tail = total * (100 - options.Percentile) / 100;
                double seen = 0;
                var low = 0;
                while (low < _histogram.Length - 1 && seen + _histogram[low] <= tail) seen += _histogram[low++];
                seen = 0;
                var high = _histogram.Length - 1;
                while (high > 0 && seen + _histogram[high] <= tail) seen += _histogram[high--];
                var min = _min >= 0 ? _min : _lower + low * width;
                return new TensorRange(MathF.Min(min, 0), _lower + (high + 1) * width, _min, _max);
            }
            var levels = _min >= 0 ? 256 : 128;
            var threshold = EntropyThreshold(_histogram, levels) * width;
            return new TensorRange(_min >= 0 ? _min : MathF.Max(_min, -threshold), MathF.Min(_max, threshold), _min, _max);
        }
    }

    /// <summary>
    /// The number of histogram bins to keep: for each candidate cut, P is the clipped distribution with the outliers
    /// folded into its last bin, and Q the bins below the cut merged into <paramref name="levels"/> quantized bins and
    /// expanded back (the outliers are lost in Q, which is what penalizes clipping). The cut with the least KL(P||Q) wins.
    /// </summary>
    internal static int EntropyThreshold(double[] histogram, int levels)
    {
        var bins = histogram.Length;
        if (bins <= levels) return bins;
        var best = bins;
        var bestDivergence = double.PositiveInfinity;
        var total = histogram.Sum();
        if (total == 0) return bins;
        var p = new double[bins];
        var q = new double[bins];
        for (var cut = levels; cut <= bins; cut++)
        {
            Array.Copy(histogram, p, cut);
            double outliers = 0;
            for (var i = cut; i < bins; i++) outliers += histogram[i];
            p[cut - 1] += outliers;
            var merge = (double)cut / levels;
            for (var j = 0; j < levels; j++)
            {
                var start = (int)(j * merge);
                var end = j == levels - 1 ? cut : (int)((j + 1) * merge);
                double sum = 0;
                var nonZero = 0;
                for (var i = start; i < end; i++)
                {
                    sum += histogram[i];
                    if (p[i] != 0) nonZero++;
                }
                for (var i = start; i < end; i++) q[i] = p[i] != 0 ? sum / nonZero : 0;
            }
            double pSum = 0, qSum = 0;
            for (var i = 0; i < cut; i++)
            {
                pSum += p[i];
                qSum += q[i];
            }
            double divergence = 0;
            for (var i = 0; i < cut; i++)
            {
                if (p[i] == 0) continue;
                var pi = p[i] / pSum;
                var qi = q[i] / qSum;
                divergence += qi == 0 ? pi * 20 : pi * Math.Log(pi / qi);
            }
            if (divergence < bestDivergence)
            {
                bestDivergence = divergence;
                best = cut;
            }
        }
        return best;
    }
}
