using AccelSdk.Ir;

namespace AccelSdk.Optimize.Pruning;

/// <summary>
/// How a Conv (2-D, any group count), Gemm or MatMul turns its input into features for least-squares refitting:
/// im2col patches (plus a constant 1 for the bias) per group for Conv, input rows for Gemm/MatMul; and how a fitted
/// features x outputs matrix goes back into the weight and bias tensors.
/// </summary>
internal sealed class LayerGeometry
{
    private readonly Node _node;
    private readonly int[] _kernel = { 1, 1 };
    private readonly int[] _strides = { 1, 1 };
    private readonly int[] _dilations = { 1, 1 };
    private readonly int[] _pads = new int[4];
    private readonly bool _isConv;
    private readonly bool _transB;
    private readonly bool _hasBias;
    private readonly float[] _weight;
    private readonly float[] _bias;
    private readonly long[] _weightShape;
    private readonly long[]? _biasShape;

    private LayerGeometry(Node node, AccelTensor weight, AccelTensor? bias, bool hasBiasSlot)
    {
        _node = node;
        _isConv = node.OpType == "Conv";
        _transB = node.GetInt("transB", 0) != 0;
        _hasBias = hasBiasSlot;
        _weight = weight.ToArray<float>();
        _weightShape = weight.ShapeArray;
        _biasShape = bias?.ShapeArray;
        if (_isConv)
        {
            Groups = (int)node.GetInt("group", 1);
            OutputsPerGroup = (int)(weight.Shape[0] / Groups);
            InputsPerGroup = (int)weight.Shape[1];
            _kernel = new[] { (int)weight.Shape[2], (int)weight.Shape[3] };
            Copy(node.GetInts("strides"), _strides);
            Copy(node.GetInts("dilations"), _dilations);
            Copy(node.GetInts("pads"), _pads);
        }
        else
        {
            Groups = 1;
            var (rows, cols) = ((int)weight.Shape[0], (int)weight.Shape[1]);
            (InputsPerGroup, OutputsPerGroup) = _transB ? (cols, rows) : (rows, cols);
        }
        var outputs = Groups * OutputsPerGroup;
        _bias = new float[outputs];
        if (bias is not null)
        {
            var b = bias.AsSpan<float>();
            for (var o = 0; o < outputs; o++) _bias[o] = b.Length == 1 ? b[0] : b[o];
        }
    }

    public int Groups { get; }

    public int OutputsPerGroup { get; }

    public int InputsPerGroup { get; }

    private int KernelSize => _kernel[0] * _kernel[1];

    /// <summary>Features per row: input channels of a group times kernel positions, plus one for the bias.</summary>
    public int FeatureCount => InputsPerGroup * KernelSize + (_hasBias ? 1 : 0);

    /// <summary>The layer's geometry, or null when it cannot be refitted (1-D/3-D conv, auto_pad, transA, alpha/beta, non-constant weight).</summary>
    public static LayerGeometry? Of(Node node, GraphEditor editor)
    {
        if (node.Inputs.Count < 2 || editor.Initializer(node.Inputs[1]) is not { ElementType: ElementType.Float32 } w) return null;
        var bias = node.Inputs.Count > 2 && node.Inputs[2].Length > 0 ? editor.Initializer(node.Inputs[2]) : null;
        if (node.Inputs.Count > 2 && node.Inputs[2].Length > 0 && bias is not { ElementType: ElementType.Float32 }) return null;
        switch (node.OpType)
        {
            case "Conv" when w.Rank == 4 && node.GetString("auto_pad", "NOTSET") is "NOTSET" or "VALID":
                return new LayerGeometry(node, w, bias, hasBiasSlot: true);
            case "Gemm" when w.Rank == 2 && node.GetInt("transA", 0) == 0 && node.GetFloat("alpha", 1) == 1 && node.GetFloat("beta", 1) == 1
                             && (bias is null || bias.ElementCount == 1 || bias.Shape[^1] == bias.ElementCount):
                return new LayerGeometry(node, w, bias, hasBiasSlot: true);
            case "MatMul" when w.Rank == 2:
                return new LayerGeometry(node, w, null, hasBiasSlot: false);
            default:
                return null;
        }
    }

