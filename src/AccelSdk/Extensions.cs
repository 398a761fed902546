using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using AccelSdk.Backends;
using AccelSdk.Ir;

namespace AccelSdk;

/// <summary>
/// Marks an assembly as an AccelSdk extension: <see cref="ExtensionType"/> implements <see cref="IBackendProvider"/>,
/// <see cref="IModelFormat"/>, <see cref="IMachineProbe"/> or <see cref="IPlanTuner"/> and has a public parameterless
/// constructor. <see cref="AccelRuntimeBuilder.AddDiscoveredExtensions"/> (and so <see cref="AccelRuntime.Default"/>)
/// finds such assemblies among the loaded ones and the <c>AccelSdk.*.dll</c> files beside the application.
/// </summary>
[AttributeUsage(AttributeTargets.Assembly, AllowMultiple = true)]
public sealed class AccelSdkExtensionAttribute(
    [DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicParameterlessConstructor)] Type extensionType) : Attribute
{
    /// <summary>The extension's type.</summary>
    [DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicParameterlessConstructor)]
    public Type ExtensionType { get; } = extensionType;
}

/// <summary>
/// Finds AccelSdk extensions by reflection for <see cref="AccelRuntimeBuilder.AddDiscoveredExtensions"/>: loads the
/// <c>AccelSdk.*.dll</c> files beside the application once per process, then creates one instance of every extension
/// type that the loaded assemblies declare.
/// </summary>
internal static class ExtensionDiscovery
{
    /// <summary>Why discovery cannot work in a trimmed or native-AOT application: the reason every caller carries.</summary>
    internal const string TrimMessage =
        "Extension discovery loads the AccelSdk.*.dll files beside the application by reflection; trimming removes what " +
        "they need and native AOT cannot load assemblies. Build the runtime with new AccelRuntimeBuilder().AddOnnxRuntime() " +
        "(and the other Add* methods) instead.";

    private static readonly object Gate = new();
    private static bool _directoryScanned;

    [RequiresUnreferencedCode(TrimMessage)]
    [RequiresDynamicCode(TrimMessage)]
    public static List<object> Discover(Action<string> warn)
    {
        lock (Gate)
        {
            if (!_directoryScanned)
            {
                _directoryScanned = true;
                LoadAssembliesBesideApplication(warn);
            }
        }
        var instances = new List<object>();
        foreach (var assembly in AppDomain.CurrentDomain.GetAssemblies())
        {
            foreach (var attr in assembly.GetCustomAttributes<AccelSdkExtensionAttribute>())
            {
                instances.Add(Activator.CreateInstance(attr.ExtensionType)
                    ?? throw new AccelSdkException($"extension {attr.ExtensionType} of {assembly.GetName().Name} could not be created"));
            }
        }
        return instances;
    }

    [RequiresUnreferencedCode(TrimMessage)]
    private static void LoadAssembliesBesideApplication(Action<string> warn)
    {
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
                warn($"extension assembly {file} could not be loaded: {e.Message}");
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

    /// <summary>Loads <paramref name="path"/> with the first of <see cref="AccelRuntime.Default"/>'s formats that recognises it.</summary>
    [RequiresUnreferencedCode(ExtensionDiscovery.TrimMessage)]
    [RequiresDynamicCode(ExtensionDiscovery.TrimMessage)]
    public static Model Load(string path) => AccelRuntime.Default.LoadModel(path);
}

/// <summary>Loads a model file with the first of some formats that recognises it.</summary>
internal static class ModelFileLoader
{
    public static Model Load(string path, IReadOnlyList<IModelFormat> formats)
    {
        if (!File.Exists(path)) throw new ModelLoadException(path, "file not found");
        Span<byte> header = stackalloc byte[16];
        int read;
        using (var stream = File.OpenRead(path)) read = stream.Read(header);
        foreach (var format in formats)
        {
            if (format.CanRead(path, header[..read])) return format.Load(path);
        }
        throw new ModelLoadException(path, formats.Count == 0
            ? "no model format is registered (reference AccelSdk.Onnx and add it: AccelRuntimeBuilder.AddOnnx())"
            : $"not a model of a known format ({string.Join(", ", formats.Select(f => f.Name))})");
    }
}
