namespace AccelSdk.BindingGen;

/// <summary>What to generate: the command line, parsed.</summary>
public sealed record GeneratorOptions
{
    /// <summary>Headers to parse, each as written after <c>#include</c> (relative to an include dir) or a path.</summary>
    public List<string> Headers { get; init; } = new();

    /// <summary>Include directories (<c>-I</c>).</summary>
    public List<string> IncludeDirs { get; init; } = new();

    /// <summary>Extra arguments passed to clang as they are (<c>-D</c>, <c>-isystem</c>, ...).</summary>
    public List<string> ClangArgs { get; init; } = new();

    /// <summary>Header path prefixes (relative to an include dir) whose declarations are emitted; empty = the input headers' own folders.</summary>
    public List<string> Scopes { get; init; } = new();

    /// <summary>Declaration names never emitted.</summary>
    public HashSet<string> Excludes { get; init; } = new(StringComparer.Ordinal);

    /// <summary>The library name in <c>[LibraryImport]</c>; a resolver maps it to a file at run time.</summary>
    public string LibraryName { get; init; } = "";

    /// <summary>Namespace of the generated code.</summary>
    public string Namespace { get; init; } = "";

    /// <summary>Static class holding the functions.</summary>
    public string ClassName { get; init; } = "NativeMethods";

    /// <summary>Output file (<c>*.g.cs</c>).</summary>
    public string Output { get; init; } = "";

    /// <summary>Version of the input headers, written into the header comment.</summary>
    public string? InputVersion { get; init; }

    /// <summary>Emit public declarations instead of internal ones.</summary>
    public bool Public { get; init; }

    /// <summary>Compare with the existing output instead of writing it.</summary>
    public bool Check { get; init; }

    /// <summary>Explicit libclang path.</summary>
    public string? LibClangPath { get; init; }
}
