using System.CommandLine;
using AccelSdk.Ir;
using AccelSdk.Onnx;

namespace AccelSdk.Cli;

/// <summary><c>accelsdk convert MODEL OUT.onnx</c>: writes a .tflite or .onnx model as an ONNX model plain ONNX Runtime runs.</summary>
internal static class ConvertCommand
{
    public static Command Create()
    {
        var input = CliOptions.PathArgument("MODEL", PathKind.ExistingFile, "the model to convert (.tflite or .onnx)");
        var output = CliOptions.PathArgument("OUT.onnx", PathKind.OutputFile, "the ONNX file to write");
        var command = new Command("convert", "write MODEL (.tflite or .onnx) as an ONNX model plain ONNX Runtime runs") { input, output };
        command.Validators.Add(result =>
        {
            if (CommandChecks.SamePath(result, input, output)) result.AddError($"OUT.onnx is the input model; write the converted model to another file");
        });
        command.SetAction(parse => Convert(parse.GetRequiredValue(input), parse.GetRequiredValue(output)));
        return command;
    }

    private static int Convert(string input, string output)
    {
        var bytes = input.EndsWith(".tflite", StringComparison.OrdinalIgnoreCase)
            ? AccelSdk.TfLite.Import.TfLiteConverter.ToOnnxBytes(input)
            : OnnxExporter.ToBytes(CliRuntime.Instance.LoadModel(input));
        File.WriteAllBytes(output, bytes);
        Console.WriteLine($"{Path.GetFileName(input)} -> {output} ({bytes.Length} bytes)");
        return ExitCodes.Success;
    }
}
