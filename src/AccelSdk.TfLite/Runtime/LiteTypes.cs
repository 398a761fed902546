using AccelSdk.Ir;
using AccelSdk.TfLite.Native;

namespace AccelSdk.TfLite;

/// <summary>Conversions between TFLite's tensor types and the IR's element types.</summary>
internal static class LiteTypes
{
    public static ElementType ToElementType(TfLiteType type) => type switch
    {
        TfLiteType.kTfLiteFloat32 => ElementType.Float32,
        TfLiteType.kTfLiteInt32 => ElementType.Int32,
        TfLiteType.kTfLiteUInt8 => ElementType.UInt8,
        TfLiteType.kTfLiteInt64 => ElementType.Int64,
        TfLiteType.kTfLiteString => ElementType.String,
        TfLiteType.kTfLiteBool => ElementType.Bool,
        TfLiteType.kTfLiteInt16 => ElementType.Int16,
        TfLiteType.kTfLiteComplex64 => ElementType.Complex64,
        TfLiteType.kTfLiteInt8 => ElementType.Int8,
        TfLiteType.kTfLiteFloat16 => ElementType.Float16,
        TfLiteType.kTfLiteFloat64 => ElementType.Float64,
        TfLiteType.kTfLiteComplex128 => ElementType.Complex128,
        TfLiteType.kTfLiteUInt64 => ElementType.UInt64,
        TfLiteType.kTfLiteUInt32 => ElementType.UInt32,
        TfLiteType.kTfLiteUInt16 => ElementType.UInt16,
        _ => ElementType.Undefined,
    };

    public static string Describe(TfLiteType type) => type.ToString().Replace("kTfLite", "", StringComparison.Ordinal).ToLowerInvariant();
}
