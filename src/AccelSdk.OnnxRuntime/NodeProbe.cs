using System.Collections.Concurrent;
using AccelSdk.Backends;
using AccelSdk.Ir;
using AccelSdk.Native;
using AccelSdk.Onnx;
using Microsoft.ML.OnnxRuntime;

namespace AccelSdk.OnnxRuntime;

/// <summary>
/// Asks ONNX Runtime whether it places a node on a device: the node alone in a model (its op, domain, attributes and
/// subgraphs; the model's opsets and functions, upgraded to opset 7 as a partition would be; each input as a graph input
/// of its element type and shape as known, except small initializers, which keep their values since kernels and shape
/// inference may read them) is compiled on the device with graph optimisations off and, on any provider other than
/// the CPU's, <c>session.disable_cpu_ep_fallback=1</c>. Shapes stay in the signature because ORT's shape inference
/// checks some of them when the session is built (an empty <c>scales</c> of Resize, StringNormalizer's [1,C]). The
/// exported one-node model, with canonical value and node names, is the signature: answers are cached per device and
/// its content hash, so nodes of the same op, attributes, types and shapes share one session build.
/// </summary>
internal sealed class NodeProbe(OrtBackend backend)
{
    /// <summary>Initializers up to this size keep their values in the one-node model (shape inputs, scales, axes).</summary>
    internal const long InlinedInitializerBytes = 4096;

    private const string DisableCpuFallbackKey = "session.disable_cpu_ep_fallback";

    /// <summary>The probe node's name; ORT's messages about it are given back with the asking node's own name.</summary>
    private const string ProbeNodeName = "accelsdk_probe";

    /// <summary>Per device and signature: null when ORT places the node, else ORT's message about the probe node.</summary>
    private readonly ConcurrentDictionary<string, Lazy<string?>> _answers = new(StringComparer.Ordinal);
    private long _sessionsBuilt;

    /// <summary>How many one-node sessions were built (cache misses), for tests and the bench.</summary>
    public long SessionsBuilt => Interlocked.Read(ref _sessionsBuilt);

