using AccelSdk.BindingGen;

return Cli.Run(args);

namespace AccelSdk.BindingGen
{
    /// <summary>The command line of the generator.</summary>
    public static class Cli
    {
        private const string Usage = """
            usage: AccelSdk.BindingGen --header H [--header H2 ...] -I DIR [-I DIR ...] --library NAME
                                       --namespace NS [--class NAME] --output FILE.g.cs
                                       [--scope PREFIX ...] [--exclude NAME ...] [--clang-arg ARG ...]
                                       [--input-version TEXT] [--public] [--check] [--libclang PATH]
            """;

        /// <summary>Runs the generator; returns the process exit code (0 ok, 1 check failed, 2 usage or parse error).</summary>
        public static int Run(string[] args)
        {
            GeneratorOptions options;
            try
            {
                options = Parse(args);
            }
            catch (ArgumentException e)
            {
                Console.Error.WriteLine(e.Message);
                Console.Error.WriteLine(Usage);
                return 2;
            }
            try
            {
                var text = BindingGenerator.Generate(options);
                if (options.Check)
                {
                    var existing = File.Exists(options.Output) ? File.ReadAllBytes(options.Output) : null;
                    if (existing is not null && existing.AsSpan().SequenceEqual(new System.Text.UTF8Encoding(false).GetBytes(text)))
                    {
                        Console.WriteLine($"{options.Output} is up to date");
                        return 0;
                    }
                    Console.Error.WriteLine($"{options.Output} differs from what the headers generate; run the generator");
                    return 1;
                }
                var dir = Path.GetDirectoryName(Path.GetFullPath(options.Output));
                if (dir is not null) Directory.CreateDirectory(dir);
                File.WriteAllText(options.Output, text, new System.Text.UTF8Encoding(false));
                Console.WriteLine($"wrote {options.Output}");
                return 0;
            }
            catch (GeneratorException e)
            {
                Console.Error.WriteLine("AccelSdk.BindingGen: " + e.Message);
                return 2;
            }
        }

        /// <summary>Parses the command line.</summary>
        public static GeneratorOptions Parse(string[] args)
        {
            var headers = new List<string>();
            var includes = new List<string>();
            var clangArgs = new List<string>();
            var scopes = new List<string>();
            var excludes = new HashSet<string>(StringComparer.Ordinal);
            string? library = null, ns = null, output = null, version = null, libclang = null;
            var className = "NativeMethods";
            bool isPublic = false, check = false;
            for (var i = 0; i < args.Length; i++)
            {
                string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
                switch (args[i])
                {
                    case "--header": headers.Add(Value()); break;
                    case "-I": case "--include": includes.Add(Value()); break;
                    case "--clang-arg": clangArgs.Add(Value()); break;
                    case "--scope": scopes.Add(Value()); break;
                    case "--exclude": excludes.Add(Value()); break;
                    case "--library": library = Value(); break;
                    case "--namespace": ns = Value(); break;
                    case "--class": className = Value(); break;
                    case "--output": output = Value(); break;
                    case "--input-version": version = Value(); break;
                    case "--libclang": libclang = Value(); break;
                    case "--public": isPublic = true; break;
                    case "--check": check = true; break;
                    default:
                        if (args[i].StartsWith("-I", StringComparison.Ordinal) && args[i].Length > 2) includes.Add(args[i][2..]);
                        else if (args[i].StartsWith("-D", StringComparison.Ordinal)) clangArgs.Add(args[i]);
                        else throw new ArgumentException($"unknown argument '{args[i]}'");
                        break;
                }
            }
            if (headers.Count == 0) throw new ArgumentException("--header is required");
            return new GeneratorOptions
            {
                Headers = headers,
                IncludeDirs = includes,
                ClangArgs = clangArgs,
                Scopes = scopes,
                Excludes = excludes,
                LibraryName = library ?? throw new ArgumentException("--library is required"),
                Namespace = ns ?? throw new ArgumentException("--namespace is required"),
                ClassName = className,
                Output = output ?? throw new ArgumentException("--output is required"),
                InputVersion = version,
                Public = isPublic,
                Check = check,
                LibClangPath = libclang,
            };
        }
    }
}
