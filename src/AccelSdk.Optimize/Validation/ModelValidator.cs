using System.Text.RegularExpressions;
using AccelSdk.Backends;
using AccelSdk.Execution;
using AccelSdk.Ir;
using AccelSdk.Optimize.Reports;

namespace AccelSdk.Optimize.Validation;

/// <summary>How an optimized model is checked before it is written.</summary>
public sealed record ValidationOptions
{
    /// <summary>The runtime whose devices run the models; null takes <see cref="AccelRuntime.Default"/>.</summary>
    public AccelRuntime? Runtime { get; init; }

    /// <summary>
    /// Lowest cosine each output may have against the original; null takes the default of the optimization
    /// (<see cref="ModelValidator.DefaultMinCosine"/>).
    /// </summary>
    public double? MinCosine { get; init; }

    /// <summary>Inputs both models run on; null uses the fixed-seed <see cref="SampleInputs.Random"/> input of the original.</summary>
    public IReadOnlyList<IReadOnlyDictionary<string, AccelTensor>>? Inputs { get; init; }

    /// <summary>Device that loads and runs both models.</summary>
    public string Device { get; init; } = "ort-cpu";
}

/// <summary>Loads an optimized model into ONNX Runtime and compares its outputs with the original's.</summary>
public static partial class ModelValidator
{
    /// <summary>
    /// The agreement an optimization must keep on sample inputs: fp16 0.999; int8 0.9 (random inputs are not
    /// calibration data, so this only catches a broken graph); pruning changes outputs on purpose, so only loading and
    /// running are checked (null).
    /// </summary>
    public static double? DefaultMinCosine(string optimization) => optimization switch
    {
        "fp16" => 0.999,
        "dynamic-int8" or "static-int8" or "mixed-int8" => 0.9,
        _ => null,
    };

    /// <summary>Throws <see cref="OptimizedModelRejectedException"/> when ORT refuses <paramref name="optimized"/> or an output disagrees.</summary>
    public static void Validate(Model original, OptimizationResult optimized, ValidationOptions? options = null)
    {
        options ??= new ValidationOptions();
        var minCosine = options.MinCosine ?? DefaultMinCosine(optimized.Optimization);
        if (minCosine is < -1 or > 1) throw new InvalidOptimizationOptionException("MinCosine", $"{minCosine} is outside [-1, 1]");
        var inputs = options.Inputs ?? new List<IReadOnlyDictionary<string, AccelTensor>> { SampleInputs.Random(original) };
        var (backend, device) = (options.Runtime ?? AccelRuntime.Default).Resolve(options.Device);
        using var reference = ModelEvaluator.Open(original, backend, device);
        using var candidate = OpenOrReject(optimized, backend, device);
        foreach (var input in inputs)
        {
            var expected = RunOriginal(reference, original, input);
            var actual = RunOrReject(candidate, optimized, ModelEvaluator.InputsFor(optimized.Model, input));
            foreach (var name in reference.OutputNames)
            {
                var cosine = ModelEvaluator.Cosine(expected[name], actual[name]);
                if (minCosine is { } min && !(cosine >= min))
                {
                    throw new OptimizedModelRejectedException(
                        $"{optimized.Model.Label}: {optimized.Optimization} output '{name}' has cosine {cosine:F6} against the original (at least {min} required); nothing was written",
                        outputName: name);
                }
            }
        }
    }

    private static RunResult RunOriginal(AccelSession session, Model original, IReadOnlyDictionary<string, AccelTensor> input)
    {
        try
        {
            return session.Run(input);
        }
        catch (AccelSdkException e)
        {
            throw new CalibrationDataException("validation inputs", $"the original {original.Label} does not run on them, so the optimized model cannot be checked ({e.Message}); give sample inputs that fit the model");
        }
    }

    private static AccelSession OpenOrReject(OptimizationResult optimized, IBackend backend, Device device)
    {
        try
        {
            return ModelEvaluator.Open(optimized.Model, backend, device);
        }
        catch (AccelSdkException e)
        {
            throw Refused(optimized, "loads", e);
        }
    }

    private static RunResult RunOrReject(AccelSession session, OptimizationResult optimized, IReadOnlyDictionary<string, AccelTensor> input)
    {
        try
        {
            return session.Run(input);
        }
        catch (AccelSdkException e)
        {
            throw Refused(optimized, "runs", e);
        }
    }

    /// <summary>The rejection, naming the node (and its op) when ONNX Runtime's message names one.</summary>
    private static OptimizedModelRejectedException Refused(OptimizationResult optimized, string stage, Exception error)
    {
        var text = error.Message + " " + error.InnerException?.Message;
        var match = NodeInMessage().Match(text);
        var nodeName = match.Success ? match.Groups.Cast<Group>().Skip(1).First(g => g.Success).Value : null;
        var node = nodeName is null ? null : optimized.Model.Graph.Nodes.FirstOrDefault(n => n.Name == nodeName || n.Outputs.Contains(nodeName));
        var where = node is not null ? $"node '{nodeName}' ({node.OpType})" : nodeName is not null ? $"node '{nodeName}'" : "the model";
        return new OptimizedModelRejectedException(
            $"{optimized.Model.Label}: ONNX Runtime refuses {where} of the {optimized.Optimization} model when it {stage} it; nothing was written: {error.Message}",
            nodeName, node?.OpType, inner: error);
    }

    [GeneratedRegex(@"[Nn]ode \(([^)]*)\)|node with name '([^']*)'|node\. Name:'([^']*)'")]
    private static partial Regex NodeInMessage();
}
