using System.CommandLine;
using System.CommandLine.Parsing;

namespace AccelSdk.Cli;

/// <summary>Checks across several options of one command, run by the parser (their failures are usage errors).</summary>
internal static class CommandChecks
{
    /// <summary>The single value given for <paramref name="symbol"/>, or null when it is absent or repeated.</summary>
    public static string? Given(CommandResult result, Symbol symbol)
    {
        IReadOnlyList<Token>? tokens = symbol switch
        {
            Option option => result.GetResult(option)?.Tokens,
            Argument argument => result.GetResult(argument)?.Tokens,
            _ => null,
        };
        return tokens is [var token] ? token.Value : null;
    }

    /// <summary>True when both symbols were given and name the same file.</summary>
    public static bool SamePath(CommandResult result, Symbol first, Symbol second) =>
        Given(result, first) is { Length: > 0 } a && Given(result, second) is { Length: > 0 } b && !a.Contains('\0') && !b.Contains('\0') &&
        string.Equals(Path.GetFullPath(a), Path.GetFullPath(b), StringComparison.Ordinal);
}
