namespace AccelSdk.Cluster.Hosting;

/// <summary>
/// Test hook: makes this node's backend fail at run time, so that tests can show a failing node takes itself out.
/// <c>ACCELSDK_NODE_FAIL_AFTER_RUNS=N</c> in the node's environment makes every run after the first N (counted over all
/// models and stages of the node) throw <see cref="BackendException"/> as a backend would. Unset (the default), it does
/// nothing.
/// </summary>
public sealed class NodeFaults(long? failAfterRuns)
{
    /// <summary>The environment variable read by <see cref="FromEnvironment"/>.</summary>
    public const string Variable = "ACCELSDK_NODE_FAIL_AFTER_RUNS";

    private long _runs;

    /// <summary>Runs after which the backend fails; null for never.</summary>
    public long? FailAfterRuns { get; } = failAfterRuns;

    /// <summary>Reads <see cref="Variable"/>; a value that is not a non-negative integer is refused.</summary>
    public static NodeFaults FromEnvironment()
    {
        var text = Environment.GetEnvironmentVariable(Variable);
        if (string.IsNullOrEmpty(text)) return new NodeFaults(null);
        return long.TryParse(text, out var n) && n >= 0 ? new NodeFaults(n)
            : throw new ArgumentException($"{Variable}='{text}' is not a non-negative whole number of runs");
    }

    /// <summary>Called before each run: throws once the injected failure is due.</summary>
    public void BeforeRun(string node)
    {
        var run = Interlocked.Increment(ref _runs);
        if (FailAfterRuns is { } limit && run > limit)
            throw new BackendException("fault-injection", $"node '{node}': injected backend failure on run {run} ({Variable}={limit})");
    }
}
