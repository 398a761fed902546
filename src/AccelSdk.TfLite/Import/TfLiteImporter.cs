using AccelSdk.Ir;

namespace AccelSdk.TfLite.Import;

/// <summary>
/// Imports a <c>.tflite</c> flatbuffer into the IR (ONNX operator semantics, opset <see cref="Opset"/>). Activations keep
/// TFLite's NHWC layout; layout-sensitive ops (convolutions, pooling, resize, depth-to-space) are wrapped in transposes
/// to ONNX's NCHW and their weights are re-laid out at import time. Quantized tensors are dequantized around each op
/// (QDQ form), fp16 and int8 constants are dequantized at import, sparse constants are densified.
/// Ops with no IR form are kept as nodes of domain <see cref="CustomDomain"/> named after the TFLite op, so the model
/// still loads, the TFLite backend still runs it whole, and other backends name those ops when they refuse them.
/// </summary>
public static partial class TfLiteImporter
{
    /// <summary>
    /// One resource variable of an imported streaming model: its state input, state output (empty when the model only
    /// reads it) and initial value.
    /// </summary>
    public sealed record StateVariable(string Input, string Output, AccelTensor? Initial);

    /// <summary>The ONNX opset the imported graph uses.</summary>
    public const long Opset = 17;

    /// <summary>Domain of nodes kept as TFLite ops (no IR form).</summary>
    public const string CustomDomain = "ai.accelsdk.tflite";

    /// <summary>Metadata key holding the source <c>.tflite</c> path (the TFLite backend runs that file).</summary>
    public const string SourceMetadataKey = "accelsdk.tflite.source";

    /// <summary>Metadata key holding the number of IR nodes the import produced (the TFLite backend runs whole models only).</summary>
    public const string NodeCountMetadataKey = "accelsdk.tflite.nodes";

    /// <summary>
    /// Metadata key pairing the graph inputs and outputs that carry resource-variable state (streaming models): one line
    /// per variable, "input TAB output (empty when only read) TAB initializer holding the initial value (empty when none)".
    /// See <see cref="StateVariables"/>.
    /// </summary>
    public const string StateMetadataKey = "accelsdk.tflite.state";

    /// <summary>
    /// The state a model imported from a <c>.tflite</c> with resource variables carries from run to run: per variable, the
    /// graph input that takes its value, the graph output that gives its value after the run (empty for a variable the
    /// model only reads), and its initial value (what
    /// CALL_ONCE assigns; null when the model assigns none). Empty for stateless models. <see cref="StatefulSession"/>
    /// threads them.
    /// </summary>
    public static IReadOnlyList<StateVariable> StateVariables(Model model)
    {
        var entry = model.MetadataProps.FirstOrDefault(p => p.Key == StateMetadataKey).Value;
        if (string.IsNullOrEmpty(entry)) return Array.Empty<StateVariable>();
        return entry.Split('\n').Select(line =>
        {
            var parts = line.Split('\t');
            if (parts.Length != 3) throw new InvalidModelException($"{model.Label}: malformed {StateMetadataKey} entry '{line}'");
            var initial = parts[2].Length == 0 ? null
                : model.Graph.FindInitializer(parts[2]) ?? throw new InvalidModelException($"{model.Label}: state initializer '{parts[2]}' is missing");
            return new StateVariable(parts[0], parts[1], initial?.WithName(parts[0]));
        }).ToArray();
    }

    /// <summary>Loads and imports <paramref name="path"/>.</summary>
    public static Model Load(string path)
    {
        return Import(ModelFormats.ReadAllBytes(path), path);
    }

    /// <summary>Imports a flatbuffer; <paramref name="sourcePath"/> (when the bytes are a file) lets the TFLite backend run it.</summary>
    public static Model Import(byte[] bytes, string sourcePath)
    {
        // Every index, size and vector the conversion reads is checked here once, so the conversion can use them as is.
        TfLiteValidator.Validate(bytes, sourcePath);
        try
        {
            var context = new ImportContext(bytes, sourcePath);
            return context.Run();
        }
        catch (FlatBufferException e)
        {
            throw new ModelLoadException(sourcePath, "corrupt or truncated flatbuffer: " + e.Message, e);
        }
        catch (OverflowException e)
        {
            throw new ModelLoadException(sourcePath, "corrupt flatbuffer: a size or offset overflows", e);
        }
    }
}
