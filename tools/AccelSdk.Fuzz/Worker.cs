using System.Runtime.InteropServices;
using AccelSdk.Backends;
using AccelSdk.Execution;
using AccelSdk.Ir;
using AccelSdk.Onnx;
using AccelSdk.OnnxRuntime;
using AccelSdk.TfLite.Import;

namespace AccelSdk.Fuzz;

/// <summary>
/// The child process that checks mutants, one per line of standard input ("PATH TAB 0|1", 1: also compile and run):
/// import, shape inference, the capability query of every available CPU device, and when asked a compile plus one run
/// on ort-cpu (and tflite-cpu for .tflite files). It reports each stage before entering it, so when a native crash
/// kills it the supervisor knows where. Protocol lines start with <see cref="Prefix"/>; anything else a native library
/// prints is ignored.
/// </summary>
internal static class Worker
{
    public const string Prefix = "@@fuzz ";

    private static readonly Stream Out = Console.OpenStandardOutput();

    public static int Run(FuzzOptions options)
    {
        // Warnings go nowhere: the worker's standard output is the protocol and its standard error the crash report.
        using var runtime = new AccelRuntimeBuilder().AddOnnxRuntime().AddIlgpu().AddTfLite().Build();
        var devices = runtime.Backends
            .SelectMany(b => b.Devices.Where(d => d.IsAvailable && d.Kind == DeviceKind.Cpu).Select(d => (Backend: b, Device: d)))
            .ToArray();
        Send("ready " + string.Join(",", devices.Select(d => d.Device.Id)));
        while (Console.In.ReadLine() is { } line)
        {
            var parts = line.Split('\t');
            if (parts.Length != 2) return 2;
            Send("result " + Check(parts[0], parts[1] == "1", options, devices).ToJson());
        }
        return 0;
    }

    private static void Send(string line)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes("\n" + Prefix + line + "\n");
        Out.Write(bytes);
        Out.Flush();
    }

    private static string _stage = "";

    private static void Stage(string stage)
    {
        _stage = stage;
        Send("stage " + stage);
    }

    private static Outcome Check(string path, bool compile, FuzzOptions options, (IBackend Backend, Device Device)[] devices)
    {
        var imported = false;
        var runs = 0;
        try
        {
            Stage("import");
            if (options.InjectFault is not null) InjectFault(path, options.InjectFault);
            var model = options.Target == FuzzTarget.Onnx ? OnnxImporter.Load(path) : TfLiteImporter.Load(path);
            imported = true;
            Stage("shape inference");
            var types = ShapeInference.Infer(model);
            var runnable = new List<(IBackend Backend, Device Device)>();
            foreach (var (backend, device) in devices)
            {
                Stage($"capability {device.Id}");
                if (GraphPartitioner.Unsupported(model, backend, device, types).Count == 0) runnable.Add((backend, device));
            }
            if (compile)
            {
                foreach (var (backend, device) in runnable.Where(r => IsRunTarget(r.Device, options.Target)))
                {
                    if (CompileAndRun(model, backend, device)) runs++;
                }
            }
            return new Outcome { Kind = OutcomeKind.Ok, Stage = _stage, Imported = true, RunsCompleted = runs };
        }
        catch (AccelSdkException e)
        {
            return new Outcome { Kind = OutcomeKind.Rejected, Stage = _stage, ExceptionType = e.GetType().FullName, Message = e.Message, Imported = imported, RunsCompleted = runs };
        }
        catch (Exception e)
        {
            return Outcome.FromException(e, _stage, imported) with { RunsCompleted = runs };
        }
    }

    private static bool IsRunTarget(Device device, FuzzTarget target) =>
        device.Id == "ort-cpu" || target == FuzzTarget.TfLite && device.Id == "tflite-cpu";

    // A Loop whose condition stays true is a valid model that runs forever, in ONNX Runtime as here: the harness
    // stops it with ORT's run time limit (a typed BackendException) well inside the per-mutant hang timeout.
    private static readonly CompileOptions RunOptions = new()
    {
        Settings = new Dictionary<string, string> { [OrtBackend.RunTimeoutSetting] = "10000" },
    };

    /// <summary>Compiles the whole model for one device and runs it once; a typed refusal there is a clean answer.</summary>
    private static bool CompileAndRun(Model model, IBackend backend, Device device)
    {
        Stage($"compile {device.Id}");
        AccelSession session;
        try
        {
            session = new AccelSession(GraphPartitioner.WholeModel(model, backend, device), RunOptions);
        }
        catch (AccelSdkException)
        {
            return false;
        }
        using (session)
        {
            Stage($"run {device.Id}");
            try
            {
                session.Run(SampleInputs.Random(model));
                return true;
            }
            catch (AccelSdkException)
            {
                return false;
            }
        }
    }

    // A read through a wild pointer inside native code: the runtime cannot turn it into an exception, as with a real
    // crash in ONNX Runtime or TFLite.
    [DllImport("libc", EntryPoint = "strlen")]
    private static extern nint NativeStrlen(nint text);

    /// <summary>Test hook (<c>--inject-fault</c>): files whose name holds "inject-crash", "inject-hang" or "inject-untyped" misbehave so.</summary>
    private static void InjectFault(string path, string mode)
    {
        var name = Path.GetFileName(path);
        if (name.Contains("inject-crash", StringComparison.Ordinal)) NativeStrlen(16);
        if (name.Contains("inject-hang", StringComparison.Ordinal)) Thread.Sleep(Timeout.Infinite);
        if (name.Contains("inject-untyped", StringComparison.Ordinal)) throw new InvalidOperationException($"injected fault ({mode})");
    }
}
