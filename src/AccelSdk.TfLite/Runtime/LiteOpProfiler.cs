using System.Diagnostics;
using System.Runtime.InteropServices;
using AccelSdk.TfLite.Native;

namespace AccelSdk.TfLite;

/// <summary>Time spent in one TFLite operator over the runs since the last reset.</summary>
/// <param name="Subgraph">Subgraph index (0 is the main graph).</param>
/// <param name="OpIndex">Operator index in its subgraph; imported IR nodes are named <c>{Op}_{OpIndex}/...</c>.</param>
/// <param name="Op">TFLite's name for the op (e.g. CONV_2D).</param>
/// <param name="Invocations">How many times it ran.</param>
/// <param name="Total">Total time inside the op.</param>
public sealed record LiteOpTiming(int Subgraph, int OpIndex, string Op, int Invocations, TimeSpan Total)
{
    /// <summary>Mean time per invocation.</summary>
    public TimeSpan Mean => Invocations == 0 ? TimeSpan.Zero : Total / Invocations;
}

/// <summary>
/// Per-operator timing through TFLite's telemetry profiler C API: TFLite calls back at the start and end of every
/// operator invocation, inside the real interpreter, so the numbers include TFLite's own scheduling and memory layout
/// (unlike timing single-op subgraphs, which the C API cannot build). Owned by the interpreter it is installed in.
/// </summary>
internal sealed unsafe class LiteOpProfiler : IDisposable
{
    private readonly object _gate = new();
    private readonly List<(long Start, int Op, int Subgraph, string Name)> _open = new();
    private readonly Dictionary<(int Subgraph, int Op), (string Name, int Count, long Ticks)> _totals = new();
    private GCHandle _self;

    public LiteOpProfiler()
    {
        _self = GCHandle.Alloc(this);
        Native = (TfLiteTelemetryProfilerStruct*)NativeMemory.AllocZeroed((nuint)sizeof(TfLiteTelemetryProfilerStruct));
        Native->data = (void*)GCHandle.ToIntPtr(_self);
        Native->ReportTelemetryEvent = &IgnoreEvent;
        Native->ReportTelemetryOpEvent = &IgnoreOpEvent;
        Native->ReportSettings = &IgnoreSettings;
        Native->ReportBeginOpInvokeEvent = &Begin;
        Native->ReportEndOpInvokeEvent = &End;
        Native->ReportOpInvokeEvent = &Whole;
    }

    public TfLiteTelemetryProfilerStruct* Native { get; private set; }

    public IReadOnlyList<LiteOpTiming> Snapshot()
    {
        lock (_gate)
        {
            return _totals.OrderBy(kv => kv.Key.Subgraph).ThenBy(kv => kv.Key.Op)
                .Select(kv => new LiteOpTiming(kv.Key.Subgraph, kv.Key.Op, kv.Value.Name, kv.Value.Count, TimeSpan.FromSeconds(kv.Value.Ticks / (double)Stopwatch.Frequency)))
                .ToArray();
        }
    }

    public void Reset()
    {
        lock (_gate)
        {
            _totals.Clear();
            _open.Clear();
        }
    }

    private void Add(int subgraph, int op, string name, long ticks)
    {
        _totals.TryGetValue((subgraph, op), out var entry);
        _totals[(subgraph, op)] = (name, entry.Count + 1, entry.Ticks + ticks);
    }

    private static LiteOpProfiler? From(TfLiteTelemetryProfilerStruct* profiler) =>
        GCHandle.FromIntPtr((nint)profiler->data).Target as LiteOpProfiler;

    [UnmanagedCallersOnly]
    private static uint Begin(TfLiteTelemetryProfilerStruct* profiler, byte* opName, long opIndex, long subgraph)
    {
        var self = From(profiler);
        if (self is null) return uint.MaxValue;
        var name = Marshal.PtrToStringUTF8((nint)opName) ?? "?";
        lock (self._gate)
        {
            self._open.Add((Stopwatch.GetTimestamp(), (int)opIndex, (int)subgraph, name));
            return (uint)(self._open.Count - 1);
        }
    }

    [UnmanagedCallersOnly]
    private static void End(TfLiteTelemetryProfilerStruct* profiler, uint handle)
    {
        var now = Stopwatch.GetTimestamp();
        var self = From(profiler);
        if (self is null) return;
        lock (self._gate)
        {
            if (handle >= self._open.Count) return;
            var open = self._open[(int)handle];
            self.Add(open.Subgraph, open.Op, open.Name, now - open.Start);
            if (handle == self._open.Count - 1) self._open.RemoveAt((int)handle);
        }
    }

    [UnmanagedCallersOnly]
    private static void Whole(TfLiteTelemetryProfilerStruct* profiler, byte* opName, ulong elapsedMicroseconds, long opIndex, long subgraph)
    {
        var self = From(profiler);
        if (self is null) return;
        var name = Marshal.PtrToStringUTF8((nint)opName) ?? "?";
        lock (self._gate) self.Add((int)subgraph, (int)opIndex, name, (long)(elapsedMicroseconds * (double)Stopwatch.Frequency / 1e6));
    }

    [UnmanagedCallersOnly]
    private static void IgnoreEvent(TfLiteTelemetryProfilerStruct* profiler, byte* name, ulong status)
    {
    }

    [UnmanagedCallersOnly]
    private static void IgnoreOpEvent(TfLiteTelemetryProfilerStruct* profiler, byte* name, long opIndex, long subgraph, ulong status)
    {
    }

    [UnmanagedCallersOnly]
    private static void IgnoreSettings(TfLiteTelemetryProfilerStruct* profiler, byte* name, TfLiteTelemetrySettings* settings)
    {
    }

    public void Dispose()
    {
        if (Native != null)
        {
            NativeMemory.Free(Native);
            Native = null;
        }
        if (_self.IsAllocated) _self.Free();
    }
}