    /// <summary>Features of group <paramref name="group"/> at every sampled position: rows x <see cref="FeatureCount"/>.</summary>
    public float[] Features(List<AccelTensor> inputs, List<(int Sample, int Row, int Position)> positions, int group)
    {
        var n = FeatureCount;
        var result = new float[positions.Count * n];
        for (var r = 0; r < positions.Count; r++)
        {
            var (sample, row, position) = positions[r];
            var x = inputs[sample];
            var dst = result.AsSpan(r * n, n);
            if (_isConv) Patch(x, row, position, group, dst);
            else x.AsSpan<float>().Slice(row * InputsPerGroup, InputsPerGroup).CopyTo(dst);
            if (_hasBias) dst[n - 1] = 1;
        }
        return result;
    }

    private void Patch(AccelTensor x, int row, int position, int group, Span<float> dst)
    {
        var (channels, height, width) = ((int)x.Shape[1], (int)x.Shape[2], (int)x.Shape[3]);
        var outWidth = (width + _pads[1] + _pads[3] - _dilations[1] * (_kernel[1] - 1) - 1) / _strides[1] + 1;
        var (oy, ox) = (position / outWidth, position % outWidth);
        var data = x.AsSpan<float>();
        var f = 0;
        for (var c = 0; c < InputsPerGroup; c++)
        {
            var plane = (row * channels + group * InputsPerGroup + c) * height * width;
            for (var ky = 0; ky < _kernel[0]; ky++)
            {
                var iy = oy * _strides[0] - _pads[0] + ky * _dilations[0];
                for (var kx = 0; kx < _kernel[1]; kx++, f++)
                {
                    var ix = ox * _strides[1] - _pads[1] + kx * _dilations[1];
                    dst[f] = iy >= 0 && iy < height && ix >= 0 && ix < width ? data[plane + iy * width + ix] : 0;
                }
            }
        }
    }

    /// <summary>The current weights and bias of group <paramref name="group"/> as features x outputs.</summary>
    public double[] Prior(int group)
    {
        var (n, m) = (FeatureCount, OutputsPerGroup);
        var result = new double[n * m];
        var inputs = InputsPerGroup * KernelSize;
        for (var o = 0; o < m; o++)
        {
            var output = group * m + o;
            for (var f = 0; f < inputs; f++) result[f * m + o] = _weight[WeightIndex(output, f)];
            if (_hasBias) result[(n - 1) * m + o] = _bias[output];
        }
        return result;
    }

    /// <summary>Takes the fitted features x outputs matrix of group <paramref name="group"/>.</summary>
    public void Store(double[] fitted, int group)
    {
        var (n, m) = (FeatureCount, OutputsPerGroup);
        var inputs = InputsPerGroup * KernelSize;
        for (var o = 0; o < m; o++)
        {
            var output = group * m + o;
            for (var f = 0; f < inputs; f++) _weight[WeightIndex(output, f)] = (float)fitted[f * m + o];
            if (_hasBias) _bias[output] = (float)fitted[(n - 1) * m + o];
        }
    }

    private int WeightIndex(int output, int feature) =>
        _isConv || _transB ? output * InputsPerGroup * KernelSize + feature : feature * Groups * OutputsPerGroup + output;

    /// <summary>Writes the fitted weight and bias into the model (a bias input is added when the layer had none).</summary>
    public void Write(GraphEditor editor, Dictionary<string, int> uses)
    {
        ChannelRemoval.Replace(editor, uses, _node, 1, AccelTensor.Create(_weight, _weightShape));
        if (!_hasBias) return;
        var biasShape = _biasShape is { } s && s.Length > 0 && s.Aggregate(1L, (a, b) => a * b) == _bias.Length ? s : new long[] { _bias.Length };
        var bias = AccelTensor.Create(_bias, biasShape);
        if (_node.Inputs.Count > 2 && _node.Inputs[2].Length > 0)
        {
            ChannelRemoval.Replace(editor, uses, _node, 2, bias);
            return;
        }
        while (_node.Inputs.Count < 2) _node.Inputs.Add("");
        var name = editor.AddInitializer(ChannelPruner.Label(_node) + "_bias_refit", bias);
        if (_node.Inputs.Count == 2) _node.Inputs.Add(name); else _node.Inputs[2] = name;
        uses[name] = 1;
    }

    private static void Copy(IReadOnlyList<long>? values, int[] target)
    {
        if (values is null) return;
        for (var i = 0; i < Math.Min(values.Count, target.Length); i++) target[i] = (int)values[i];
    }
}
