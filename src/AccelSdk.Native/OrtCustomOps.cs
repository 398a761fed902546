using System.Runtime.InteropServices;
using AccelSdk.Native.Interop;

namespace AccelSdk.Native;

/// <summary>
/// AccelSdk's ONNX Runtime custom-operator library (<c>libaccelsdk_ort_ops.so</c>): operators imported models need
/// and ONNX lacks, in domain <see cref="Domain"/>. The ONNX Runtime backend registers it with
/// <c>SessionOptions.RegisterCustomOpLibrary(OrtCustomOps.LibraryPath)</c> only for models that use the domain.
/// </summary>
public static class OrtCustomOps
{
    /// <summary>The ONNX domain of the library's operators.</summary>
    public const string Domain = "com.accelsdk";

    /// <summary>The opset version of <see cref="Domain"/> models import.</summary>
    public const int OpsetVersion = 1;

    /// <summary>The shim's library name (file <c>libaccelsdk_ort_ops.so</c>).</summary>
    public const string LibraryName = OrtOpsNative.LibraryName;

    /// <summary>The C ABI version this assembly was generated against.</summary>
    public const int ExpectedAbiVersion = 1;

    private static readonly Lazy<State> Loaded = new(Load);

    /// <summary>True when the library is deployed and loads.</summary>
    public static bool IsAvailable => Loaded.Value.Error is null;

    /// <summary>Why it is unavailable (with every path searched), or null.</summary>
    public static string? UnavailableReason => Loaded.Value.Error?.Message;

    /// <summary>Full path of the library to hand to ONNX Runtime; throws <see cref="NativeShimUnavailableException"/> when missing.</summary>
    public static string LibraryPath => Loaded.Value.Error is { } e ? throw e : Loaded.Value.Path!;

    /// <summary>The op types the library implements (empty when unavailable).</summary>
    public static IReadOnlySet<string> OperatorNames => Loaded.Value.Operators;

    /// <summary>True when the library runs <paramref name="opType"/> of <paramref name="domain"/>.</summary>
    public static bool Implements(string domain, string opType) =>
        domain == Domain && OperatorNames.Contains(opType);

    private sealed record State(string? Path, IReadOnlySet<string> Operators, NativeShimUnavailableException? Error);

    private static unsafe State Load()
    {
        var empty = new HashSet<string>();
        try
        {
            NativeShim.EnsureResolver();
            NativeShim.Load(LibraryName);
            var abi = OrtOpsNative.accelsdk_ort_ops_abi_version();
            var path = NativeShim.LoadedPath(LibraryName);
            if (abi != ExpectedAbiVersion)
            {
                return new State(null, empty, new NativeShimUnavailableException($"lib{LibraryName}.so",
                    $"ABI version {abi} does not match the expected {ExpectedAbiVersion}", new[] { path }));
            }
            var names = new HashSet<string>(StringComparer.Ordinal);
            var count = OrtOpsNative.accelsdk_ort_ops_count();
            for (var i = 0; i < count; i++)
            {
                var name = OrtOpsNative.accelsdk_ort_ops_name(i);
                if (name != null) names.Add(Marshal.PtrToStringUTF8((IntPtr)name)!);
            }
            return new State(path, names, null);
        }
        catch (NativeShimUnavailableException e)
        {
            return new State(null, empty, e);
        }
    }
}
