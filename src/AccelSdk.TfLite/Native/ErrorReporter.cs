using System.Runtime.InteropServices;
using System.Text;

namespace AccelSdk.TfLite.Native;

/// <summary>
/// Receives TFLite's error messages (its <c>printf</c>-style reporter callback) so that a failed status becomes an
/// exception carrying TFLite's own words. One instance per model or interpreter; it pins itself with a GCHandle
/// for as long as native code may call it.
/// </summary>
internal sealed unsafe partial class ErrorReporter : IDisposable
{
    private readonly List<string> _messages = new();
    private GCHandle _self;

    public ErrorReporter() => _self = GCHandle.Alloc(this);

    /// <summary>The callback to hand to TFLite.</summary>
    public static delegate* unmanaged<void*, byte*, nint, void> Callback => &Report;

    /// <summary>The user-data pointer to hand to TFLite with <see cref="Callback"/>.</summary>
    public void* UserData => (void*)GCHandle.ToIntPtr(_self);

    /// <summary>Takes the messages reported since the last call, joined.</summary>
    public string? TakeMessages()
    {
        lock (_messages)
        {
            if (_messages.Count == 0) return null;
            var text = string.Join(" | ", _messages);
            _messages.Clear();
            return text;
        }
    }

    [UnmanagedCallersOnly]
    private static void Report(void* userData, byte* format, nint args)
    {
        try
        {
            var buffer = stackalloc byte[2048];
            var length = vsnprintf(buffer, 2048, format, (void*)args);
            var text = length < 0
                ? Marshal.PtrToStringUTF8((nint)format) ?? ""
                : Encoding.UTF8.GetString(buffer, Math.Min(length, 2047));
            if (GCHandle.FromIntPtr((nint)userData).Target is ErrorReporter reporter)
            {
                lock (reporter._messages) reporter._messages.Add(text.Trim());
            }
        }
        catch
        {
            // An exception must never cross back into native code.
        }
    }

    // va_list on x86-64 Linux is passed as a pointer, so the reporter's third argument goes to vsnprintf as is.
    [LibraryImport("libc.so.6")]
    private static partial int vsnprintf(byte* buffer, nuint size, byte* format, void* args);

    public void Dispose()
    {
        if (_self.IsAllocated) _self.Free();
    }
}
