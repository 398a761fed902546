using System.Collections.Concurrent;
using System.Diagnostics;

namespace AccelSdk.Fuzz;

/// <summary>
/// Starts and restarts the worker (this same program with <c>--worker</c>) and asks it about one mutant at a time. A
/// worker that dies is a native crash of the mutant it was checking; one that overruns the timeout is killed and is a
/// hang. Workers run under <c>prlimit</c> with a cap on address space and a GC heap limit, so a mutant that asks for
/// gigabytes fails inside the worker instead of starving the machine.
/// </summary>
internal sealed class WorkerProcess : IDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(180);
    private const long AddressSpaceBytes = 8L << 30;
    private const string GcHeapLimitHex = "0xC0000000";

    private readonly FuzzOptions _options;
    private readonly string _host;
    private readonly string _program;
    private Process? _process;
    private BlockingCollection<string>? _lines;
    private readonly ConcurrentQueue<string> _stderrTail = new();

    public WorkerProcess(FuzzOptions options, string repoRoot)
    {
        _options = options;
        _program = Path.Combine(AppContext.BaseDirectory, "AccelSdk.Fuzz.dll");
        _host = options.WorkerHost ?? DefaultHost(repoRoot);
    }

    /// <summary>The devices the running worker checks, as it reported them when it started.</summary>
    public string Devices { get; private set; } = "";

    /// <summary>How many workers were started (1 + restarts after crashes and hangs).</summary>
    public int Starts { get; private set; }

    /// <summary>The patched host that makes TFLite loadable (scripts/setup-tflite.sh) when present, else this process's dotnet.</summary>
    public static string DefaultHost(string repoRoot)
    {
        var patched = Path.Combine(repoRoot, ".tflite-runtime", "dotnet");
        if (File.Exists(patched)) return patched;
        var current = Environment.ProcessPath;
        return current is not null && Path.GetFileNameWithoutExtension(current) == "dotnet" ? current : "dotnet";
    }

    /// <summary>Checks one mutant file; never throws for anything the mutant does.</summary>
    public Outcome Check(string mutantPath, bool compile, TimeSpan timeout)
    {
        EnsureStarted();
        var lines = _lines!;
        var stage = "sending the mutant";
        try
        {
            _process!.StandardInput.WriteLine($"{mutantPath}\t{(compile ? 1 : 0)}");
            _process.StandardInput.Flush();
        }
        catch (IOException)
        {
            // The worker died after its last answer (a native thread crashing late): charge it to this mutant's start.
            return Died(stage);
        }
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var left = timeout - deadline.Elapsed;
            if (left <= TimeSpan.Zero)
            {
                Kill();
                return new Outcome { Kind = OutcomeKind.Hang, Stage = stage, Message = $"no answer within {timeout.TotalSeconds:0} s" };
            }
            if (!lines.TryTake(out var line, left))
            {
                if (lines.IsCompleted) return Died(stage);
                continue;
            }
            if (line.StartsWith("stage ", StringComparison.Ordinal)) stage = line["stage ".Length..];
            else if (line.StartsWith("result ", StringComparison.Ordinal)) return Outcome.FromJson(line["result ".Length..]);
        }
    }

    private Outcome Died(string stage)
    {
        var process = _process!;
        // Without a timeout, WaitForExit also waits for the redirected streams to drain: the stderr tail is complete.
        if (process.WaitForExit(5000)) process.WaitForExit();
        var code = process.HasExited ? process.ExitCode : -1;
        var tail = string.Join("\n", _stderrTail);
        _process = null;
        process.Dispose();
        var cause = code > 128 ? $"signal {code - 128}" : $"exit code {code}";
        return new Outcome { Kind = OutcomeKind.Crash, Stage = stage, Message = cause, StackTrace = tail };
    }

    private void EnsureStarted()
    {
        if (_process is { HasExited: false }) return;
        _process?.Dispose();
        var info = new ProcessStartInfo("prlimit")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add($"--as={AddressSpaceBytes}");
        info.ArgumentList.Add("--");
        info.ArgumentList.Add(_host);
        info.ArgumentList.Add(_program);
        foreach (var arg in _options.WorkerArguments()) info.ArgumentList.Add(arg);
        info.Environment["DOTNET_GCHeapHardLimit"] = GcHeapLimitHex;
        // Signatures name the top AccelSdk frame; profile-guided inlining at tier 1 would fold a throwing helper into
        // its caller after a few hundred mutants and split one bug into two signatures.
        info.Environment["DOTNET_TieredPGO"] = "0";
        info.Environment["DOTNET_JitNoInline"] = "1";
        var process = Process.Start(info) ?? throw new InvalidOperationException($"cannot start the worker: {_host} {_program}");
        Starts++;
        var lines = new BlockingCollection<string>();
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null) lines.CompleteAdding();
            else if (e.Data.StartsWith(Worker.Prefix, StringComparison.Ordinal)) lines.Add(e.Data[Worker.Prefix.Length..]);
        };
        _stderrTail.Clear();
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            _stderrTail.Enqueue(e.Data);
            while (_stderrTail.Count > 40) _stderrTail.TryDequeue(out string? _);
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;
        _lines = lines;
        if (!lines.TryTake(out var ready, StartTimeout) || !ready.StartsWith("ready", StringComparison.Ordinal))
        {
            Kill();
            throw new InvalidOperationException($"the worker ({_host} {_program}) did not start: {string.Join(" | ", _stderrTail)}");
        }
        Devices = ready["ready".Length..].Trim();
    }

    private void Kill()
    {
        if (_process is null) return;
        try
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10000);
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
        _process.Dispose();
        _process = null;
    }

    public void Dispose()
    {
        if (_process is { HasExited: false })
        {
            _process.StandardInput.Close();
            if (!_process.WaitForExit(5000)) Kill();
        }
        _process?.Dispose();
        _process = null;
    }
}
