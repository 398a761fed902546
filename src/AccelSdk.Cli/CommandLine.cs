namespace AccelSdk.Cli;

/// <summary>A usage error: the command line itself is wrong.</summary>
internal sealed class UsageException(string message) : Exception(message);

/// <summary>Minimal parser: positional arguments, <c>--flag</c>, <c>--option value</c> and repeated options.</summary>
internal sealed class CommandLine
{
    private readonly Dictionary<string, List<string>> _options = new(StringComparer.Ordinal);
    private readonly HashSet<string> _flags = new(StringComparer.Ordinal);
    private readonly HashSet<string> _used = new(StringComparer.Ordinal);

    public CommandLine(IEnumerable<string> args, IReadOnlySet<string> flagNames)
    {
        using var e = args.GetEnumerator();
        while (e.MoveNext())
        {
            var arg = e.Current;
            if (arg.StartsWith("--", StringComparison.Ordinal) && arg.Length > 2)
            {
                var name = arg[2..];
                string? inlineValue = null;
                var eq = name.IndexOf('=');
                if (eq >= 0)
                {
                    inlineValue = name[(eq + 1)..];
                    name = name[..eq];
                }
                if (flagNames.Contains(name) && inlineValue is null)
                {
                    _flags.Add(name);
                    continue;
                }
                var value = inlineValue ?? (e.MoveNext() ? e.Current : throw new UsageException($"option --{name} needs a value"));
                if (!_options.TryGetValue(name, out var list)) _options[name] = list = new List<string>();
                list.Add(value);
            }
            else
            {
                Positionals.Add(arg);
            }
        }
    }

    public List<string> Positionals { get; } = new();

    public bool Flag(string name)
    {
        _used.Add(name);
        return _flags.Contains(name);
    }

    public string? Option(string name)
    {
        _used.Add(name);
        return _options.TryGetValue(name, out var list) ? list[^1] : null;
    }

    public IReadOnlyList<string> Options(string name)
    {
        _used.Add(name);
        return _options.TryGetValue(name, out var list) ? list : Array.Empty<string>();
    }

    public string Positional(int index, string what) =>
        index < Positionals.Count ? Positionals[index] : throw new UsageException($"missing {what}");

    /// <summary>Fails on options nobody asked for, so a typo is not silently ignored.</summary>
    public void RejectUnknown()
    {
        var unknown = _options.Keys.Concat(_flags).Where(k => !_used.Contains(k)).ToList();
        if (unknown.Count > 0) throw new UsageException($"unknown option --{unknown[0]}");
    }
}
