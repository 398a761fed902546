using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace AccelSdk.Cli;

/// <summary>What a path given on the command line must be.</summary>
internal enum PathKind
{
    /// <summary>A file that exists (not a directory).</summary>
    ExistingFile,

    /// <summary>A directory that exists.</summary>
    ExistingDirectory,

    /// <summary>A file to write: anything but an existing directory.</summary>
    OutputFile,

    /// <summary>A directory to write into, created if missing: anything but an existing file.</summary>
    OutputDirectory,
}

/// <summary>
/// Typed, validated options and arguments. Every parser reports a bad value through System.CommandLine's parse errors
/// (never by throwing), with a message that names the option and the value.
/// </summary>
internal static class CliOptions
{
    /// <summary>A positional path argument checked against <paramref name="kind"/>.</summary>
    public static Argument<string> PathArgument(string name, PathKind kind, string description)
    {
        var argument = new Argument<string>(name) { Description = description };
        argument.Validators.Add(result =>
        {
            if (result.Tokens.Count == 1 && CheckPath(result.Tokens[0].Value, kind) is { } problem) result.AddError($"{name} {problem}");
        });
        return argument;
    }

    /// <summary>An optional path option checked against <paramref name="kind"/>.</summary>
    public static Option<string?> PathOption(string name, string helpName, PathKind kind, string description, bool required = false)
    {
        var option = new Option<string?>(name) { Description = description, HelpName = helpName, Required = required };
        option.Validators.Add(result => CheckEveryPath(result, kind));
        return option;
    }

    /// <summary>A repeatable path option (<c>--input a.pb --input b.pb</c>), each value checked against <paramref name="kind"/>.</summary>
    public static Option<string[]> PathsOption(string name, string helpName, PathKind kind, string description)
    {
        var option = new Option<string[]>(name) { Description = description + " (repeat the option for each)", HelpName = helpName };
        option.Validators.Add(result => CheckEveryPath(result, kind));
        return option;
    }

    /// <summary>An optional free-text option (a name, a filter).</summary>
    public static Option<string?> TextOption(string name, string helpName, string description, bool required = false) =>
        new(name) { Description = description, HelpName = helpName, Required = required };

    /// <summary>A repeatable free-text option.</summary>
    public static Option<string[]> TextsOption(string name, string helpName, string description) =>
        new(name) { Description = description + " (repeat the option for each)", HelpName = helpName };

    /// <summary>An on/off switch that takes no value.</summary>
    public static Option<bool> Flag(string name, string description) => new(name) { Description = description };

    /// <summary>A whole number above zero.</summary>
    public static Option<int> PositiveInteger(string name, string helpName, int defaultValue, string description) => new(name)
    {
        Description = description,
        HelpName = helpName,
        DefaultValueFactory = _ => defaultValue,
        CustomParser = result =>
        {
            var text = result.Tokens[0].Value;
            if (int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n > 0) return n;
            result.AddError($"{name} '{text}' is not a positive whole number");
            return defaultValue;
        },
    };

