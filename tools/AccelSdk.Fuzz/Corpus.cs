namespace AccelSdk.Fuzz;

/// <summary>A seed model the mutator starts from, and the corpus folder it came from (seeds are drawn per folder).</summary>
internal sealed record SeedFile(string Path, long Length, string Group);

/// <summary>
/// Builds the seed corpus at run time: the real models under <c>.models/</c> (fetched by scripts/fetch-models.sh, never
/// committed), ONNX's node-test models (Debian libonnx-testdata) for the ONNX target, the small seeds committed in
/// tools/AccelSdk.Fuzz/seeds, and any <c>--corpus</c> folder. Files are recognised by content, not only by name.
/// </summary>
internal static class Corpus
{
    public const string OnnxTestData = "/usr/share/libonnx-testdata/data";

    /// <summary>
    /// The seeds grouped by corpus folder. A mutant's seed is drawn from a random folder first, so the ~15 real models
    /// are not drowned by the ~1,000 node-test models.
    /// </summary>
    public static IReadOnlyList<IReadOnlyList<SeedFile>> Groups(IReadOnlyList<SeedFile> seeds) =>
        seeds.GroupBy(s => s.Group, StringComparer.Ordinal).Select(g => (IReadOnlyList<SeedFile>)g.ToArray()).ToArray();

    public static IReadOnlyList<SeedFile> Build(FuzzOptions options, string repoRoot)
    {
        var folders = new List<string>(options.CorpusDirectories);
        if (options.UseDefaultCorpus)
        {
            folders.Add(Path.Combine(repoRoot, ".models"));
            folders.Add(Path.Combine(repoRoot, "tools", "AccelSdk.Fuzz", "seeds"));
            if (options.Target == FuzzTarget.Onnx) folders.Add(OnnxTestData);
        }
        var seeds = new List<SeedFile>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var folder in folders.Where(Directory.Exists))
        {
            foreach (var file in Directory.EnumerateFiles(folder, "*", new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true }))
            {
                var info = new FileInfo(file);
                if (info.Length == 0 || info.Length > options.MaxSeedBytes || !seen.Add(info.FullName)) continue;
                if (IsOfTarget(file, options.Target)) seeds.Add(new SeedFile(info.FullName, info.Length, folder));
            }
        }
        seeds.Sort((a, b) => string.CompareOrdinal(a.Path, b.Path));
        return seeds;
    }

    /// <summary>True when <paramref name="path"/> holds a model of the target's format (TFL3 identifier, or an .onnx file).</summary>
    public static bool IsOfTarget(string path, FuzzTarget target)
    {
        if (target == FuzzTarget.Onnx) return path.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase);
        Span<byte> header = stackalloc byte[8];
        using var stream = File.OpenRead(path);
        return stream.Read(header) == 8 && header[4] == (byte)'T' && header[5] == (byte)'F' && header[6] == (byte)'L' && header[7] == (byte)'3';
    }

    /// <summary>The repository root: the nearest folder above <paramref name="start"/> holding AccelSdk.sln.</summary>
    public static string FindRepoRoot(string start)
    {
        for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "AccelSdk.sln"))) return dir.FullName;
        }
        throw new DirectoryNotFoundException($"AccelSdk.sln not found above {start}");
    }
}
