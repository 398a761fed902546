using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace AccelSdk.Fuzz;

/// <summary>A deduplicated finding: its signature, how often it was hit, and the files written for it.</summary>
internal sealed record Finding(string Signature, Outcome First, string ModelFile, string ReportFile)
{
    public int Count { get; set; } = 1;
}

/// <summary>Counts of one run, printed at its end.</summary>
internal sealed class RunStats
{
    public int Mutants { get; set; }
    public int Imported { get; set; }
    public int Rejected { get; set; }
    public int Runs { get; set; }
    public int MutatorSkips { get; set; }
}

/// <summary>
/// The fuzz loop: picks a seed and a mutation per iteration (all from <c>--seed</c>, so a run is reproducible), has the
/// worker check the mutant, and keeps every finding once per signature: minimised (steps dropped while the signature
/// stays), written to the crash folder with a report, and counted.
/// </summary>
internal sealed class Supervisor
{
    private readonly FuzzOptions _options;
    private readonly string _repoRoot;
    private readonly IMutator _mutator;
    private readonly Dictionary<string, Finding> _findings = new(StringComparer.Ordinal);
    private readonly Dictionary<string, byte[]> _seedCache = new(StringComparer.Ordinal);
    private readonly string _workDirectory;

    public Supervisor(FuzzOptions options, string repoRoot)
    {
        _options = options;
        _repoRoot = repoRoot;
        _mutator = options.Target == FuzzTarget.Onnx ? new OnnxMutator() : new TfLiteMutator();
        _workDirectory = Path.Combine(Path.GetTempPath(), $"accelsdk-fuzz-{Environment.ProcessId}");
    }

    public IReadOnlyCollection<Finding> Findings => _findings.Values;

    public RunStats Stats { get; } = new();

    /// <summary>Runs the loop; returns 0 without findings, 1 with findings, 2 when there is nothing to fuzz.</summary>
    public int Run()
    {
        var seeds = Corpus.Build(_options, _repoRoot);
        var target = _options.Target.ToString().ToLowerInvariant();
        if (seeds.Count == 0)
        {
            Console.Error.WriteLine($"fuzz {target}: no seed model found (run scripts/setup.sh: it fetches .models/ and installs libonnx-testdata; or pass --corpus DIR)");
            return 2;
        }
        Directory.CreateDirectory(_workDirectory);
        Directory.CreateDirectory(_options.CrashDirectory);
        var groups = Corpus.Groups(seeds);
        using var worker = new WorkerProcess(_options, _repoRoot);
        var watch = Stopwatch.StartNew();
        var budget = TimeSpan.FromSeconds(_options.Seconds);
        var timeout = TimeSpan.FromSeconds(_options.MutantTimeoutSeconds);
        Console.WriteLine($"fuzz {target}: {seeds.Count} seeds in {groups.Count} folder(s), seed {_options.Seed}, {_options.Seconds:0} s, crashes -> {Path.GetFullPath(_options.CrashDirectory)}");
        try
        {
            for (var iteration = 0; iteration < _options.MaxMutants && watch.Elapsed < budget; iteration++)
            {
                var random = new Random(MutantSeed(_options.Seed, iteration));
                var group = groups[random.Next(groups.Count)];
                var seed = group[random.Next(group.Count)];
                var steps = Mutations.RandomSteps(random);
                var compile = random.NextDouble() < _options.CompileFraction;
                CheckOne(worker, seed, steps, compile, timeout, iteration);
                if (iteration == 0) Console.WriteLine($"fuzz {target}: worker devices: {worker.Devices}");
            }
        }
        finally
        {
            TryDelete(_workDirectory);
        }
        PrintSummary(target, watch.Elapsed, worker.Starts);
        return _findings.Count == 0 ? 0 : 1;
    }

