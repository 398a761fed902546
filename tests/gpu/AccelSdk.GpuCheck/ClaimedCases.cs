using AccelSdk.Backends;
using AccelSdk.Execution;
using AccelSdk.Ir;
using AccelSdk.Onnx;

namespace AccelSdk.GpuCheck;

/// <summary>
/// <c>list-claimed DATA_ROOT --device ID</c>: the ONNX node tests whose every node the device claims (tensor I/O only),
/// the same rule as the ILGPU conformance tests, so prepare.sh packs exactly the cases the GPU run can execute.
/// </summary>
internal static class ClaimedCases
{
    public static int Print(IReadOnlyList<string> args)
    {
        if (args.Count != 3 || args[1] != "--device") throw new UsageException("list-claimed takes DATA_ROOT --device ID");
        var nodeRoot = Path.Combine(args[0], "node");
        if (!Directory.Exists(nodeRoot)) throw new AccelSdkException($"{nodeRoot}: no ONNX node tests there (Debian's libonnx-testdata installs them under /usr/share/libonnx-testdata/data)");
        var (backend, device) = GpuCheckRuntime.Instance.Resolve(args[2]);
        foreach (var dir in Directory.GetDirectories(nodeRoot).Order(StringComparer.Ordinal))
        {
            if (IsClaimed(dir, backend, device)) Console.WriteLine("node/" + Path.GetFileName(dir));
        }
        return 0;
    }

    private static bool IsClaimed(string caseDir, IBackend backend, Device device)
    {
        try
        {
            var model = OnnxImporter.Load(Path.Combine(caseDir, "model.onnx"));
            if (model.Graph.FirstNonTensorInputOrOutput() is not null) return false;
            return GraphPartitioner.Unsupported(model, backend, device).Count == 0;
        }
        catch (AccelSdkException)
        {
            return false;
        }
    }
}
