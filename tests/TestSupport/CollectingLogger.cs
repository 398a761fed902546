using Microsoft.Extensions.Logging;

namespace AccelSdk.TestSupport;

/// <summary>A real <see cref="ILogger"/> that keeps every message at warning level or above, for tests to assert on.</summary>
internal sealed class CollectingLogger : ILogger
{
    private readonly List<string> _messages = new();

    public IReadOnlyList<string> Messages
    {
        get
        {
            lock (_messages) return _messages.ToArray();
        }
    }

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel is >= LogLevel.Warning and < LogLevel.None;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (!IsEnabled(logLevel)) return;
        lock (_messages) _messages.Add(formatter(state, exception));
    }
}

/// <summary>An <see cref="IProgress{T}"/> that reports on the reporting thread (<see cref="Progress{T}"/> posts later, which a test cannot wait for).</summary>
internal sealed class InlineProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
