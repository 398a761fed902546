using System.Diagnostics.CodeAnalysis;

namespace AccelSdk.Ir;

/// <summary>A model-local function (ONNX <c>FunctionProto</c>).</summary>
public sealed class FunctionDef
{
    /// <summary>Function name (the op type callers use).</summary>
    public string Name { get; set; } = "";

    /// <summary>Function domain.</summary>
    public string Domain { get; set; } = "";

    /// <summary>Formal input names.</summary>
    public List<string> Inputs { get; } = new();

    /// <summary>Formal output names.</summary>
    public List<string> Outputs { get; } = new();

    /// <summary>Attribute names the function accepts.</summary>
    public List<string> AttributeNames { get; } = new();

    /// <summary>Body nodes.</summary>
    public List<Node> Nodes { get; } = new();

    /// <summary>Opsets the body uses.</summary>
    public Dictionary<string, long> OpsetImports { get; } = new();

    /// <summary>Documentation string.</summary>
    public string? DocString { get; set; }
}

/// <summary>A whole model: a main graph plus the opsets, functions and metadata needed to run it (ONNX <c>ModelProto</c>).</summary>
public sealed class Model
{
    /// <summary>Creates a model around a graph.</summary>
    public Model(Graph graph) => Graph = graph;

    /// <summary>The main graph.</summary>
    public Graph Graph { get; set; }

    /// <summary>ONNX IR version of the file this came from (written back on export).</summary>
    public long IrVersion { get; set; } = 8;

    /// <summary>Opset version per domain; the default domain is the empty string.</summary>
    public Dictionary<string, long> OpsetImports { get; } = new();

    /// <summary>Model-local functions.</summary>
    public List<FunctionDef> Functions { get; } = new();

    /// <summary>Producer name.</summary>
    public string ProducerName { get; set; } = "";

    /// <summary>Producer version.</summary>
    public string ProducerVersion { get; set; } = "";

    /// <summary>Model domain.</summary>
    public string Domain { get; set; } = "";

    /// <summary>Model version.</summary>
    public long ModelVersion { get; set; }

    /// <summary>Documentation string.</summary>
    public string? DocString { get; set; }

    /// <summary>Free-form metadata.</summary>
    public List<KeyValuePair<string, string>> MetadataProps { get; } = new();

    /// <summary>Where the model was loaded from, for messages; null for models built in code.</summary>
    public string? SourcePath { get; set; }

    /// <summary>The opset version of <paramref name="domain"/> (empty or ai.onnx for the default), or null when not imported.</summary>
    public long? OpsetOf(string domain)
    {
        if (domain == "ai.onnx") domain = "";
        if (OpsetImports.TryGetValue(domain, out var v)) return v;
        if (domain.Length == 0 && OpsetImports.TryGetValue("ai.onnx", out v)) return v;
        return null;
    }

    /// <summary>A short label for messages: the file name, or the graph name.</summary>
    public string Label => SourcePath is not null ? Path.GetFileName(SourcePath) : (Graph.Name.Length > 0 ? Graph.Name : "<in-memory model>");

    /// <summary>
    /// A copy sharing this model's nodes and weights whose graph inputs are declared at the concrete shapes of
    /// <paramref name="inputs"/> (inputs not given keep their declarations), for shape inference of one run. Without
    /// <paramref name="keepDeclaredValues"/> the copy drops the declared intermediate and output types, so inference
    /// sizes every value from the inputs alone (a file's declarations can be stale).
    /// </summary>
    public Model WithInputShapes(IReadOnlyDictionary<string, AccelTensor> inputs, bool keepDeclaredValues = true)
    {
        var specialised = new Graph { Name = Graph.Name };
        specialised.Nodes.AddRange(Graph.Nodes);
        specialised.Initializers.AddRange(Graph.Initializers);
        specialised.SparseInitializers.AddRange(Graph.SparseInitializers);
        if (keepDeclaredValues) specialised.ValueInfos.AddRange(Graph.ValueInfos);
        specialised.Outputs.AddRange(keepDeclaredValues ? Graph.Outputs : Graph.Outputs.Select(o => new ValueInfo(o.Name, null)));
        specialised.Inputs.AddRange(Graph.Inputs.Select(i => inputs.TryGetValue(i.Name, out var t) ? new ValueInfo(i.Name, t.TensorType) : i));
        var copy = new Model(specialised) { IrVersion = IrVersion, SourcePath = SourcePath };
        foreach (var (domain, version) in OpsetImports) copy.OpsetImports[domain] = version;
        copy.Functions.AddRange(Functions);
        return copy;
    }

    /// <summary>Loads a model file with the format registered for its content (ONNX, TFLite, ...).</summary>
    [RequiresUnreferencedCode(ExtensionDiscovery.TrimMessage)]
    [RequiresDynamicCode(ExtensionDiscovery.TrimMessage)]
    public static Model Load(string path) => ModelFormats.Load(path);
}
