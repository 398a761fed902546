using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace AccelSdk.BindingGen;

// The generator cannot generate its own bindings, so this small slice of libclang's stable C API is written by hand.
// Layouts and enum values follow clang-c/Index.h, which has kept them stable across releases.

[StructLayout(LayoutKind.Sequential)]
internal struct CXString
{
    public nint Data;
    public uint PrivateFlags;
}

[StructLayout(LayoutKind.Sequential)]
internal unsafe struct CXCursor
{
    public CXCursorKind Kind;
    public int XData;
    public nint Data0, Data1, Data2;
}

[StructLayout(LayoutKind.Sequential)]
internal struct CXType
{
    public CXTypeKind Kind;
    public nint Data0, Data1;
}

[StructLayout(LayoutKind.Sequential)]
internal struct CXSourceLocation
{
    public nint Ptr0, Ptr1;
    public uint IntData;
}

internal enum CXCursorKind
{
    StructDecl = 2,
    UnionDecl = 3,
    EnumDecl = 5,
    FieldDecl = 6,
    EnumConstantDecl = 7,
    FunctionDecl = 8,
    VarDecl = 9,
    ParmDecl = 10,
    TypedefDecl = 20,
    TranslationUnit = 350,
}

internal enum CXTypeKind
{
    Invalid = 0,
    Unexposed = 1,
    Void = 2,
    Bool = 3,
    Char_U = 4,
    UChar = 5,
    Char16 = 6,
    Char32 = 7,
    UShort = 8,
    UInt = 9,
    ULong = 10,
    ULongLong = 11,
    UInt128 = 12,
    Char_S = 13,
    SChar = 14,
    WChar = 15,
    Short = 16,
    Int = 17,
    Long = 18,
    LongLong = 19,
    Int128 = 20,
    Float = 21,
    Double = 22,
    LongDouble = 23,
    Half = 31,
    Float16 = 32,
    Pointer = 101,
    Record = 105,
    Enum = 106,
    Typedef = 107,
    FunctionNoProto = 110,
    FunctionProto = 111,
    ConstantArray = 112,
    IncompleteArray = 114,
    Elaborated = 119,
    Attributed = 163,
}

internal static unsafe partial class LibClang
{
    public const string Library = "libclang";

    public const uint ParseSkipFunctionBodies = 0x40;
    public const uint ParseIncomplete = 0x02;

    [LibraryImport(Library)] public static partial nint clang_createIndex(int excludeDeclarationsFromPch, int displayDiagnostics);
    [LibraryImport(Library)] public static partial void clang_disposeIndex(nint index);
    [LibraryImport(Library)] public static partial nint clang_parseTranslationUnit(nint index, byte* sourceFilename, byte** commandLineArgs, int numArgs, nint unsavedFiles, uint numUnsaved, uint options);
    [LibraryImport(Library)] public static partial void clang_disposeTranslationUnit(nint unit);
    [LibraryImport(Library)] public static partial uint clang_getNumDiagnostics(nint unit);
    [LibraryImport(Library)] public static partial nint clang_getDiagnostic(nint unit, uint index);
    [LibraryImport(Library)] public static partial int clang_getDiagnosticSeverity(nint diagnostic);
    [LibraryImport(Library)] public static partial CXString clang_formatDiagnostic(nint diagnostic, uint options);
    [LibraryImport(Library)] public static partial void clang_disposeDiagnostic(nint diagnostic);
    [LibraryImport(Library)] public static partial CXCursor clang_getTranslationUnitCursor(nint unit);
    [LibraryImport(Library)] public static partial uint clang_visitChildren(CXCursor parent, delegate* unmanaged<CXCursor, CXCursor, nint, int> visitor, nint clientData);
    [LibraryImport(Library)] public static partial CXString clang_getCursorSpelling(CXCursor cursor);
    [LibraryImport(Library)] public static partial CXString clang_getCursorUSR(CXCursor cursor);
    [LibraryImport(Library)] public static partial CXType clang_getCursorType(CXCursor cursor);
    [LibraryImport(Library)] public static partial CXType clang_getCursorResultType(CXCursor cursor);
    [LibraryImport(Library)] public static partial CXType clang_getTypedefDeclUnderlyingType(CXCursor cursor);
    [LibraryImport(Library)] public static partial CXType clang_getEnumDeclIntegerType(CXCursor cursor);
    [LibraryImport(Library)] public static partial long clang_getEnumConstantDeclValue(CXCursor cursor);
    [LibraryImport(Library)] public static partial ulong clang_getEnumConstantDeclUnsignedValue(CXCursor cursor);
    [LibraryImport(Library)] public static partial int clang_Cursor_getNumArguments(CXCursor cursor);
    [LibraryImport(Library)] public static partial CXCursor clang_Cursor_getArgument(CXCursor cursor, uint index);
    [LibraryImport(Library)] public static partial uint clang_isCursorDefinition(CXCursor cursor);
    [LibraryImport(Library)] public static partial uint clang_Cursor_isAnonymous(CXCursor cursor);
    [LibraryImport(Library)] public static partial uint clang_Cursor_isAnonymousRecordDecl(CXCursor cursor);
    [LibraryImport(Library)] public static partial uint clang_Cursor_isBitField(CXCursor cursor);
    [LibraryImport(Library)] public static partial int clang_getFieldDeclBitWidth(CXCursor cursor);
    [LibraryImport(Library)] public static partial long clang_Cursor_getOffsetOfField(CXCursor cursor);
    [LibraryImport(Library)] public static partial uint clang_Cursor_isVariadic(CXCursor cursor);
    [LibraryImport(Library)] public static partial CXString clang_Cursor_getBriefCommentText(CXCursor cursor);
    [LibraryImport(Library)] public static partial CXSourceLocation clang_getCursorLocation(CXCursor cursor);
    [LibraryImport(Library)] public static partial int clang_Location_isInSystemHeader(CXSourceLocation location);
    [LibraryImport(Library)] public static partial void clang_getExpansionLocation(CXSourceLocation location, nint* file, uint* line, uint* column, uint* offset);
    [LibraryImport(Library)] public static partial CXString clang_getFileName(nint file);
    [LibraryImport(Library)] public static partial CXType clang_getCanonicalType(CXType type);
    [LibraryImport(Library)] public static partial CXType clang_getPointeeType(CXType type);
    [LibraryImport(Library)] public static partial CXCursor clang_getTypeDeclaration(CXType type);
    [LibraryImport(Library)] public static partial CXString clang_getTypeSpelling(CXType type);
    [LibraryImport(Library)] public static partial CXString clang_getTypedefName(CXType type);
    [LibraryImport(Library)] public static partial uint clang_isConstQualifiedType(CXType type);
    [LibraryImport(Library)] public static partial CXType clang_getArrayElementType(CXType type);
    [LibraryImport(Library)] public static partial long clang_getArraySize(CXType type);
    [LibraryImport(Library)] public static partial CXType clang_getResultType(CXType type);
    [LibraryImport(Library)] public static partial int clang_getNumArgTypes(CXType type);
    [LibraryImport(Library)] public static partial CXType clang_getArgType(CXType type, uint index);
    [LibraryImport(Library)] public static partial uint clang_isFunctionTypeVariadic(CXType type);
    [LibraryImport(Library)] public static partial CXType clang_Type_getNamedType(CXType type);
    [LibraryImport(Library)] public static partial CXType clang_Type_getModifiedType(CXType type);
    [LibraryImport(Library)] public static partial long clang_Type_getSizeOf(CXType type);
    [LibraryImport(Library)] public static partial long clang_Type_getOffsetOf(CXType type, byte* fieldName);
    [LibraryImport(Library)] public static partial CXString clang_getClangVersion();
    [LibraryImport(Library)] public static partial byte* clang_getCString(CXString text);
    [LibraryImport(Library)] public static partial void clang_disposeString(CXString text);