    /// <summary>
    /// The seed of mutant <paramref name="iteration"/> of a run: a fixed mix (SplitMix64's finaliser), not
    /// <see cref="HashCode"/>, whose seed changes with every process, so a run replays from <c>--seed</c> alone.
    /// </summary>
    public static int MutantSeed(int runSeed, int iteration)
    {
        var z = unchecked(((ulong)(uint)runSeed << 32 | (uint)iteration) + 0x9E3779B97F4A7C15UL);
        z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
        z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
        return (int)(z ^ (z >> 31));
    }

    private void CheckOne(WorkerProcess worker, SeedFile seed, MutationStep[] steps, bool compile, TimeSpan timeout, int iteration)
    {
        var seedBytes = SeedBytes(seed);
        Mutant mutant;
        try
        {
            mutant = _mutator.Apply(seedBytes, steps);
        }
        catch (Exception e) when (e is Google.Protobuf.InvalidProtocolBufferException or InvalidOperationException or ArgumentException)
        {
            // The mutator could not make this mutant (an unparsable seed, a message too big to write): nothing was checked.
            Stats.MutatorSkips++;
            return;
        }
        var path = Path.Combine(_workDirectory, $"mutant-{Path.GetFileNameWithoutExtension(seed.Path)}{_options.Extension}");
        File.WriteAllBytes(path, mutant.Bytes);
        var outcome = worker.Check(path, compile, timeout);
        Stats.Mutants++;
        if (outcome.Imported) Stats.Imported++;
        if (outcome.Kind == OutcomeKind.Rejected) Stats.Rejected++;
        Stats.Runs += outcome.RunsCompleted;
        if (!outcome.IsFinding) return;
        if (_findings.TryGetValue(outcome.Signature, out var known))
        {
            known.Count++;
            return;
        }
        var minimal = outcome.Kind == OutcomeKind.Hang ? mutant : Minimise(worker, seedBytes, mutant, outcome, path, compile, timeout);
        _findings[outcome.Signature] = Save(outcome, seed, minimal, compile, iteration);
        Console.WriteLine($"  finding #{_findings.Count} at mutant {iteration}: {outcome.Signature}");
    }

    /// <summary>Drops steps one at a time while the mutant still gives the same signature (cheap: a few worker calls).</summary>
    private Mutant Minimise(WorkerProcess worker, byte[] seedBytes, Mutant mutant, Outcome outcome, string path, bool compile, TimeSpan timeout)
    {
        var steps = mutant.Steps.ToList();
        for (var i = steps.Count - 1; i >= 0 && steps.Count > 1; i--)
        {
            var fewer = steps.Where((_, j) => j != i).ToList();
            Mutant candidate;
            try
            {
                candidate = _mutator.Apply(seedBytes, fewer);
            }
            catch (Exception e) when (e is Google.Protobuf.InvalidProtocolBufferException or InvalidOperationException or ArgumentException)
            {
                continue;
            }
            File.WriteAllBytes(path, candidate.Bytes);
            if (worker.Check(path, compile, timeout).Signature == outcome.Signature)
            {
                steps = fewer;
                mutant = candidate;
            }
        }
        return mutant;
    }

