using AccelSdk.Backends;
using AccelSdk.Ir;
using AccelSdk.Native;

namespace AccelSdk.OnnxRuntime;

public sealed partial class OrtBackend
{
    private readonly NodeProbe _nodeProbe;

    internal NodeProbe NodeProbeForTests => _nodeProbe;

    private static readonly HashSet<string> KnownDomains = new(StringComparer.Ordinal)
    {
        "", "ai.onnx", "ai.onnx.ml", "com.microsoft", "com.microsoft.nchwc", "com.microsoft.mlfeaturizers",
    };

    /// <summary>
    /// Answers from what ONNX Runtime itself does with the node: a one-node model of the node's signature (see
    /// <see cref="NodeProbe"/>) is compiled on the device, with <c>session.disable_cpu_ep_fallback=1</c> on any provider
    /// other than the CPU's, so a node ORT would silently move to its CPU fallback is not supported there; a node ORT
    /// cannot build (no kernel for its types, a bad attribute) is refused with ORT's message. Answers are cached per
    /// device and signature. Checks that need no ORT come first: AccelSdk's custom-op library and the domains ORT has
    /// no kernels for.
    /// </summary>
    public NodeSupport Supports(Device device, Node node, NodeContext context)
    {
        if (node.Domain == OrtCustomOps.Domain)
        {
            // AccelSdk's own custom-op library (libaccelsdk_ort_ops.so), registered at compile time when used.
            if (!OrtCustomOps.IsAvailable) return NodeSupport.No($"domain '{node.Domain}' needs {OrtCustomOps.UnavailableReason}");
            if (!OrtCustomOps.Implements(node.Domain, node.OpType))
                return NodeSupport.No($"libaccelsdk_ort_ops has no {node.OpType} (it has {string.Join(", ", OrtCustomOps.OperatorNames)})");
        }
        else if (!KnownDomains.Contains(node.Domain) && !context.Model.Functions.Any(f => f.Name == node.OpType && f.Domain == node.Domain))
        {
            return NodeSupport.No($"domain '{node.Domain}' has no ONNX Runtime kernels (no custom op library registered for it)");
        }
        if (context.Model.OpsetOf(node.Domain) is null) return NodeSupport.No($"the model imports no opset for domain '{node.EffectiveDomain}'");
        if (OmittedVariadicInput(node) is { } omitted) return NodeSupport.No(omitted);
        return _nodeProbe.Supports(device, node, context);
    }

    /// <summary>
    /// True when <paramref name="node"/> or a node of its subgraphs is a LayerNormalization without its optional bias.
    /// ONNX Runtime 1.31's extended graph optimisations read that missing input and kill the process (SIGSEGV) while
    /// the session is created, so such partitions are compiled with basic optimisations only.
    /// </summary>
    internal static bool OmitsLayerNormalizationBias(Node node) =>
        (node.OpType == "LayerNormalization" && node.Domain is "" or "ai.onnx" && (node.Inputs.Count < 3 || node.Inputs[2].Length == 0))
        || node.Subgraphs.Any(g => g.Nodes.Any(OmitsLayerNormalizationBias));

    /// <summary>Default-domain ops whose inputs are all one variadic list, none of which may be omitted.</summary>
    private static readonly HashSet<string> VariadicOnly = new(StringComparer.Ordinal)
    {
        "Max", "Min", "Sum", "Mean", "Concat", "Einsum", "SequenceConstruct",
    };

    /// <summary>
    /// Why <paramref name="node"/> or a node of its subgraphs omits (names as "") an input of a variadic list, or null.
    /// ONNX allows omitting optional inputs only; ONNX Runtime 1.31's Max, Min, Sum, Mean and Einsum kernels
    /// dereference the missing tensor and kill the process (SIGSEGV), so such a node is refused before it gets there.
    /// </summary>
    internal static string? OmittedVariadicInput(Node node)
    {
        if (node.Domain is "" or "ai.onnx" && VariadicOnly.Contains(node.OpType))
        {
            var empty = node.Inputs.FindIndex(i => i.Length == 0);
            if (empty >= 0) return $"{node.Describe()}: input #{empty} is empty, but the inputs of {node.OpType} are one variadic list that cannot omit any";
        }
        foreach (var g in node.Subgraphs)
        {
            foreach (var inner in g.Nodes)
            {
                if (OmittedVariadicInput(inner) is { } why) return why;
            }
        }
        return null;
    }
}
