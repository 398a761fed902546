namespace AccelSdk.BindingGen;

/// <summary>Walks a translation unit and records the in-scope declarations in source order.</summary>
internal sealed unsafe class DeclarationCollector
{
    private static readonly Dictionary<string, string> KnownTypedefs = new(StringComparer.Ordinal)
    {
        ["size_t"] = "nuint", ["ssize_t"] = "nint", ["ptrdiff_t"] = "nint", ["intptr_t"] = "nint", ["uintptr_t"] = "nuint",
        ["int8_t"] = "sbyte", ["uint8_t"] = "byte", ["int16_t"] = "short", ["uint16_t"] = "ushort",
        ["int32_t"] = "int", ["uint32_t"] = "uint", ["int64_t"] = "long", ["uint64_t"] = "ulong",
        ["__int8_t"] = "sbyte", ["__uint8_t"] = "byte", ["__int16_t"] = "short", ["__uint16_t"] = "ushort",
        ["__int32_t"] = "int", ["__uint32_t"] = "uint", ["__int64_t"] = "long", ["__uint64_t"] = "ulong",
        ["va_list"] = "nint", ["__gnuc_va_list"] = "nint", ["__builtin_va_list"] = "nint",
    };

    private static readonly HashSet<string> FixedBufferTypes = new(StringComparer.Ordinal)
    {
        "byte", "sbyte", "short", "ushort", "int", "uint", "long", "ulong", "float", "double",
    };

    private readonly GeneratorOptions _options;
    private readonly List<string> _includeRoots;
    private readonly Dictionary<string, string> _recordNames = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _enumNames = new(StringComparer.Ordinal);
    private readonly Dictionary<string, CStruct> _structs = new(StringComparer.Ordinal);
    private readonly HashSet<string> _functionNames = new(StringComparer.Ordinal);
    private readonly HashSet<string> _enumsDone = new(StringComparer.Ordinal);

    public DeclarationCollector(GeneratorOptions options)
    {
        _options = options;
        _includeRoots = options.IncludeDirs.Select(d => Path.GetFullPath(d).TrimEnd('/') + "/").ToList();
    }

    public List<CEnum> Enums { get; } = new();
    public List<CStruct> Structs { get; } = new();
    public List<CFunction> Functions { get; } = new();

    public void Collect(CXCursor unit)
    {
        var top = LibClang.Children(unit).Where(InScope).ToList();
        foreach (var c in top) RegisterName(c);
        foreach (var c in top)
        {
            switch (c.Kind)
            {
                case CXCursorKind.EnumDecl:
                    if (LibClang.clang_isCursorDefinition(c) != 0) AddEnum(c);
                    break;
                case CXCursorKind.StructDecl:
                case CXCursorKind.UnionDecl:
                    AddRecord(c);
                    break;
                case CXCursorKind.FunctionDecl:
                    AddFunction(c);
                    break;
            }
        }
    }

    private string? RelativeFile(CXCursor c)
    {
        var location = LibClang.clang_getCursorLocation(c);
        if (LibClang.clang_Location_isInSystemHeader(location) != 0) return null;
        nint file;
        uint line, column, offset;
        LibClang.clang_getExpansionLocation(location, &file, &line, &column, &offset);
        if (file == 0) return null;
        var path = Path.GetFullPath(LibClang.Take(LibClang.clang_getFileName(file)));
        foreach (var root in _includeRoots)
        {
            if (path.StartsWith(root, StringComparison.Ordinal)) return path[root.Length..];
        }
        return path;
    }

    private bool InScope(CXCursor c)
    {
        var file = RelativeFile(c);
        if (file is null) return false;
        if (_options.Scopes.Count == 0)
        {
            return _options.Headers.Any(h => Path.GetDirectoryName(h) is { } dir && file.StartsWith(dir, StringComparison.Ordinal))
                || _options.Headers.Contains(file);
        }
        return _options.Scopes.Any(s => file.StartsWith(s, StringComparison.Ordinal));
    }

    private static bool IsUnnamed(CXCursor decl) =>
        LibClang.clang_Cursor_isAnonymous(decl) != 0 || LibClang.Spelling(decl).Length == 0 || LibClang.Spelling(decl).Contains(' ');

    private void RegisterName(CXCursor c)
    {
        switch (c.Kind)
        {
            case CXCursorKind.StructDecl or CXCursorKind.UnionDecl when !IsUnnamed(c):
                _recordNames[LibClang.Usr(c)] = LibClang.Spelling(c);
                break;
            case CXCursorKind.EnumDecl when !IsUnnamed(c):
                _enumNames[LibClang.Usr(c)] = LibClang.Spelling(c);
                break;
            case CXCursorKind.TypedefDecl:
                var underlying = Strip(LibClang.clang_getTypedefDeclUnderlyingType(c));
                if (underlying.Kind is not (CXTypeKind.Record or CXTypeKind.Enum)) break;
                var decl = LibClang.clang_getTypeDeclaration(underlying);
                if (!IsUnnamed(decl)) break;
                var map = underlying.Kind == CXTypeKind.Record ? _recordNames : _enumNames;
                map.TryAdd(LibClang.Usr(decl), LibClang.Spelling(c));
                break;
        }
    }

