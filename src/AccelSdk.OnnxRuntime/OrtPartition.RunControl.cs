using System.Collections.Concurrent;
using Microsoft.ML.OnnxRuntime;

namespace AccelSdk.OnnxRuntime;

/// <summary>Stopping a run: its own RunOptions, terminated by its cancellation token, its time limit or Dispose.</summary>
internal sealed partial class OrtPartition
{
    // Runs with their own RunOptions, so Dispose can terminate them too.
    private readonly ConcurrentDictionary<RunControl, byte> _controls = new();

    /// <summary>
    /// One run's own RunOptions, terminated when its token fires, when it outlives the time limit, or when the partition
    /// is disposed (ONNX Runtime checks the flag between kernels, Loop and Scan iterations included). The first reason
    /// wins and tells the caller which exception to throw. The lock keeps the timer and the token callback from
    /// touching disposed options.
    /// </summary>
    private sealed class RunControl : IDisposable
    {
        public enum Reason
        {
            None,
            Cancelled,
            TimedOut,
            Disposed,
        }

        private readonly object _gate = new();
        private readonly OrtPartition _owner;
        private Timer? _timer;
        private CancellationTokenRegistration _registration;
        private Reason _reason;
        private bool _disposed;

        private RunControl(OrtPartition owner) => _owner = owner;

        public static RunControl Start(OrtPartition owner, TimeSpan? limit, CancellationToken cancellationToken)
        {
            var control = new RunControl(owner);
            owner._controls[control] = 0;
            if (limit is { } l) control._timer = new Timer(static c => ((RunControl)c!).Terminate(Reason.TimedOut), control, l, Timeout.InfiniteTimeSpan);
            control._registration = cancellationToken.UnsafeRegister(static c => ((RunControl)c!).Terminate(Reason.Cancelled), control);
            // Dispose may have begun between this run's lease and its registration above.
            if (owner._guard.IsDisposed) control.Terminate(Reason.Disposed);
            return control;
        }

        public RunOptions Options { get; } = new();

        public bool Fired => _reason != Reason.None;

        public bool Cancelled => _reason == Reason.Cancelled;

        public bool TimedOut => _reason == Reason.TimedOut;

        public void Terminate(Reason reason)
        {
            lock (_gate)
            {
                if (_disposed || _reason != Reason.None) return;
                _reason = reason;
                Options.Terminate = true;
            }
        }

        public void Dispose()
        {
            _registration.Dispose();
            _timer?.Dispose();
            lock (_gate) _disposed = true;
            _owner._controls.TryRemove(this, out _);
            Options.Dispose();
        }
    }
}
