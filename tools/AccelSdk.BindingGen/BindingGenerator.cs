using System.Runtime.InteropServices;
using System.Text;

namespace AccelSdk.BindingGen;

/// <summary>
/// Parses C headers with libclang and turns their enums, structs (opaque or with their exact layout) and functions
/// into C# <c>[LibraryImport]</c> declarations. Output depends only on the headers and options, never on the machine's
/// paths, so regenerating gives the same bytes.
/// </summary>
public static unsafe partial class BindingGenerator
{
    /// <summary>Generates the C# text for <paramref name="options"/>.</summary>
    public static string Generate(GeneratorOptions options)
    {
        LibClangLoader.Ensure(options.LibClangPath);
        var source = BuildUmbrellaSource(options);
        var tempFile = Path.Combine(Path.GetTempPath(), $"accelsdk-bindinggen-{Environment.ProcessId}-{Guid.NewGuid():N}.h");
        File.WriteAllText(tempFile, source);
        var index = LibClang.clang_createIndex(0, 0);
        try
        {
            var args = new List<string> { "-x", "c", "-std=c11", "-fparse-all-comments" };
            foreach (var dir in options.IncludeDirs) args.Add("-I" + Path.GetFullPath(dir));
            args.AddRange(options.ClangArgs);
            var unit = ParseUnit(index, tempFile, args);
            try
            {
                var collector = new DeclarationCollector(options);
                collector.Collect(LibClang.clang_getTranslationUnitCursor(unit));
                return CSharpWriter.Write(options, collector);
            }
            finally
            {
                LibClang.clang_disposeTranslationUnit(unit);
            }
        }
        finally
        {
            LibClang.clang_disposeIndex(index);
            File.Delete(tempFile);
        }
    }

    private static string BuildUmbrellaSource(GeneratorOptions options)
    {
        var sb = new StringBuilder();
        foreach (var h in options.Headers)
        {
            if (Path.IsPathRooted(h) || File.Exists(h)) sb.Append("#include \"").Append(Path.GetFullPath(h)).Append("\"\n");
            else
            {
                if (!options.IncludeDirs.Any(d => File.Exists(Path.Combine(d, h))))
                {
                    throw new GeneratorException($"header '{h}' is not found under any include dir ({string.Join(", ", options.IncludeDirs)})");
                }
                sb.Append("#include \"").Append(h).Append("\"\n");
            }
        }
        return sb.ToString();
    }

    private static nint ParseUnit(nint index, string file, List<string> args)
    {
        var encoded = args.Select(a => Marshal.StringToCoTaskMemUTF8(a)).ToArray();
        var fileName = Marshal.StringToCoTaskMemUTF8(file);
        try
        {
            nint unit;
            fixed (nint* argv = encoded)
            {
                unit = LibClang.clang_parseTranslationUnit(index, (byte*)fileName, (byte**)argv, encoded.Length, 0, 0,
                    LibClang.ParseSkipFunctionBodies);
            }
            if (unit == 0) throw new GeneratorException($"libclang could not parse {file} (arguments: {string.Join(" ", args)})");
            var errors = new List<string>();
            var count = LibClang.clang_getNumDiagnostics(unit);
            for (uint i = 0; i < count; i++)
            {
                var diagnostic = LibClang.clang_getDiagnostic(unit, i);
                if (LibClang.clang_getDiagnosticSeverity(diagnostic) >= 3) errors.Add(LibClang.Take(LibClang.clang_formatDiagnostic(diagnostic, 0x1 | 0x2)));
                LibClang.clang_disposeDiagnostic(diagnostic);
            }
            if (errors.Count > 0)
            {
                LibClang.clang_disposeTranslationUnit(unit);
                throw new GeneratorException("the headers do not compile:\n  " + string.Join("\n  ", errors.Take(20)));
            }
            return unit;
        }
        finally
        {
            foreach (var p in encoded) Marshal.FreeCoTaskMem(p);
            Marshal.FreeCoTaskMem(fileName);
        }
    }
}

internal static class LibClangLoader
{
    private static bool _done;

    public static void Ensure(string? path)
    {
        if (_done) return;
        _done = true;
        LibClang.UseLibrary(path);
    }
}