    private static CXType Strip(CXType t)
    {
        while (true)
        {
            if (t.Kind == CXTypeKind.Elaborated) t = LibClang.clang_Type_getNamedType(t);
            else if (t.Kind == CXTypeKind.Attributed) t = LibClang.clang_Type_getModifiedType(t);
            else return t;
        }
    }

    private static string? Doc(CXCursor c)
    {
        var text = LibClang.Take(LibClang.clang_Cursor_getBriefCommentText(c)).Trim();
        if (text.Length == 0) return null;
        return string.Join(" ", text.Split(new[] { '\n', '\r', '\t', ' ' }, StringSplitOptions.RemoveEmptyEntries));
    }

    private void AddEnum(CXCursor c)
    {
        var usr = LibClang.Usr(c);
        if (!_enumsDone.Add(usr)) return;
        var name = _enumNames.GetValueOrDefault(usr) ?? "";
        if (name.Length > 0 && _options.Excludes.Contains(name)) return;
        var integer = LibClang.clang_getCanonicalType(LibClang.clang_getEnumDeclIntegerType(c));
        var unsigned = integer.Kind is CXTypeKind.UInt or CXTypeKind.ULong or CXTypeKind.ULongLong or CXTypeKind.UShort or CXTypeKind.UChar;
        // Enums take only fixed-size integer types, so long is spelled by its LP64 size.
        var underlying = integer.Kind switch
        {
            CXTypeKind.Long => "long",
            CXTypeKind.ULong => "ulong",
            _ => MapType(integer, TypeUse.Field) ?? "int",
        };
        var members = new List<(string, string, string?)>();
        foreach (var m in LibClang.Children(c).Where(m => m.Kind == CXCursorKind.EnumConstantDecl))
        {
            var value = unsigned
                ? LibClang.clang_getEnumConstantDeclUnsignedValue(m).ToString(System.Globalization.CultureInfo.InvariantCulture)
                : LibClang.clang_getEnumConstantDeclValue(m).ToString(System.Globalization.CultureInfo.InvariantCulture);
            members.Add((LibClang.Spelling(m), value, Doc(m)));
        }
        Enums.Add(new CEnum(name, underlying, members, Doc(c), name.Length == 0));
    }

    private CStruct StructFor(string name)
    {
        if (!_structs.TryGetValue(name, out var s))
        {
            s = new CStruct(name);
            _structs[name] = s;
            Structs.Add(s);
        }
        return s;
    }

    private void AddRecord(CXCursor c)
    {
        if (!_recordNames.TryGetValue(LibClang.Usr(c), out var name) || _options.Excludes.Contains(name)) return;
        var s = StructFor(name);
        if (LibClang.clang_isCursorDefinition(c) == 0 || s.IsDefined) return;
        FillRecord(s, c);
    }

    private void FillRecord(CStruct s, CXCursor c)
    {
        var type = LibClang.clang_getCursorType(c);
        s.Size = LibClang.clang_Type_getSizeOf(type);
        s.IsUnion = c.Kind == CXCursorKind.UnionDecl;
        s.Doc ??= Doc(c);
        if (s.Size < 0)
        {
            s.Size = -1;
            return;
        }
        var visitedAnonymous = new HashSet<string>(StringComparer.Ordinal);
        AddFields(s, c, type, 0, visitedAnonymous);
    }

    private void AddFields(CStruct s, CXCursor record, CXType topType, long baseBits, HashSet<string> visitedAnonymous)
    {
        foreach (var child in LibClang.Children(record))
        {
            if (child.Kind is CXCursorKind.StructDecl or CXCursorKind.UnionDecl && LibClang.clang_Cursor_isAnonymousRecordDecl(child) != 0)
            {
                if (visitedAnonymous.Add(LibClang.Usr(child))) AddFields(s, child, topType, BaseOfAnonymous(child, topType, baseBits), visitedAnonymous);
                continue;
            }
            if (child.Kind != CXCursorKind.FieldDecl) continue;
            var fieldName = LibClang.Spelling(child);
            var fieldType = Strip(LibClang.clang_getCursorType(child));
            if (fieldName.Length == 0)
            {
                var decl = LibClang.clang_getTypeDeclaration(fieldType);
                if (fieldType.Kind == CXTypeKind.Record && visitedAnonymous.Add(LibClang.Usr(decl)))
                {
                    AddFields(s, decl, topType, baseBits + LibClang.clang_Cursor_getOffsetOfField(child), visitedAnonymous);
                }
                continue;
            }
            var byName = LibClang.OffsetOf(topType, fieldName);
            var bits = byName >= 0 ? byName : baseBits + LibClang.clang_Cursor_getOffsetOfField(child);
            if (LibClang.clang_Cursor_isBitField(child) != 0)
            {
                s.Notes.Add($"bit-field '{fieldName}' ({LibClang.clang_getFieldDeclBitWidth(child)} bits at bit {bits}) is not exposed");
                continue;
            }
            AddField(s, fieldName, fieldType, bits / 8, Doc(child));
        }
    }

