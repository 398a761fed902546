using AccelSdk.Ir;

namespace AccelSdk.Optimize.Pruning;

/// <summary>
/// Unstructured magnitude pruning: the smallest weights of Conv, MatMul and Gemm are set to zero, per layer or with
/// one global threshold. The file keeps its dense layout (ONNX Runtime has no sparse CPU kernels), so this alone makes
/// a model neither smaller nor faster; it prepares compression and sparse runtimes.
/// </summary>
public static class MagnitudePruner
{
    /// <summary>Prunes a copy of <paramref name="model"/>.</summary>
    public static OptimizationResult Prune(Model model, PruningOptions options)
    {
        options.Validate();
        if (options.HeadSparsity > 0) throw new InvalidOptimizationOptionException("head sparsity", "removing attention heads is structured pruning: use ChannelPruner");
        var copy = ModelPreparation.Clone(model);
        var editor = new GraphEditor(copy.Graph);
        var targets = new List<(Node Node, string Weight)>();
        var skipped = new List<(string, string)>();
        foreach (var n in copy.Graph.Nodes.Where(n => n.OpType is "Conv" or "MatMul" or "Gemm"))
        {
            var label = n.Name.Length > 0 ? n.Name : n.Outputs[0];
            var w = editor.Initializer(n.Inputs[1]);
            if (options.ExcludedNodes.Contains(n.Name)) skipped.Add((label, "excluded by option"));
            else if (w is not { ElementType: ElementType.Float32 }) skipped.Add((label, "weight is not a float32 constant"));
            else if (w.ElementCount < options.MinimumWeightElements) skipped.Add((label, $"weight has only {w.ElementCount} elements"));
            else if (targets.Any(t => t.Weight == n.Inputs[1])) continue;
            else targets.Add((n, n.Inputs[1]));
        }
        float globalThreshold = 0;
        if (options.Scope == PruningScope.Global && targets.Count > 0)
        {
            var all = targets.SelectMany(t => editor.Initializer(t.Weight)!.ToArray<float>().Select(MathF.Abs)).ToArray();
            globalThreshold = Threshold(all, options.Sparsity);
        }
        long zeroed = 0, total = 0;
        foreach (var (_, weightName) in targets)
        {
            var weight = editor.Initializer(weightName)!;
            var values = weight.ToArray<float>();
            var threshold = options.Scope == PruningScope.Global ? globalThreshold : Threshold(values.Select(MathF.Abs).ToArray(), options.Sparsity);
            var budget = options.Scope == PruningScope.PerLayer ? (long)Math.Floor(values.Length * options.Sparsity) : long.MaxValue;
            long done = 0;
            for (var i = 0; i < values.Length && done < budget; i++)
            {
                if (MathF.Abs(values[i]) < threshold || MathF.Abs(values[i]) == threshold && options.Sparsity > 0)
                {
                    values[i] = 0;
                    done++;
                }
            }
            editor.ReplaceInitializer(weightName, AccelTensor.Create(values, weight.ShapeArray));
            zeroed += values.Count(v => v == 0);
            total += values.Length;
        }
        copy.ProducerName = "AccelSdk.Optimize";
        copy.MetadataProps.Add(new("accelsdk.optimization", "prune-unstructured"));
        var settings = new Dictionary<string, string>
        {
            ["sparsity"] = options.Sparsity.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture),
            ["scope"] = options.Scope.ToString(),
            ["zero_weights"] = total == 0 ? "0" : $"{zeroed} of {total} ({(double)zeroed / total:P1})",
        };
        return new OptimizationResult("prune-unstructured", copy, targets.Select(t => t.Node.Name.Length > 0 ? t.Node.Name : t.Node.Outputs[0]).ToList(), skipped, settings);
    }

    /// <summary>The magnitude below which <paramref name="sparsity"/> of the values lie.</summary>
    private static float Threshold(float[] magnitudes, double sparsity)
    {
        if (sparsity <= 0 || magnitudes.Length == 0) return 0;
        Array.Sort(magnitudes);
        var index = (int)Math.Min(magnitudes.Length - 1, Math.Floor(magnitudes.Length * sparsity));
        return magnitudes[index];
    }
}
