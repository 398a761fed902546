using AccelSdk.Backends;
using AccelSdk.Ir;

namespace AccelSdk.OnnxRuntime;

public sealed partial class OrtBackend
{
    private static readonly HashSet<string> KnownDomains = new(StringComparer.Ordinal)
    {
        "", "ai.onnx", "ai.onnx.ml", "com.microsoft", "com.microsoft.nchwc", "com.microsoft.mlfeaturizers",
    };

    /// <summary>
    /// ONNX Runtime's kernel registry is not exposed through its C# API, so this answers by domain: the standard and
    /// Microsoft domains and model-local functions yes; the training domain and unregistered custom domains no.
    /// Op-version gaps (ONNX Runtime has no kernels for some pre-opset-7 versions) surface when the partition
    /// compiles, as a <see cref="BackendException"/> carrying ONNX Runtime's message that names the node.
    /// </summary>
    public NodeSupport Supports(Device device, Node node, NodeContext context)
    {
        if (context.Model.Functions.Any(f => f.Name == node.OpType && f.Domain == node.Domain)) return NodeSupport.Yes;
        if (!KnownDomains.Contains(node.Domain))
        {
            return NodeSupport.No($"domain '{node.Domain}' has no ONNX Runtime kernels (no custom op library registered for it)");
        }
        if (context.Model.OpsetOf(node.Domain) is null) return NodeSupport.No($"the model imports no opset for domain '{node.EffectiveDomain}'");
        return NodeSupport.Yes;
    }
}
