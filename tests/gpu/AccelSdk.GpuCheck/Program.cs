using System.Globalization;
using AccelSdk;
using AccelSdk.GpuCheck;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;

const string Usage = """
    usage: AccelSdk.GpuCheck run --out DIR --device ID [--onnx-data DIR] [--expected FILE] [--resnet18 FILE]
                                 [--blazeface FILE ...] [--sizes N,N,...] [--runs N] [--items N] [--budget-s S]
                                 [--nvidia-smi DIR] [--torch-anchors FILE] [--stages S,S,...]
             runs issue 14's checks on ILGPU device ID (ilgpu-cuda:0 on a GPU machine, ilgpu-cpu to rehearse) and
             writes DIR/summary.md, DIR/results.json and one file or folder per stage; stages:
             devices, agreement, conformance, matmul, latency, autotune, throughput, direct-paths (default: all, in that order)
           AccelSdk.GpuCheck list-claimed DATA_ROOT --device ID
             prints suite/test of each ONNX node test whose every node ID claims (what prepare.sh packs)
    exit codes: 0 every check passed, 1 a check failed (summary.md names it), 2 usage error
    """;

try
{
    if (args.Length == 0 || args[0] is "-h" or "--help")
    {
        Console.WriteLine(Usage);
        return args.Length == 0 ? 2 : 0;
    }
    return args[0] switch
    {
        "run" => CheckRun.Execute(CheckOptions.Parse(args.Skip(1).ToArray())),
        "list-claimed" => ClaimedCases.Print(args.Skip(1).ToArray()),
        _ => throw new UsageException($"unknown command '{args[0]}'"),
    };
}
catch (UsageException e)
{
    Console.Error.WriteLine($"gpu-check: error: {e.Message}");
    Console.Error.WriteLine(Usage);
    return 2;
}
catch (AccelSdkException e)
{
    Console.Error.WriteLine($"gpu-check: error: {e.Message.ReplaceLineEndings(" ")}");
    return 1;
}