    public NodeSupport Supports(Device device, Node node, NodeContext context)
    {
        var isCpuProvider = device.Properties.GetValueOrDefault("execution_provider") == "CPUExecutionProvider";
        byte[] bytes;
        try
        {
            if (OneNodeModel(node, context) is not { } model)
            {
                // Without every input's type ORT cannot be asked. The CPU provider has kernels for every standard op and
                // any gap surfaces when the partition compiles, naming the node; another provider is not assumed to.
                return isCpuProvider
                    ? NodeSupport.Yes
                    : NodeSupport.No($"{node.Describe()}: an input's type is unknown, so ONNX Runtime cannot be asked whether {device.Id} places it");
            }
            bytes = OnnxExporter.ToBytes(backend.RunnableOpset(model));
        }
        catch (BackendException e)
        {
            return NodeSupport.No(e.Message);
        }
        catch (Exception e) when (e is AccelSdkException or ArgumentException or InvalidOperationException)
        {
            return NodeSupport.No($"{node.Describe()} cannot be written as a one-node ONNX model: {e.Message}");
        }
        var key = device.Id + "|" + Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(bytes));
        var usesCustomOps = node.Domain == OrtCustomOps.Domain;
        var refusal = _answers.GetOrAdd(key, _ => new Lazy<string?>(() => Ask(device, bytes, isCpuProvider, usesCustomOps))).Value;
        if (refusal is null) return NodeSupport.Yes;
        var message = refusal.Replace(ProbeNodeName, node.Name, StringComparison.Ordinal);
        return NodeSupport.No(isCpuProvider
            ? $"ONNX Runtime cannot build {node.Describe()} on {device.Id}: {message}"
            : $"ONNX Runtime would not place {node.Describe()} on {device.Id} (its CPU fallback or no kernel): {message}");
    }

    private string? Ask(Device device, byte[] bytes, bool isCpuProvider, bool usesCustomOps)
    {
        Interlocked.Increment(ref _sessionsBuilt);
        SessionOptions so;
        try
        {
            so = backend.CreateSessionOptions(device, new CompileOptions { IntraOpThreads = 1 });
        }
        catch (BackendException e)
        {
            return e.Message;
        }
        using (so)
        {
            so.GraphOptimizationLevel = GraphOptimizationLevel.ORT_DISABLE_ALL;
            if (!isCpuProvider) so.AddSessionConfigEntry(DisableCpuFallbackKey, "1");
            if (usesCustomOps) so.RegisterCustomOpLibrary(OrtCustomOps.LibraryPath);
            try
            {
                using var session = new InferenceSession(bytes, so);
                return null;
            }
            catch (OnnxRuntimeException e)
            {
                return OrtBackend.FirstLine(e.Message);
            }
        }
    }

    /// <summary>The node alone in a model, or null when an input's type is unknown.</summary>
    internal static Model? OneNodeModel(Node node, NodeContext context)
    {
        var source = context.Model.Graph;
        var graph = new Graph { Name = "node" };
        var renamed = new Dictionary<string, string>(StringComparer.Ordinal);
        var inputs = new List<string>(node.Inputs.Count);
        for (var i = 0; i < node.Inputs.Count; i++)
        {
            var name = node.Inputs[i];
            if (name.Length == 0)
            {
                inputs.Add("");
                continue;
            }
            if (!renamed.TryGetValue(name, out var local))
            {
                local = $"accelsdk_in{renamed.Count}";
                renamed[name] = local;
                if (SmallConstant(source, name) is { } constant)
                {
                    var producer = new Node("Constant", [], [local], $"const_{local}", constant.Domain);
                    producer.Attributes.AddRange(constant.Attributes);
                    graph.Nodes.Add(producer);
                }
                else if (!AddInput(graph, source, context, name, local))
                {
                    return null;
                }
            }
            inputs.Add(local);
        }
        // Values the subgraphs capture from the outer scope keep their names (the subgraphs refer to them).
        foreach (var captured in node.Subgraphs.SelectMany(g => g.OuterScopeReferences()).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
        {
            if (!AddInput(graph, source, context, captured, captured)) return null;
        }
        var outputs = node.Outputs.Select((o, j) => o.Length == 0 ? "" : $"accelsdk_out{j}").ToList();
        for (var j = 0; j < node.Outputs.Count; j++)
        {
            // Declared without a type: ORT infers it, so an imprecise inference of ours cannot make it refuse the node.
            if (outputs[j].Length > 0) graph.Outputs.Add(new ValueInfo(outputs[j], null));
        }
        var copy = new Node(node.OpType, inputs, outputs, ProbeNodeName, node.Domain);
        copy.Attributes.AddRange(node.Attributes);
        graph.Nodes.Add(copy);
        var model = new Model(graph) { IrVersion = context.Model.IrVersion };
        foreach (var (domain, version) in context.Model.OpsetImports) model.OpsetImports[domain] = version;
        if (context.Model.Functions.Any(f => f.Name == node.OpType && f.Domain == node.Domain)) model.Functions.AddRange(context.Model.Functions);
        return model;
    }

    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<Graph, Dictionary<string, Node>> ConstantProducers = new();

    /// <summary>
    /// The Constant node that makes <paramref name="name"/>, when its value is small: ORT turns Constant nodes into
    /// initializers when it loads a model, and its shape inference reads them (an empty <c>scales</c> of Resize).
    /// </summary>
    private static Node? SmallConstant(Graph source, string name)
    {
        var producers = ConstantProducers.GetValue(source, static g => g.Nodes
            .Where(n => n.OpType == "Constant" && n.Domain is "" or "ai.onnx")
            .SelectMany(n => n.Outputs.Take(1).Select(o => (Output: o, Node: n)))
            .GroupBy(p => p.Output, StringComparer.Ordinal)
            .ToDictionary(p => p.Key, p => p.First().Node, StringComparer.Ordinal));
        if (!producers.TryGetValue(name, out var constant)) return null;
        return constant.Attribute("value") is { Kind: AttributeKind.Tensor } value && value.AsTensor().ByteLength > InlinedInitializerBytes ? null : constant;
    }

    private static bool AddInput(Graph graph, Graph source, NodeContext context, string name, string local)
    {
        if (source.FindInitializer(name) is { } initializer)
        {
            if (initializer.ByteLength <= InlinedInitializerBytes)
            {
                graph.Initializers.Add(initializer.WithName(local));
                return true;
            }
            graph.Inputs.Add(new ValueInfo(local, new TensorType(initializer.ElementType, new TensorShape(initializer.ShapeArray))));
            return true;
        }
        if (!context.Types.TryGetValue(name, out var type) || type is null) return false;
        graph.Inputs.Add(new ValueInfo(local, type));
        return true;
    }
}