    private Finding Save(Outcome outcome, SeedFile seed, Mutant mutant, bool compile, int iteration)
    {
        var target = _options.Target.ToString().ToLowerInvariant();
        var hash = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(outcome.Signature)))[..8].ToLowerInvariant();
        var name = $"{target}-{Slug(outcome.Signature)}-{hash}";
        var modelFile = Path.GetFullPath(Path.Combine(_options.CrashDirectory, name + _options.Extension));
        var reportFile = Path.ChangeExtension(modelFile, ".txt");
        File.WriteAllBytes(modelFile, mutant.Bytes);
        var report = new StringBuilder()
            .AppendLine($"signature: {outcome.Signature}")
            .AppendLine($"kind: {outcome.Kind}")
            .AppendLine($"stage: {outcome.Stage}")
            .AppendLine($"seed file: {seed.Path}")
            .AppendLine($"run seed: {_options.Seed}, mutant {iteration}, compile+run: {compile}")
            .AppendLine($"steps: {string.Join(", ", mutant.Steps.Select(s => s.Seed.ToString(CultureInfo.InvariantCulture)))}")
            .AppendLine("mutations:");
        foreach (var d in mutant.Descriptions) report.AppendLine("  " + d);
        report.AppendLine($"message: {outcome.Message}")
            .AppendLine($"replay: dotnet run -c Release --project tools/AccelSdk.Fuzz -- --target {target} --replay {modelFile}")
            .AppendLine()
            .AppendLine(outcome.StackTrace);
        File.WriteAllText(reportFile, report.ToString());
        return new Finding(outcome.Signature, outcome, modelFile, reportFile);
    }

    private void PrintSummary(string target, TimeSpan elapsed, int workerStarts)
    {
        var s = Stats;
        var counts = $"fuzz {target}: {s.Mutants} mutants in {elapsed.TotalSeconds:0} s: {s.Imported} imported, {s.Rejected} refused with a typed error, " +
            $"{s.Runs} compiled and run, {workerStarts} worker start(s), {s.MutatorSkips} skipped by the mutator";
        Console.WriteLine(counts);
        var summary = new StringBuilder().AppendLine($"{counts} (seed {_options.Seed})");
        foreach (var f in _findings.Values.OrderByDescending(f => f.Count))
        {
            var line = $"FINDING {f.Count,5}x  {f.Signature}  ->  {f.ModelFile}";
            Console.WriteLine(line);
            summary.AppendLine(line);
        }
        File.WriteAllText(Path.Combine(_options.CrashDirectory, $"summary-{target}.txt"), summary.ToString());
        Console.WriteLine($"fuzz {target}: {_findings.Count} distinct finding(s), {_findings.Values.Sum(f => f.Count)} mutant(s) in all");
    }

    private byte[] SeedBytes(SeedFile seed)
    {
        if (_seedCache.TryGetValue(seed.Path, out var bytes)) return bytes;
        if (_seedCache.Values.Sum(b => (long)b.Length) > 256L << 20) _seedCache.Clear();
        return _seedCache[seed.Path] = File.ReadAllBytes(seed.Path);
    }

    private static string Slug(string signature)
    {
        var builder = new StringBuilder();
        foreach (var c in signature)
        {
            builder.Append(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' ? c : '_');
            if (builder.Length >= 90) break;
        }
        return builder.ToString();
    }

    private static void TryDelete(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>
    /// <c>--replay FILE|DIR</c>: checks one file, or every file of the target's format in a folder (compile and run
    /// included), with one worker, and prints a line per file. Returns 1 when any file gives a finding.
    /// </summary>
    public static int Replay(FuzzOptions options, string repoRoot)
    {
        var target = Path.GetFullPath(options.ReplayFile!);
        var files = Directory.Exists(target)
            ? Directory.GetFiles(target).Where(f => Corpus.IsOfTarget(f, options.Target)).Order(StringComparer.Ordinal).ToArray()
            : new[] { target };
        if (files.Length == 0)
        {
            Console.Error.WriteLine($"replay: no {options.Extension} file in {target}");
            return 2;
        }
        using var worker = new WorkerProcess(options, repoRoot);
        var findings = 0;
        foreach (var file in files)
        {
            var outcome = worker.Check(file, compile: true, TimeSpan.FromSeconds(options.MutantTimeoutSeconds));
            var detail = outcome.IsFinding ? outcome.Signature : outcome.Message ?? "";
            Console.WriteLine($"{outcome.Kind}: {detail} (stage: {outcome.Stage}; devices: {worker.Devices}) {file}");
            if (!outcome.IsFinding) continue;
            findings++;
            if (files.Length == 1 && outcome.StackTrace is not null) Console.WriteLine(outcome.StackTrace);
        }
        Console.WriteLine($"replay: {files.Length - findings} passed, {findings} failed");
        return findings == 0 ? 0 : 1;
    }
}