    private long BaseOfAnonymous(CXCursor anonymous, CXType topType, long fallback)
    {
        foreach (var leaf in LibClang.Children(anonymous).Where(f => f.Kind == CXCursorKind.FieldDecl))
        {
            var name = LibClang.Spelling(leaf);
            if (name.Length == 0) continue;
            var top = LibClang.OffsetOf(topType, name);
            if (top >= 0) return top - LibClang.clang_Cursor_getOffsetOfField(leaf);
        }
        return fallback;
    }

    private void AddField(CStruct s, string name, CXType type, long offset, string? doc)
    {
        var canonical = LibClang.clang_getCanonicalType(type);
        if (canonical.Kind == CXTypeKind.Record)
        {
            var decl = LibClang.clang_getTypeDeclaration(canonical);
            var usr = LibClang.Usr(decl);
            if (!_recordNames.ContainsKey(usr) && IsUnnamed(decl))
            {
                // A field of an unnamed struct/union type gets a type named after the field.
                var nested = s.Name + "_" + name;
                _recordNames[usr] = nested;
                FillRecord(StructFor(nested), decl);
            }
        }
        switch (canonical.Kind)
        {
            case CXTypeKind.ConstantArray:
            {
                var element = LibClang.clang_getArrayElementType(canonical);
                var count = LibClang.clang_getArraySize(canonical);
                var mapped = MapType(element, TypeUse.Field);
                if (mapped is not null && FixedBufferTypes.Contains(mapped))
                {
                    s.Fields.Add(new CField(name, mapped, offset, checked((int)count), null, doc));
                }
                else
                {
                    var bytes = LibClang.clang_Type_getSizeOf(canonical);
                    s.Fields.Add(new CField(name, "byte", offset, checked((int)bytes), $"{LibClang.Spelling(type)} as raw bytes", doc));
                }
                return;
            }
            case CXTypeKind.IncompleteArray:
                s.Notes.Add($"flexible array member '{name}' of {LibClang.Spelling(LibClang.clang_getArrayElementType(canonical))} starts at byte {offset}");
                return;
        }
        var csType = MapType(type, TypeUse.Field);
        if (csType is null)
        {
            var bytes = LibClang.clang_Type_getSizeOf(type);
            s.Fields.Add(new CField(name, "byte", offset, checked((int)bytes), $"{LibClang.Spelling(type)} as raw bytes", doc));
            return;
        }
        s.Fields.Add(new CField(name, csType, offset, null, null, doc));
    }

    private void AddFunction(CXCursor c)
    {
        var name = LibClang.Spelling(c);
        if (_options.Excludes.Contains(name) || !_functionNames.Add(name)) return;
        var doc = Doc(c);
        var functionType = LibClang.clang_getCursorType(c);
        if (LibClang.clang_Cursor_isVariadic(c) != 0)
        {
            Functions.Add(new CFunction(name, "void", null, new(), doc, "variadic functions cannot be bound with [LibraryImport]"));
            return;
        }
        var resultType = LibClang.clang_getCursorResultType(c);
        var ret = MapType(resultType, TypeUse.Return);
        var parameters = new List<CParam>();
        string? skip = ret is null ? $"its return type {LibClang.Spelling(resultType)} has no C# form" : null;
        var count = LibClang.clang_Cursor_getNumArguments(c);
        if (count < 0) count = Math.Max(0, LibClang.clang_getNumArgTypes(functionType));
        for (uint i = 0; i < count; i++)
        {
            var arg = LibClang.clang_Cursor_getArgument(c, i);
            var argType = LibClang.clang_getCursorType(arg);
            var mapped = MapType(argType, TypeUse.Param);
            if (mapped is null)
            {
                skip ??= $"parameter {i} of type {LibClang.Spelling(argType)} has no C# form";
                mapped = "void*";
            }
            var argName = CSharpNames.Identifier(LibClang.Spelling(arg), $"arg{i}");
            parameters.Add(new CParam(argName, mapped, mapped == "bool" ? "[MarshalAs(UnmanagedType.U1)] " : null));
        }
        Functions.Add(new CFunction(name, ret ?? "void", ret == "bool" ? "[return: MarshalAs(UnmanagedType.U1)]" : null, parameters, doc, skip));
    }

