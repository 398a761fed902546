using Microsoft.Extensions.Logging;

namespace AccelSdk.Cli;

/// <summary>
/// The command line's one <see cref="AccelRuntime"/>: every backend the tool ships, added explicitly, warnings written to
/// standard error as <c>accelsdk: warning: ...</c>. Created on first use, so <c>--help</c> and argument errors start nothing.
/// </summary>
internal static class CliRuntime
{
    private static readonly Lazy<AccelRuntime> LazyInstance = new(() => new AccelRuntimeBuilder()
        .AddOnnxRuntime().AddIlgpu().AddTfLite().AddAutotune().AddDeviceProbe()
        .UseLogger(new StandardErrorLogger())
        .Build());

    private static readonly CancellationTokenSource Interrupt = new();
    private static int _interruptWatched;

    public static AccelRuntime Instance => LazyInstance.Value;

    /// <summary>Cancelled by the first Ctrl+C (the second one ends the process as usual): selecting and tuning stop promptly.</summary>
    public static CancellationToken Cancellation
    {
        get
        {
            if (Interlocked.Exchange(ref _interruptWatched, 1) == 0)
            {
                Console.CancelKeyPress += (_, e) =>
                {
                    e.Cancel = !Interrupt.IsCancellationRequested;
                    Interrupt.Cancel();
                };
            }
            return Interrupt.Token;
        }
    }

    public static void DisposeIfCreated()
    {
        if (LazyInstance.IsValueCreated) LazyInstance.Value.Dispose();
    }
}

/// <summary>Writes warnings and errors to standard error, one line each, the way the CLI always has.</summary>
internal sealed class StandardErrorLogger : ILogger
{
    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning && logLevel != LogLevel.None;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (!IsEnabled(logLevel)) return;
        Console.Error.WriteLine($"accelsdk: {(logLevel == LogLevel.Warning ? "warning" : "error")}: {formatter(state, exception)}");
    }
}

/// <summary>An <see cref="IProgress{T}"/> that reports on the calling thread (the CLI has no synchronisation context to post to).</summary>
internal sealed class InlineProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
