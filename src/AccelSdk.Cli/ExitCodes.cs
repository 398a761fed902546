namespace AccelSdk.Cli;

/// <summary>The process exit codes of <c>accelsdk</c> (documented in the README's "Command line" section).</summary>
internal static class ExitCodes
{
    /// <summary>The command did what was asked.</summary>
    public const int Success = 0;

    /// <summary>The model, an input or data file, a backend or device name, or the runtime failed; or a check the
    /// command makes failed (conformance cases, nodes no device runs).</summary>
    public const int Failure = 1;

    /// <summary>The command line is wrong: unknown command or option, a missing or malformed value, a path that does
    /// not exist or is of the wrong kind.</summary>
    public const int Usage = 2;

    /// <summary>An unexpected exception: a bug in AccelSdk, reported as one line.</summary>
    public const int Internal = 3;

    /// <summary>Interrupted (Ctrl+C) while selecting or tuning; the tuning cache is never left partly written.</summary>
    public const int Cancelled = 130;
}