    /// <summary>Copies and frees a libclang string.</summary>
    public static string Take(CXString text)
    {
        try
        {
            var p = clang_getCString(text);
            return p == null ? "" : Marshal.PtrToStringUTF8((nint)p) ?? "";
        }
        finally
        {
            clang_disposeString(text);
        }
    }

    public static string Spelling(CXCursor c) => Take(clang_getCursorSpelling(c));

    public static string Usr(CXCursor c) => Take(clang_getCursorUSR(c));

    public static string Spelling(CXType t) => Take(clang_getTypeSpelling(t));

    public static long OffsetOf(CXType record, string field)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(field + "\0");
        fixed (byte* p = bytes) return clang_Type_getOffsetOf(record, p);
    }

    /// <summary>The direct children of <paramref name="parent"/>, in source order.</summary>
    public static List<CXCursor> Children(CXCursor parent)
    {
        var list = new List<CXCursor>();
        var handle = GCHandle.Alloc(list);
        try
        {
            clang_visitChildren(parent, &CollectChild, GCHandle.ToIntPtr(handle));
        }
        finally
        {
            handle.Free();
        }
        return list;
    }

    [UnmanagedCallersOnly]
    private static int CollectChild(CXCursor cursor, CXCursor parent, nint data)
    {
        ((List<CXCursor>)GCHandle.FromIntPtr(data).Target!).Add(cursor);
        return 1; // CXChildVisit_Continue
    }

    /// <summary>Finds libclang: an explicit path, ACCELSDK_LIBCLANG, then the usual Debian and upstream names.</summary>
    public static void UseLibrary(string? explicitPath)
    {
        NativeLibrary.SetDllImportResolver(typeof(LibClang).Assembly, (name, assembly, path) =>
        {
            if (name != Library) return 0;
            var candidates = new List<string>();
            if (!string.IsNullOrEmpty(explicitPath)) candidates.Add(explicitPath);
            var env = Environment.GetEnvironmentVariable("ACCELSDK_LIBCLANG");
            if (!string.IsNullOrEmpty(env)) candidates.Add(env);
            candidates.AddRange(new[] { "libclang-14.so.1", "libclang.so.1", "libclang.so", "libclang-15.so.1" });
            foreach (var c in candidates)
            {
                if (NativeLibrary.TryLoad(c, out var handle)) return handle;
            }
            throw new DllNotFoundException("libclang not found; tried " + string.Join(", ", candidates) +
                " (install Debian's libclang1-14, or pass --libclang PATH)");
        });
    }
}
