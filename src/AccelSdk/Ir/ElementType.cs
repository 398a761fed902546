namespace AccelSdk.Ir;

/// <summary>Element type of a tensor. Numeric values equal ONNX's <c>TensorProto.DataType</c> so conversion is a cast.</summary>
public enum ElementType
{
    /// <summary>Not set.</summary>
    Undefined = 0,
    /// <summary>32-bit IEEE float.</summary>
    Float32 = 1,
    /// <summary>Unsigned 8-bit integer.</summary>
    UInt8 = 2,
    /// <summary>Signed 8-bit integer.</summary>
    Int8 = 3,
    /// <summary>Unsigned 16-bit integer.</summary>
    UInt16 = 4,
    /// <summary>Signed 16-bit integer.</summary>
    Int16 = 5,
    /// <summary>Signed 32-bit integer.</summary>
    Int32 = 6,
    /// <summary>Signed 64-bit integer.</summary>
    Int64 = 7,
    /// <summary>UTF-8 string.</summary>
    String = 8,
    /// <summary>Boolean stored as one byte.</summary>
    Bool = 9,
    /// <summary>16-bit IEEE float.</summary>
    Float16 = 10,
    /// <summary>64-bit IEEE float.</summary>
    Float64 = 11,
    /// <summary>Unsigned 32-bit integer.</summary>
    UInt32 = 12,
    /// <summary>Unsigned 64-bit integer.</summary>
    UInt64 = 13,
    /// <summary>Complex number of two float32.</summary>
    Complex64 = 14,
    /// <summary>Complex number of two float64.</summary>
    Complex128 = 15,
    /// <summary>bfloat16: the upper 16 bits of a float32.</summary>
    BFloat16 = 16,
}

/// <summary>Facts about <see cref="ElementType"/> values.</summary>
public static class ElementTypeInfo
{
    /// <summary>Bytes one element occupies in a dense buffer; 0 for strings and undefined.</summary>
    public static int SizeInBytes(this ElementType type) => type switch
    {
        ElementType.Float32 or ElementType.Int32 or ElementType.UInt32 => 4,
        ElementType.UInt8 or ElementType.Int8 or ElementType.Bool => 1,
        ElementType.UInt16 or ElementType.Int16 or ElementType.Float16 or ElementType.BFloat16 => 2,
        ElementType.Int64 or ElementType.UInt64 or ElementType.Float64 or ElementType.Complex64 => 8,
        ElementType.Complex128 => 16,
        _ => 0,
    };

    /// <summary>True for float16/bfloat16/float32/float64.</summary>
    public static bool IsFloatingPoint(this ElementType type) =>
        type is ElementType.Float32 or ElementType.Float64 or ElementType.Float16 or ElementType.BFloat16;

    /// <summary>Lower-case short name used in messages and reports (float32, int64, ...).</summary>
    public static string ShortName(this ElementType type) => type switch
    {
        ElementType.Float32 => "float32",
        ElementType.Float64 => "float64",
        ElementType.Float16 => "float16",
        ElementType.BFloat16 => "bfloat16",
        ElementType.Complex64 => "complex64",
        ElementType.Complex128 => "complex128",
        _ => type.ToString().ToLowerInvariant(),
    };

    /// <summary>The <see cref="ElementType"/> of a CLR element type, or throws for types with no tensor equivalent.</summary>
    public static ElementType Of<T>() => Of(typeof(T));

    /// <summary>The <see cref="ElementType"/> of a CLR element type.</summary>
    public static ElementType Of(Type clrType)
    {
        if (clrType == typeof(float)) return ElementType.Float32;
        if (clrType == typeof(double)) return ElementType.Float64;
        if (clrType == typeof(Half)) return ElementType.Float16;
        if (clrType == typeof(byte)) return ElementType.UInt8;
        if (clrType == typeof(sbyte)) return ElementType.Int8;
        if (clrType == typeof(short)) return ElementType.Int16;
        if (clrType == typeof(ushort)) return ElementType.UInt16;
        if (clrType == typeof(int)) return ElementType.Int32;
        if (clrType == typeof(uint)) return ElementType.UInt32;
        if (clrType == typeof(long)) return ElementType.Int64;
        if (clrType == typeof(ulong)) return ElementType.UInt64;
        if (clrType == typeof(bool)) return ElementType.Bool;
        if (clrType == typeof(string)) return ElementType.String;
        throw new ArgumentException($"CLR type {clrType.Name} has no tensor element type; use the raw-byte constructor for bfloat16/complex.");
    }
}
