using AccelSdk.Backends;
using AccelSdk.Ir;
using AccelSdk.Native;

namespace AccelSdk.OnnxRuntime;

public sealed partial class OrtBackend
{
    private static readonly HashSet<string> KnownDomains = new(StringComparer.Ordinal)
    {
        "", "ai.onnx", "ai.onnx.ml", "com.microsoft", "com.microsoft.nchwc", "com.microsoft.mlfeaturizers",
    };

    /// <summary>
    /// ONNX Runtime's kernel registry is not exposed through its C# API, so this answers by domain: the standard and
    /// Microsoft domains, model-local functions and the ops of AccelSdk's custom-op library (domain com.accelsdk) yes;
    /// the training domain and other custom domains no.
    /// Op-version gaps (ONNX Runtime has no kernels for some pre-opset-7 versions) surface when the partition
    /// compiles, as a <see cref="BackendException"/> carrying ONNX Runtime's message that names the node.
    /// </summary>
    public NodeSupport Supports(Device device, Node node, NodeContext context)
    {
        if (context.Model.Functions.Any(f => f.Name == node.OpType && f.Domain == node.Domain)) return NodeSupport.Yes;
        if (node.Domain == OrtCustomOps.Domain)
        {
            // AccelSdk's own custom-op library (libaccelsdk_ort_ops.so), registered at compile time when used.
            if (!OrtCustomOps.IsAvailable) return NodeSupport.No($"domain '{node.Domain}' needs {OrtCustomOps.UnavailableReason}");
            if (!OrtCustomOps.Implements(node.Domain, node.OpType))
                return NodeSupport.No($"libaccelsdk_ort_ops has no {node.OpType} (it has {string.Join(", ", OrtCustomOps.OperatorNames)})");
        }
        else if (!KnownDomains.Contains(node.Domain))
        {
            return NodeSupport.No($"domain '{node.Domain}' has no ONNX Runtime kernels (no custom op library registered for it)");
        }
        if (context.Model.OpsetOf(node.Domain) is null) return NodeSupport.No($"the model imports no opset for domain '{node.EffectiveDomain}'");
        return NodeSupport.Yes;
    }
}
