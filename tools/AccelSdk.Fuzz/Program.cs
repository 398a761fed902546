using AccelSdk.Fuzz;

FuzzOptions options;
try
{
    options = FuzzOptions.Parse(args);
}
catch (FormatException e)
{
    Console.Error.WriteLine($"AccelSdk.Fuzz: {e.Message}\n{FuzzOptions.Usage}");
    return 2;
}
if (options.Worker) return Worker.Run(options);
var repoRoot = Corpus.FindRepoRoot(AppContext.BaseDirectory);
return options.ReplayFile is not null ? Supervisor.Replay(options, repoRoot) : new Supervisor(options, repoRoot).Run();
