using Microsoft.Extensions.Logging;

namespace AccelSdk.GpuCheck;

/// <summary>The check's one runtime: ONNX Runtime, ILGPU, the autotuner and the device probe, warnings on standard error.</summary>
internal static class GpuCheckRuntime
{
    private static readonly Lazy<AccelRuntime> LazyInstance = new(() => new AccelRuntimeBuilder()
        .AddOnnxRuntime().AddIlgpu().AddAutotune().AddDeviceProbe()
        .UseLogger(new StandardErrorLogger())
        .Build());

    public static AccelRuntime Instance => LazyInstance.Value;

    private sealed class StandardErrorLogger : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel is >= LogLevel.Warning and < LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel)) Console.Error.WriteLine("accelsdk: warning: " + formatter(state, exception));
        }
    }
}

/// <summary>Reports progress on the tuning thread.</summary>
internal sealed class InlineProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
