using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using System.Runtime.InteropServices;

namespace AccelSdk.Native;

/// <summary>A native shim that could not be loaded: names the library and every path it was looked for in.</summary>
public sealed class NativeShimUnavailableException : AccelSdkException
{
    /// <summary>Creates the exception.</summary>
    public NativeShimUnavailableException(string library, string reason, IReadOnlyList<string> searchedPaths)
        : base($"native shim {library} is unavailable: {reason}" +
               (searchedPaths.Count > 0 ? $"; looked in: {string.Join(", ", searchedPaths)}" : ""))
    {
        Library = library;
        Reason = reason;
        SearchedPaths = searchedPaths;
    }

    /// <summary>The shim's file name, e.g. <c>libaccelsdk_probe.so</c>.</summary>
    public string Library { get; }

    /// <summary>Why it could not be used.</summary>
    public string Reason { get; }

    /// <summary>The full paths tried, in order.</summary>
    public IReadOnlyList<string> SearchedPaths { get; }
}

/// <summary>
/// Finds and loads AccelSdk's native shims. Looks in <c>$ACCELSDK_NATIVE_DIR</c>, then beside the application and
/// beside this assembly, each both flat and under <c>runtimes/&lt;rid&gt;/native</c> (the NuGet layout).
/// </summary>
public static class NativeShim
{
    /// <summary>Environment variable naming an extra directory searched first.</summary>
    public const string DirectoryVariable = "ACCELSDK_NATIVE_DIR";

    private static readonly Dictionary<string, (IntPtr Handle, string? Path, NativeShimUnavailableException? Error)> Loaded = new();
    private static readonly object Gate = new();

    /// <summary>The runtime identifier whose <c>runtimes/&lt;rid&gt;/native</c> folder is searched.</summary>
    public static string RuntimeIdentifier { get; } = RuntimeInformation.OSArchitecture switch
    {
        Architecture.X64 => "linux-x64",
        Architecture.Arm64 => "linux-arm64",
        var other => "linux-" + other.ToString().ToLowerInvariant(),
    };

    static NativeShim()
    {
        NativeLibrary.SetDllImportResolver(typeof(NativeShim).Assembly, Resolve);
    }

    /// <summary>The directories searched for shims, in order.</summary>
    [UnconditionalSuppressMessage("SingleFile", "IL3000", Justification = "An empty Location (single-file or native AOT) is skipped; AppContext.BaseDirectory is searched first.")]
    public static IReadOnlyList<string> SearchDirectories()
    {
        var dirs = new List<string>();
        var overrideDir = Environment.GetEnvironmentVariable(DirectoryVariable);
        if (!string.IsNullOrEmpty(overrideDir)) dirs.Add(overrideDir);
        foreach (var baseDir in new[] { AppContext.BaseDirectory, Path.GetDirectoryName(typeof(NativeShim).Assembly.Location) })
        {
            if (string.IsNullOrEmpty(baseDir)) continue;
            dirs.Add(baseDir);
            dirs.Add(Path.Combine(baseDir, "runtimes", RuntimeIdentifier, "native"));
        }
        return dirs.Select(d => Path.TrimEndingDirectorySeparator(Path.GetFullPath(d))).Distinct(StringComparer.Ordinal).ToArray();
    }

    /// <summary>
    /// Loads <c>lib<paramref name="name"/>.so</c> from the first of <paramref name="directories"/> that has it.
    /// Throws <see cref="NativeShimUnavailableException"/> listing every path tried.
    /// </summary>
    public static IntPtr Load(string name, IEnumerable<string> directories) => Load(name, directories, out _);

    private static IntPtr Load(string name, IEnumerable<string> directories, out string loadedPath)
    {
        var fileName = $"lib{name}.so";
        var tried = new List<string>();
        var failures = new List<string>();
        foreach (var dir in directories)
        {
            var path = Path.Combine(dir, fileName);
            tried.Add(path);
            if (!File.Exists(path)) continue;
            try
            {
                var handle = NativeLibrary.Load(path);
                loadedPath = path;
                return handle;
            }
            catch (Exception e) when (e is DllNotFoundException or BadImageFormatException)
            {
                failures.Add($"{path}: {e.Message}");
            }
        }
        var reason = failures.Count > 0
            ? "it exists but does not load (" + string.Join("; ", failures) + ")"
            : $"{fileName} not found (build it with `dotnet cake --target=Native`, or set {DirectoryVariable})";
        throw new NativeShimUnavailableException(fileName, reason, tried);
    }

    /// <summary>Loads a shim from <see cref="SearchDirectories"/> once; later calls return the same handle or error.</summary>
    public static IntPtr Load(string name)
    {
        lock (Gate)
        {
            if (!Loaded.TryGetValue(name, out var entry))
            {
                try
                {
                    var handle = Load(name, SearchDirectories(), out var path);
                    entry = (handle, path, null);
                }
                catch (NativeShimUnavailableException e)
                {
                    entry = (IntPtr.Zero, null, e);
                }
                Loaded[name] = entry;
            }
            if (entry.Error is not null) throw entry.Error;
            return entry.Handle;
        }
    }

    /// <summary>The full path a shim was loaded from by <see cref="Load(string)"/>; throws when it was not.</summary>
    public static string LoadedPath(string name)
    {
        lock (Gate)
        {
            if (Loaded.TryGetValue(name, out var entry) && entry.Path is not null) return entry.Path;
        }
        throw new InvalidOperationException($"lib{name}.so has not been loaded");
    }

    /// <summary>Makes sure the resolver is installed before the first P/Invoke of this assembly.</summary>
    internal static void EnsureResolver()
    {
        // Touching a static member runs the static constructor exactly once.
        _ = RuntimeIdentifier;
    }

    private static IntPtr Resolve(string libraryName, Assembly assembly, DllImportSearchPath? searchPath) =>
        libraryName.StartsWith("accelsdk_", StringComparison.Ordinal) ? Load(libraryName) : IntPtr.Zero;
}
