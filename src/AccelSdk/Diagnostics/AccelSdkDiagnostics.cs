namespace AccelSdk.Diagnostics;

/// <summary>Warnings AccelSdk raises when it degrades gracefully (a device that fails to start, a fallback taken).</summary>
public static class AccelSdkDiagnostics
{
    private static readonly List<string> Recent = new();

    /// <summary>Raised for every warning. Without a subscriber, warnings are written to standard error.</summary>
    public static event Action<string>? Warning;

    /// <summary>Reports a warning.</summary>
    public static void Warn(string message)
    {
        lock (Recent)
        {
            Recent.Add(message);
            if (Recent.Count > 200) Recent.RemoveAt(0);
        }
        var handler = Warning;
        if (handler is null)
        {
            Console.Error.WriteLine("accelsdk: warning: " + message);
        }
        else
        {
            handler(message);
        }
    }

    /// <summary>The most recent warnings (at most 200), oldest first.</summary>
    public static IReadOnlyList<string> RecentWarnings
    {
        get
        {
            lock (Recent) return Recent.ToArray();
        }
    }
}
