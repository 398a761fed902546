using AccelSdk.Autotune.Placement;
using AccelSdk.Backends;
using AccelSdk.Execution;
using AccelSdk.Ir;

namespace AccelSdk.Autotune.Profiling;

/// <summary>
/// Runs the model once with the sample inputs and keeps every intermediate value, so each node is later timed with
/// its real inputs (real shapes for data-dependent ops, real indices for gathers) and cut edges get concrete types.
/// </summary>
internal static class ValueCapture
{
    /// <summary>
    /// Every value the run produced (graph inputs included), by name. <paramref name="placements"/> must place every
    /// node on a device that supports it.
    /// </summary>
    public static Dictionary<string, AccelTensor> Run(Model model, IReadOnlyDictionary<string, AccelTensor> inputs,
        IReadOnlyList<Execution.Placement> placements, IReadOnlyDictionary<string, Ir.ValueType> types, CompileOptions options)
    {
        var source = model.Graph;
        var graph = new Graph { Name = source.Name, DocString = source.DocString };
        graph.Nodes.AddRange(source.Nodes);
        graph.Inputs.AddRange(source.Inputs);
        graph.Initializers.AddRange(source.Initializers);
        graph.SparseInitializers.AddRange(source.SparseInitializers);
        graph.Outputs.AddRange(source.Outputs);
        var outputs = source.Outputs.Select(o => o.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var node in source.Nodes)
        {
            foreach (var output in node.Outputs)
            {
                if (output.Length == 0 || !outputs.Add(output)) continue;
                if (types.GetValueOrDefault(output) is TensorType t) graph.Outputs.Add(new ValueInfo(output, t));
            }
        }
        graph.ValueInfos.AddRange(source.ValueInfos.Where(v => !outputs.Contains(v.Name)));
        var capture = new Model(graph) { IrVersion = model.IrVersion, SourcePath = model.SourcePath, ProducerName = model.ProducerName };
        foreach (var kv in model.OpsetImports) capture.OpsetImports[kv.Key] = kv.Value;
        capture.Functions.AddRange(model.Functions);

        using var session = new AccelSession(PlanBuilder.Build(capture, placements, types), options);
        var result = session.Run(inputs);
        var values = new Dictionary<string, AccelTensor>(StringComparer.Ordinal);
        foreach (var kv in inputs) values[kv.Key] = kv.Value;
        for (var i = 0; i < result.Count; i++) values[result.Names[i]] = result[i];
        return values;
    }
}
