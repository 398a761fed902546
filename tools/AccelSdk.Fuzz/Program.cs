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
try
{
    var repoRoot = Corpus.FindRepoRoot(AppContext.BaseDirectory);
    return options.ReplayFile is not null ? Supervisor.Replay(options, repoRoot) : new Supervisor(options, repoRoot).Run();
}
catch (Exception e) when (e is InvalidOperationException or IOException or System.ComponentModel.Win32Exception)
{
    // The harness itself cannot run (no worker, no prlimit, unwritable crash folder): say so, and never look green.
    Console.Error.WriteLine($"AccelSdk.Fuzz: {e.Message}");
    return 2;
}
