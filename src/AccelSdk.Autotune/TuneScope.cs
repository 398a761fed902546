using Microsoft.Extensions.Logging;

namespace AccelSdk.Autotune;

/// <summary>
/// What one tuning reports to and is cancelled by: its runtime's logger, its own warnings and fallbacks (so two
/// concurrent tunings never see each other's), its progress sink and its cancellation token.
/// </summary>
internal sealed class TuneScope(AccelRuntime runtime, IProgress<SelectionProgress>? progress, CancellationToken cancellationToken)
{
    private readonly List<string> _warnings = new();
    private readonly List<Fallback> _fallbacks = new();

    public AccelRuntime Runtime => runtime;

    public CancellationToken Token => cancellationToken;

    public IReadOnlyList<string> Warnings
    {
        get
        {
            lock (_warnings) return _warnings.ToArray();
        }
    }

    public IReadOnlyList<Fallback> Fallbacks
    {
        get
        {
            lock (_fallbacks) return _fallbacks.ToArray();
        }
    }

    /// <summary>A warning of this tuning: logged and kept in <see cref="AutotuneResult.Warnings"/>.</summary>
    public void Warn(string message)
    {
        lock (_warnings) _warnings.Add(message);
        runtime.Logger.LogWarning("{Warning}", message);
    }

    /// <summary>A fallback of this tuning: logged, counted, kept in <see cref="AutotuneResult.Fallbacks"/> and its warnings.</summary>
    public void FallBack(FallbackKind kind, string subject, string reason)
    {
        lock (_warnings) _warnings.Add(reason);
        runtime.ReportFallback(_fallbacks, new Fallback(kind, subject, reason));
    }

    /// <summary>A logger for backends compiling on behalf of this tuning (<see cref="Backends.CompileOptions.Logger"/>): its warnings become this tuning's.</summary>
    public ILogger CompileLogger => new ScopeLogger(this);

    /// <summary>Reports progress, first throwing <see cref="OperationCanceledException"/> when cancelled.</summary>
    public void Report(string stage, int done, int total, string detail)
    {
        cancellationToken.ThrowIfCancellationRequested();
        progress?.Report(new SelectionProgress(stage, done, total, detail));
    }

    private sealed class ScopeLogger(TuneScope scope) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel is >= LogLevel.Warning and < LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel)) scope.Warn(formatter(state, exception));
        }
    }
}