    /// <summary>A finite number (its range is checked where it is used, by the library that owns it).</summary>
    public static Option<double?> Number(string name, string helpName, string description, bool required = false) => new(name)
    {
        Description = description,
        HelpName = helpName,
        Required = required,
        CustomParser = result =>
        {
            var text = result.Tokens[0].Value;
            if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && double.IsFinite(value)) return value;
            result.AddError($"{name} '{text}' is not a number");
            return null;
        },
    };

    /// <summary>One of a fixed set of words (case-insensitive); the help lists them.</summary>
    public static Option<T> Choice<T>(string name, IReadOnlyDictionary<string, T> choices, T defaultValue, string description, bool required = false)
    {
        var option = new Option<T>(name)
        {
            Description = description,
            HelpName = string.Join("|", choices.Keys),
            Required = required,
            CustomParser = result =>
            {
                var text = result.Tokens[0].Value;
                if (choices.TryGetValue(text.ToLowerInvariant(), out var value)) return value;
                result.AddError($"{name} '{text}' is not one of {string.Join(", ", choices.Keys)}");
                return defaultValue;
            },
        };
        // A default would satisfy Required and hide its absence.
        if (!required) option.DefaultValueFactory = _ => defaultValue;
        return option;
    }

    /// <summary>Repeatable <c>KEY=VALUE</c> pairs; a later pair for the same key wins.</summary>
    public static Option<Dictionary<string, string>> Assignments(string name, string helpName, string description) =>
        KeyedValues(name, helpName, description, (string text, out string value) => (value = text).Length > 0, "");

    /// <summary>Repeatable <c>DEVICE=BYTES</c> pairs, BYTES with an optional k, M or G suffix (1024-based).</summary>
    public static Option<Dictionary<string, long>> ByteLimits(string name, string helpName, string description) =>
        KeyedValues(name, helpName, description, (string text, out long value) => (value = ParseBytes(text) ?? 0) > 0, " with an optional k, M or G suffix (1024-based)");

    /// <summary>A byte count above zero, with an optional k, M or G suffix (1024-based); null when malformed or too large.</summary>
    public static long? ParseBytes(string text)
    {
        if (text.Length == 0) return null;
        var multiplier = char.ToUpperInvariant(text[^1]) switch { 'K' => 1L << 10, 'M' => 1L << 20, 'G' => 1L << 30, _ => 1L };
        var digits = multiplier == 1 ? text : text[..^1];
        return long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0 && n <= long.MaxValue / multiplier
            ? n * multiplier
            : null;
    }

    private delegate bool TryParseValue<TValue>(string text, out TValue value);

    private static Option<Dictionary<string, TValue>> KeyedValues<TValue>(string name, string helpName, string description, TryParseValue<TValue> tryParse, string valueNote) => new(name)
    {
        Description = description + " (repeat the option for each)",
        HelpName = helpName,
        AllowMultipleArgumentsPerToken = false,
        Arity = ArgumentArity.OneOrMore,
        DefaultValueFactory = _ => new Dictionary<string, TValue>(StringComparer.Ordinal),
        CustomParser = result =>
        {
            var map = new Dictionary<string, TValue>(StringComparer.Ordinal);
            foreach (var token in result.Tokens)
            {
                var eq = token.Value.IndexOf('=');
                if (eq <= 0 || !tryParse(token.Value[(eq + 1)..], out var value))
                {
                    result.AddError($"{name} takes {helpName}{valueNote}, not '{token.Value}'");
                    return map;
                }
                map[token.Value[..eq]] = value;
            }
            return map;
        },
    };

    private static void CheckEveryPath(OptionResult result, PathKind kind)
    {
        foreach (var token in result.Tokens)
        {
            if (CheckPath(token.Value, kind) is { } problem)
            {
                result.AddError($"{result.Option.Name} {problem}");
                return;
            }
        }
    }

    /// <summary>What is wrong with <paramref name="path"/> for <paramref name="kind"/>, or null.</summary>
    private static string? CheckPath(string path, PathKind kind)
    {
        if (path.Length == 0 || path.Contains('\0')) return $"'{path}' is not a valid path";
        var isFile = File.Exists(path);
        var isDirectory = Directory.Exists(path);
        return kind switch
        {
            PathKind.ExistingFile when isDirectory => $"'{path}' is a directory, not a file",
            PathKind.ExistingFile when !isFile => $"'{path}' does not exist",
            PathKind.ExistingDirectory when isFile => $"'{path}' is a file, not a directory",
            PathKind.ExistingDirectory when !isDirectory => $"'{path}' does not exist",
            PathKind.OutputFile when isDirectory => $"'{path}' is a directory; give the path of a file to write",
            PathKind.OutputDirectory when isFile => $"'{path}' is a file, not a directory (a missing directory is created)",
            _ => null,
        };
    }
}
