using System.Reflection;
using System.Runtime.InteropServices;

namespace AccelSdk.TfLite.Native;

/// <summary>
/// Finds and loads the TFLite C library once per process. Tries, in order: the path given to <see cref="Configure"/>,
/// <c>ACCELSDK_TFLITE_LIB</c>, the library the AccelSdk.TfLite package carries (<c>runtimes/&lt;rid&gt;/native</c> beside
/// this assembly or the application, or flat beside them after a RID-specific publish, then the deps.json probe), the
/// upstream name <c>libtensorflowlite_c.so</c> on the loader's path, and Debian's SONAME
/// <c>libtensorflow-lite.so.2.14.1</c> (the forky fallback under scripts/setup-tflite.sh's host). A missing library is a
/// state to report, never a crash.
/// </summary>
public static class TfLiteLibrary
{
    /// <summary>The environment variable naming an explicit library path.</summary>
    public const string PathVariable = "ACCELSDK_TFLITE_LIB";

    private static readonly object Gate = new();
    private static string? _explicitPath;
    private static bool _attempted;
    private static nint _handle;
    private static string? _loadedFrom;
    private static string? _failure;
    private static IReadOnlyList<string> _tried = Array.Empty<string>();
    private static bool _resolverInstalled;

    /// <summary>Sets an explicit library path; must be called before the library is first used.</summary>
    public static void Configure(string libraryPath)
    {
        lock (Gate)
        {
            if (_attempted && _handle != 0) throw new InvalidOperationException($"the TFLite library is already loaded from {_loadedFrom}");
            _explicitPath = libraryPath;
            _attempted = false;
        }
    }

    /// <summary>True when a TFLite library was loaded.</summary>
    public static bool IsAvailable => EnsureLoaded() != 0;

    /// <summary>The file the library was loaded from, or null.</summary>
    public static string? LoadedFrom
    {
        get
        {
            EnsureLoaded();
            return _loadedFrom;
        }
    }

    /// <summary>Why no library could be loaded (every path tried with the loader's reason), or null when loaded.</summary>
    public static string? Failure
    {
        get
        {
            EnsureLoaded();
            return _failure;
        }
    }

    /// <summary>Every name or path tried, in order.</summary>
    public static IReadOnlyList<string> TriedPaths
    {
        get
        {
            EnsureLoaded();
            return _tried;
        }
    }

    /// <summary>The library handle, or 0.</summary>
    internal static nint Handle => EnsureLoaded();

    /// <summary>
    /// True when the loaded library has the XNNPACK delegate (the library scripts/build-tflite.sh builds for linux-x64
    /// has it; Debian's own build and the linux-arm64 build do not).
    /// </summary>
    public static bool HasXnnPack => HasExport("TfLiteXNNPackDelegateCreate");

    /// <summary>True when the loaded library exports <paramref name="symbol"/> (optional features such as delegates).</summary>
    public static bool HasExport(string symbol)
    {
        var handle = EnsureLoaded();
        return handle != 0 && NativeLibrary.TryGetExport(handle, symbol, out _);
    }

    /// <summary>Throws a <see cref="BackendException"/> naming the tried paths when the library is missing.</summary>
    internal static void Require()
    {
        if (EnsureLoaded() == 0) throw new BackendException("tflite", "the TFLite runtime is not available: " + _failure);
    }

    private static nint EnsureLoaded()
    {
        lock (Gate)
        {
            if (!_resolverInstalled)
            {
                _resolverInstalled = true;
                NativeLibrary.SetDllImportResolver(typeof(TfLiteLibrary).Assembly, Resolve);
            }
            if (_attempted) return _handle;
            _attempted = true;
            var candidates = new List<string>();
            if (!string.IsNullOrEmpty(_explicitPath)) candidates.Add(_explicitPath);
            var fromEnv = Environment.GetEnvironmentVariable(PathVariable);
            if (!string.IsNullOrEmpty(fromEnv)) candidates.Add(fromEnv);
            candidates.AddRange(PackagedPaths().Where(File.Exists));
            candidates.Add(FileName);
            candidates.Add("libtensorflow-lite.so.2.14.1");
            var reasons = new List<string>();
            foreach (var candidate in candidates)
            {
                try
                {
                    _handle = NativeLibrary.Load(candidate);
                    _loadedFrom = candidate;
                    _failure = null;
                    break;
                }
                catch (DllNotFoundException e)
                {
                    reasons.Add($"{candidate}: {FirstLine(e.Message)}");
                }
                catch (BadImageFormatException e)
                {
                    reasons.Add($"{candidate}: {FirstLine(e.Message)}");
                }
            }
            _tried = candidates;
            if (_handle == 0)
            {
                _failure = "tried " + string.Join("; ", reasons) +
                    $". Set {PathVariable}, use an AccelSdk.TfLite package that carries the library (the Cake target TfLiteNative builds it), or run scripts/setup-tflite.sh and start the process with the host it prints.";
            }
            return _handle;
        }
    }

    /// <summary>The library's file name in the package and in the build output.</summary>
    public const string FileName = "libtensorflowlite_c.so";

    /// <summary>
    /// Where the AccelSdk.TfLite package's own library lies: under <c>runtimes/&lt;rid&gt;/native</c> beside this assembly
    /// (a project reference, or a RID-less build of a package consumer) or beside the application, and flat beside
    /// either (a RID-specific build or publish copies native assets there).
    /// </summary>
    internal static IEnumerable<string> PackagedPaths()
    {
        var rid = RuntimeInformation.RuntimeIdentifier.StartsWith("linux-", StringComparison.Ordinal)
            ? RuntimeInformation.RuntimeIdentifier
            : "linux-" + RuntimeInformation.OSArchitecture.ToString().ToLowerInvariant();
        var folders = new[] { Path.GetDirectoryName(typeof(TfLiteLibrary).Assembly.Location), AppContext.BaseDirectory }
            .Where(folder => !string.IsNullOrEmpty(folder))
            .Select(folder => Path.GetFullPath(folder!))
            .Distinct(StringComparer.Ordinal);
        foreach (var folder in folders)
        {
            yield return Path.Combine(folder, "runtimes", rid, "native", FileName);
            yield return Path.Combine(folder, FileName);
        }
    }

    private static string FirstLine(string text)
    {
        var cut = text.IndexOf('\n');
        return (cut < 0 ? text : text[..cut]).Trim();
    }

    private static nint Resolve(string name, Assembly assembly, DllImportSearchPath? path)
    {
        if (name != TfLiteNative.LibraryName) return 0;
        var handle = EnsureLoaded();
        if (handle == 0) throw new DllNotFoundException("TFLite C library not found: " + _failure);
        return handle;
    }
}
