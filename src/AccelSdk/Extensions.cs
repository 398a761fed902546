using System.Reflection;
using AccelSdk.Backends;
using AccelSdk.Diagnostics;
using AccelSdk.Ir;

namespace AccelSdk;

/// <summary>
/// Marks an assembly as an AccelSdk extension: <see cref="ExtensionType"/> implements <see cref="IBackendProvider"/>,
/// <see cref="IModelFormat"/>, <see cref="IMachineProbe"/> or <see cref="IPlanTuner"/> and has a public parameterless
/// constructor. AccelSdk finds such assemblies among the loaded ones and the <c>AccelSdk.*.dll</c> files beside the
/// application, so a new backend is one project.
/// </summary>
[AttributeUsage(AttributeTargets.Assembly, AllowMultiple = true)]
public sealed class AccelSdkExtensionAttribute(Type extensionType) : Attribute
{
    /// <summary>The extension's type.</summary>
    public Type ExtensionType { get; } = extensionType;
}

/// <summary>Discovers and holds the registered extensions.</summary>
public static class ExtensionRegistry
{
    private static readonly object Gate = new();
    private static readonly List<IBackendProvider> Providers = new();
    private static readonly List<IModelFormat> Formats = new();
    private static readonly List<IMachineProbe> Probes = new();
    private static readonly List<IPlanTuner> Tuners = new();
    private static readonly HashSet<Assembly> Scanned = new();
    private static bool _directoryScanned;

    /// <summary>Registers a backend provider by hand (discovery also finds attributed assemblies).</summary>
    public static void Register(IBackendProvider provider)
    {
        lock (Gate)
        {
            if (Providers.All(p => p.Name != provider.Name)) Providers.Add(provider);
        }
    }

    /// <summary>Registers a model format by hand.</summary>
    public static void Register(IModelFormat format)
    {
        lock (Gate)
        {
            if (Formats.All(f => f.Name != format.Name)) Formats.Add(format);
        }
    }

    /// <summary>Registers a machine probe by hand.</summary>
    public static void Register(IMachineProbe probe)
    {
        lock (Gate)
        {
            if (Probes.All(p => p.GetType() != probe.GetType())) Probes.Add(probe);
        }
    }

    /// <summary>All machine probes found.</summary>
    public static IReadOnlyList<IMachineProbe> MachineProbes
    {
        get
        {
            Discover();
            lock (Gate) return Probes.ToArray();
        }
    }

    /// <summary>All backend providers found.</summary>
    public static IReadOnlyList<IBackendProvider> BackendProviders
    {
        get
        {
            Discover();
            lock (Gate) return Providers.ToArray();
        }
    }

    /// <summary>All model formats found.</summary>
    public static IReadOnlyList<IModelFormat> ModelFormatList
    {
        get
        {
            Discover();
            lock (Gate) return Formats.ToArray();
        }
    }

    /// <summary>All plan tuners found (at most one is expected: AccelSdk.Autotune).</summary>
    public static IReadOnlyList<IPlanTuner> PlanTuners
    {
        get
        {
            Discover();
            lock (Gate) return Tuners.ToArray();
        }
    }

    private static void Discover()
    {
        lock (Gate)
        {
            if (!_directoryScanned)
            {
                _directoryScanned = true;
                var dir = AppContext.BaseDirectory;
                // Extensions dropped beside the application are not in its deps.json, nor are their dependencies:
                // resolve those from the application's folder.
                System.Runtime.Loader.AssemblyLoadContext.Default.Resolving += (context, name) =>
                {
                    var candidate = Path.Combine(dir, name.Name + ".dll");
                    return File.Exists(candidate) ? context.LoadFromAssemblyPath(candidate) : null;
                };
                foreach (var file in Directory.EnumerateFiles(dir, "AccelSdk.*.dll"))
                {
                    try
                    {
                        var name = AssemblyName.GetAssemblyName(file);
                        if (AppDomain.CurrentDomain.GetAssemblies().Any(a => AssemblyName.ReferenceMatchesDefinition(a.GetName(), name))) continue;
                        try
                        {
                            Assembly.Load(name);
                        }
                        catch (FileNotFoundException)
                        {
                            // Not in the application's deps.json (an extension dropped beside the app): load it from its file.
                            System.Runtime.Loader.AssemblyLoadContext.Default.LoadFromAssemblyPath(file);
                        }
                    }
                    catch (Exception e) when (e is FileLoadException or BadImageFormatException or FileNotFoundException)
                    {
                        AccelSdkDiagnostics.Warn($"extension assembly {file} could not be loaded: {e.Message}");
                    }
                }
            }
            foreach (var assembly in AppDomain.CurrentDomain.GetAssemblies())
            {
                if (!Scanned.Add(assembly)) continue;
                foreach (var attr in assembly.GetCustomAttributes<AccelSdkExtensionAttribute>())
                {
                    var instance = Activator.CreateInstance(attr.ExtensionType);
                    if (instance is IBackendProvider p && Providers.All(x => x.Name != p.Name)) Providers.Add(p);
                    if (instance is IModelFormat f && Formats.All(x => x.Name != f.Name)) Formats.Add(f);
                    if (instance is IMachineProbe m && Probes.All(x => x.GetType() != m.GetType())) Probes.Add(m);
                    if (instance is IPlanTuner t && Tuners.All(x => x.GetType() != t.GetType())) Tuners.Add(t);
                }
            }
        }
    }
}

/// <summary>A model file format AccelSdk can import into its IR.</summary>
public interface IModelFormat
{
    /// <summary>Format name, e.g. <c>onnx</c>.</summary>
    string Name { get; }

    /// <summary>True when the file looks like this format (extension or magic bytes).</summary>
    bool CanRead(string path, ReadOnlySpan<byte> header);

    /// <summary>Loads the file; throws <see cref="ModelLoadException"/> naming the problem.</summary>
    Model Load(string path);
}

/// <summary>Loads model files through the registered formats.</summary>
public static class ModelFormats
{
    /// <summary>
    /// The bytes of a model file; a missing or unreadable file throws <see cref="ModelLoadException"/> naming it (the
    /// one way every importer reads its file).
    /// </summary>
    public static byte[] ReadAllBytes(string path)
    {
        try
        {
            return File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ModelLoadException(path, e is FileNotFoundException or DirectoryNotFoundException ? "file not found" : "cannot read: " + e.Message, e);
        }
    }

    /// <summary>Loads <paramref name="path"/> with the first format that recognises it.</summary>
    public static Model Load(string path)
    {
        if (!File.Exists(path)) throw new ModelLoadException(path, "file not found");
        Span<byte> header = stackalloc byte[16];
        int read;
        using (var stream = File.OpenRead(path)) read = stream.Read(header);
        var formats = ExtensionRegistry.ModelFormatList;
        foreach (var format in formats)
        {
            if (format.CanRead(path, header[..read])) return format.Load(path);
        }
        throw new ModelLoadException(path, formats.Count == 0
            ? "no model format is registered (reference AccelSdk.Onnx)"
            : $"not a model of a known format ({string.Join(", ", formats.Select(f => f.Name))})");
    }
}