    internal enum TypeUse
    {
        Field,
        Param,
        Return,
        Pointee,
        FunctionPointer,
    }

    /// <summary>The C# spelling of a C type, or null when it has none (a struct by value that is not emitted).</summary>
    internal string? MapType(CXType t, TypeUse use)
    {
        switch (t.Kind)
        {
            case CXTypeKind.Elaborated:
                return MapType(LibClang.clang_Type_getNamedType(t), use);
            case CXTypeKind.Attributed:
                return MapType(LibClang.clang_Type_getModifiedType(t), use);
            case CXTypeKind.Typedef:
            {
                var typedefName = LibClang.Take(LibClang.clang_getTypedefName(t));
                if (KnownTypedefs.TryGetValue(typedefName, out var known)) return known;
                return MapType(LibClang.clang_getCanonicalType(t), use);
            }
            case CXTypeKind.Void: return "void";
            case CXTypeKind.Bool: return use is TypeUse.Param or TypeUse.Return ? "bool" : "byte";
            // Plain char is byte: it carries UTF-8 text far more often than small numbers.
            case CXTypeKind.SChar: return "sbyte";
            case CXTypeKind.Char_S or CXTypeKind.Char_U or CXTypeKind.UChar: return "byte";
            case CXTypeKind.Short: return "short";
            case CXTypeKind.UShort or CXTypeKind.Char16 or CXTypeKind.Half or CXTypeKind.Float16: return "ushort";
            case CXTypeKind.Int: return "int";
            case CXTypeKind.UInt or CXTypeKind.Char32: return "uint";
            case CXTypeKind.Long: return "nint";
            case CXTypeKind.ULong: return "nuint";
            case CXTypeKind.LongLong: return "long";
            case CXTypeKind.ULongLong: return "ulong";
            case CXTypeKind.Float: return "float";
            case CXTypeKind.Double: return "double";
            case CXTypeKind.Enum:
            {
                var decl = LibClang.clang_getTypeDeclaration(t);
                if (_enumNames.TryGetValue(LibClang.Usr(decl), out var enumName) && !_options.Excludes.Contains(enumName)) return enumName;
                return MapType(LibClang.clang_getCanonicalType(LibClang.clang_getEnumDeclIntegerType(decl)), use);
            }
            case CXTypeKind.Record:
            {
                var decl = LibClang.clang_getTypeDeclaration(t);
                return _recordNames.TryGetValue(LibClang.Usr(decl), out var recordName) && !_options.Excludes.Contains(recordName)
                    ? recordName
                    : null;
            }
            case CXTypeKind.Pointer:
            {
                var pointee = LibClang.clang_getPointeeType(t);
                var canonicalPointee = LibClang.clang_getCanonicalType(pointee);
                if (canonicalPointee.Kind is CXTypeKind.FunctionProto or CXTypeKind.FunctionNoProto)
                {
                    // The sugared prototype keeps typedef names (int64_t stays long, not the canonical nint).
                    var sugared = Strip(pointee);
                    return FunctionPointer(sugared.Kind is CXTypeKind.FunctionProto or CXTypeKind.FunctionNoProto ? sugared : canonicalPointee);
                }
                if (use == TypeUse.Param && LibClang.clang_isConstQualifiedType(pointee) != 0 &&
                    canonicalPointee.Kind is CXTypeKind.Char_S or CXTypeKind.SChar or CXTypeKind.Char_U or CXTypeKind.UChar)
                {
                    return "string";
                }
                var inner = MapType(pointee, TypeUse.Pointee);
                return (inner ?? "void") + "*";
            }
            case CXTypeKind.ConstantArray or CXTypeKind.IncompleteArray when use == TypeUse.Param:
                return (MapType(LibClang.clang_getArrayElementType(t), TypeUse.Pointee) ?? "void") + "*";
            default:
                return null;
        }
    }

    private string FunctionPointer(CXType function)
    {
        if (function.Kind == CXTypeKind.FunctionNoProto || LibClang.clang_isFunctionTypeVariadic(function) != 0) return "nint";
        var parts = new List<string>();
        var n = LibClang.clang_getNumArgTypes(function);
        for (uint i = 0; i < n; i++) parts.Add(MapType(LibClang.clang_getArgType(function, i), TypeUse.FunctionPointer) ?? "nint");
        parts.Add(MapType(LibClang.clang_getResultType(function), TypeUse.FunctionPointer) ?? "nint");
        return "delegate* unmanaged<" + string.Join(", ", parts) + ">";
    }
}
