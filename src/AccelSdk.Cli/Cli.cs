using System.CommandLine;
using System.CommandLine.Invocation;
using System.CommandLine.Parsing;

namespace AccelSdk.Cli;

/// <summary>
/// The <c>accelsdk</c> entry point: parses with System.CommandLine, runs the command, and turns every failure into one
/// line on standard error and an exit code from <see cref="ExitCodes"/>.
/// </summary>
internal static class Cli
{
    private const string Description = """
        accelsdk: list devices; select, run, tune, convert, quantize and prune models; check ONNX conformance.
        Exit codes: 0 success; 1 the model, an input or data file, a backend/device or the runtime failed (or a check
        failed); 2 the command line is wrong (unknown command or option, missing or malformed value, a path that does
        not exist or is of the wrong kind); 3 internal error (a bug: please report the line).
        """;

    // Paths are taken literally: no '@file' response-file expansion.
    private static readonly ParserConfiguration Parsing = new() { ResponseFileTokenReplacer = null };

    /// <summary>Runs <paramref name="args"/> and returns the process exit code; writes to the current console streams.</summary>
    public static int Execute(string[] args)
    {
        try
        {
            var root = BuildCommands();
            if (args.Length == 0)
            {
                Invoke(root.Parse(new[] { "--help" }, Parsing));
                return ExitCodes.Usage;
            }
            var parse = root.Parse(args, Parsing);
            return parse.Action is ParseErrorAction ? ReportParseError(parse) : Invoke(parse);
        }
        catch (Exception e)
        {
            var (code, line) = ErrorLine(e);
            Console.Error.WriteLine(line);
            return code;
        }
    }

    /// <summary>Every command, each with its own <c>--help</c>.</summary>
    internal static RootCommand BuildCommands()
    {
        // Help says "accelsdk" whatever the host process is called (the dotnet tool shim, a test host).
        var root = new RootCommand(Description) { HelpName = "accelsdk" };
        root.Add(DevicesCommand.Create());
        root.Add(SelectCommand.Create());
        root.Add(RunCommand.Create());
        root.Add(ConvertCommand.Create());
        root.Add(ConformanceCommand.Create());
        root.Add(AutotuneCommand.Create());
        root.Add(OptimizeCommands.CreateQuantize());
        root.Add(OptimizeCommands.CreatePrune());
        return root;
    }

    private static int Invoke(ParseResult parse) => parse.Invoke(new InvocationConfiguration
    {
        Output = Console.Out,
        Error = Console.Error,
        EnableDefaultExceptionHandler = false,
        ProcessTerminationTimeout = null,
    });

    /// <summary>The exit code and the one error line for an exception that escaped a command.</summary>
    internal static (int Code, string Line) ErrorLine(Exception e)
    {
        var (code, message) = Describe(e);
        return (code, "accelsdk: error: " + message.ReplaceLineEndings(" ").TrimEnd());
    }

    private static (int Code, string Message) Describe(Exception e) => e switch
    {
        AccelSdkException => (ExitCodes.Failure, e.Message),
        OperationCanceledException => (ExitCodes.Cancelled, "cancelled (the tuning cache keeps only what was complete before: it is never left partly written)"),
        IOException or UnauthorizedAccessException or InvalidDataException => (ExitCodes.Failure, e.Message),
        OutOfMemoryException => (ExitCodes.Failure, "out of memory: " + e.Message),
        _ => (ExitCodes.Internal, $"internal error ({e.GetType().FullName}): {e.Message} (a bug in AccelSdk: please report this line)"),
    };

    private static int ReportParseError(ParseResult parse)
    {
        var command = string.Join(" ", CommandPath(parse.CommandResult));
        Console.Error.WriteLine($"accelsdk: error: {ParseErrorMessage(parse)} (see '{command} --help')");
        return ExitCodes.Usage;
    }

    private static string ParseErrorMessage(ParseResult parse)
    {
        if (parse.UnmatchedTokens.Count > 0)
        {
            var token = parse.UnmatchedTokens[0];
            if (token.StartsWith('-')) return $"unknown option '{token}'";
            return parse.CommandResult.Command is RootCommand ? $"unknown command '{token}'" : $"unexpected argument '{token}'";
        }
        var error = parse.Errors[0];
        return error.SymbolResult switch
        {
            OptionResult { Tokens.Count: 0, Implicit: false } option when option.Option.Arity.MinimumNumberOfValues > 0 =>
                $"option {option.Option.Name} needs a value",
            ArgumentResult { Tokens.Count: 0 } argument => $"missing {argument.Argument.Name}",
            CommandResult { Command: RootCommand } => "no command given",
            _ => Sentence(error.Message),
        };
    }

    private static IEnumerable<string> CommandPath(CommandResult? result)
    {
        var names = new Stack<string>();
        for (var r = result; r is not null; r = r.Parent as CommandResult)
        {
            names.Push(r.Command is RootCommand ? "accelsdk" : r.Command.Name);
        }
        return names;
    }

    /// <summary>System.CommandLine's own messages as a clause: lower-case start, no final period.</summary>
    private static string Sentence(string message)
    {
        var text = message.Trim().TrimEnd('.');
        return text.Length > 1 && char.IsUpper(text[0]) && char.IsLower(text[1]) ? char.ToLowerInvariant(text[0]) + text[1..] : text;
    }
}
