using System.Diagnostics;
using System.Text.Json;

namespace AccelSdk.Fuzz;

/// <summary>What checking one mutant gave.</summary>
internal enum OutcomeKind
{
    /// <summary>Imported and every check passed (or refused cleanly per device).</summary>
    Ok,
    /// <summary>Refused with an exception of the SDK's typed family (<see cref="AccelSdkException"/>): the wanted answer to a bad file.</summary>
    Rejected,
    /// <summary>An exception outside the typed family escaped.</summary>
    Untyped,
    /// <summary>The worker process died (native crash, abort, killed).</summary>
    Crash,
    /// <summary>The mutant ran past the per-mutant timeout.</summary>
    Hang,
}

/// <summary>The result of one mutant, as the worker reports it (JSON, one line) and the supervisor completes it.</summary>
internal sealed record Outcome
{
    public OutcomeKind Kind { get; init; }
    public string Stage { get; init; } = "";
    public string? ExceptionType { get; init; }
    public string? Message { get; init; }
    public string? TopFrame { get; init; }
    public string? StackTrace { get; init; }
    public bool Imported { get; init; }
    public int RunsCompleted { get; init; }

    public bool IsFinding => Kind is OutcomeKind.Untyped or OutcomeKind.Crash or OutcomeKind.Hang;

    /// <summary>
    /// What deduplicates findings: exception type + the top AccelSdk frame for an untyped exception; the stage (and
    /// signal) for a crash or a hang, since a dead process leaves no managed stack.
    /// </summary>
    public string Signature => Kind switch
    {
        OutcomeKind.Untyped => $"{ExceptionType} at {TopFrame}",
        OutcomeKind.Crash => $"native crash ({Message}) in {Stage}",
        OutcomeKind.Hang => $"hang in {Stage}",
        _ => Kind.ToString(),
    };

    public string ToJson() => JsonSerializer.Serialize(this);

    public static Outcome FromJson(string json) => JsonSerializer.Deserialize<Outcome>(json) ?? throw new FormatException("empty outcome");

    /// <summary>An untyped exception escaping at <paramref name="stage"/>.</summary>
    public static Outcome FromException(Exception e, string stage, bool imported) => new()
    {
        Kind = OutcomeKind.Untyped,
        Stage = stage,
        ExceptionType = e.GetType().FullName,
        Message = e.Message,
        TopFrame = TopFrameOf(e),
        StackTrace = e.ToString(),
        Imported = imported,
    };

    /// <summary>The first frame in AccelSdk's own code (the BCL's throw helpers say little), else the first frame.</summary>
    public static string TopFrameOf(Exception e)
    {
        var frames = new StackTrace(e, false).GetFrames();
        static string Name(StackFrame f) => f.GetMethod() is { } method ? SourceName(method) : "?";
        var own = frames.FirstOrDefault(f => f.GetMethod()?.DeclaringType?.FullName?.StartsWith("AccelSdk.", StringComparison.Ordinal) == true);
        if (own is not null) return Name(own);
        return frames.Length > 0 ? Name(frames[0]) : "?";
    }

    /// <summary>
    /// Type.Method as written in the source: a lambda (<c>&lt;&gt;c__DisplayClass51_0.&lt;TryConvert&gt;b__0</c>), local
    /// function or iterator is named after the method that holds it, so signatures survive unrelated edits.
    /// </summary>
    public static string SourceName(System.Reflection.MethodBase method)
    {
        var type = method.DeclaringType;
        var name = method.Name;
        if (name.StartsWith('<') && name.IndexOf('>') is > 1 and var end) name = name[1..end];
        while (type is not null && type.Name.StartsWith('<'))
        {
            if (type.Name.IndexOf('>') is > 1 and var close && !type.Name.StartsWith("<>", StringComparison.Ordinal)) name = type.Name[1..close];
            type = type.DeclaringType;
        }
        return $"{type?.FullName ?? "?"}.{name}";
    }
}
