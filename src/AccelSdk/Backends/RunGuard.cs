namespace AccelSdk.Backends;

/// <summary>
/// Lets an object that owns native resources (a session, a compiled partition) free them only after every call that
/// uses them has left, as <see cref="System.Runtime.InteropServices.SafeHandle"/>'s reference count does for one
/// handle. Each call holds a <see cref="Lease"/> from <see cref="Enter"/>; <see cref="BeginDispose"/> refuses new
/// leases (their callers get <see cref="ObjectDisposedException"/>) and waits until the held ones are returned.
/// </summary>
public sealed class RunGuard
{
    private readonly object _gate = new();
    private readonly string _ownerName;
    private int _active;
    private bool _disposed;

    /// <summary>Creates the guard; <paramref name="ownerName"/> names the owner in <see cref="ObjectDisposedException"/>s.</summary>
    public RunGuard(string ownerName) => _ownerName = ownerName;

    /// <summary>True once <see cref="BeginDispose"/> has been called.</summary>
    public bool IsDisposed
    {
        get
        {
            lock (_gate) return _disposed;
        }
    }

    /// <summary>Takes a lease for one call; throws <see cref="ObjectDisposedException"/> once disposal has begun.</summary>
    public Lease Enter()
    {
        lock (_gate)
        {
            if (_disposed) throw new ObjectDisposedException(_ownerName);
            _active++;
        }
        return new Lease(this);
    }

    /// <summary>
    /// Refuses new leases, runs <paramref name="beforeWaiting"/> (for example to ask running calls to stop early), and
    /// waits until every lease is returned. Returns true to the first caller, who then frees the resources; later
    /// callers also wait, and get false. Must not be called while holding a lease of the same guard.
    /// </summary>
    public bool BeginDispose(Action? beforeWaiting = null)
    {
        bool first;
        lock (_gate)
        {
            first = !_disposed;
            _disposed = true;
        }
        if (first) beforeWaiting?.Invoke();
        lock (_gate)
        {
            while (_active > 0) Monitor.Wait(_gate);
        }
        return first;
    }

    private void Exit()
    {
        lock (_gate)
        {
            _active--;
            if (_active == 0 && _disposed) Monitor.PulseAll(_gate);
        }
    }

    /// <summary>One call's hold on the guarded resources; dispose it exactly once (a <c>using</c> declaration).</summary>
    public readonly struct Lease : IDisposable
    {
        private readonly RunGuard? _guard;

        internal Lease(RunGuard guard) => _guard = guard;

        /// <summary>Returns the lease.</summary>
        public void Dispose() => _guard?.Exit();
    }
}
