using AccelSdk.Ir;
using AccelSdk.Onnx;

namespace AccelSdk.Cli;

/// <summary>Reads the <c>--input</c> files of a command, refusing more files than the model has inputs.</summary>
internal static class CommandInputs
{
    /// <summary>The inputs of <paramref name="model"/> from <paramref name="files"/>, or null when none are given.</summary>
    public static Dictionary<string, AccelTensor>? ReadOrNull(Model model, IReadOnlyList<string> files) =>
        files.Count == 0 ? null : Read(model, files);

    /// <summary>The inputs of <paramref name="model"/> from <paramref name="files"/> (in graph input order, or by the name each file carries).</summary>
    public static Dictionary<string, AccelTensor> Read(Model model, IReadOnlyList<string> files)
    {
        var declared = model.Graph.Inputs.Count;
        if (files.Count > declared)
        {
            throw new InputMismatchException(Path.GetFileName(files[declared]), $"{model.Label} takes {Takes(model)}, {files.Count} --input files given");
        }
        var inputs = OnnxTensors.ReadInputs(model, files);
        if (inputs.Count < files.Count)
        {
            throw new InputMismatchException(string.Join(", ", inputs.Keys),
                $"{files.Count} --input files given but they fill only {inputs.Count} of the {Takes(model)} of {model.Label}: two files name the same input");
        }
        return inputs;
    }

    private static string Takes(Model model)
    {
        var required = model.Graph.RequiredInputs.Count();
        var declared = model.Graph.Inputs.Count;
        return required == declared ? $"{declared} input(s)" : $"{required} input(s) ({declared} counting optional ones)";
    }
}
