namespace AccelSdk.TfLite.Import;

// Field indices of the TFLite flatbuffer schema (schema version 3), written from the format's published description.
// Only the tables the importer reads are listed.

internal static class ModelFields
{
    public const int Version = 0, OperatorCodes = 1, Subgraphs = 2, Description = 3, Buffers = 4, SignatureDefs = 7;
}

internal static class OperatorCodeFields
{
    public const int DeprecatedBuiltinCode = 0, CustomCode = 1, Version = 2, BuiltinCode = 3;
}

internal static class SubGraphFields
{
    public const int Tensors = 0, Inputs = 1, Outputs = 2, Operators = 3, Name = 4;
}

internal static class TensorFields
{
    public const int Shape = 0, Type = 1, Buffer = 2, Name = 3, Quantization = 4, IsVariable = 5, Sparsity = 6, ShapeSignature = 7;
}

internal static class QuantizationFields
{
    public const int Min = 0, Max = 1, Scale = 2, ZeroPoint = 3, QuantizedDimension = 6;
}

internal static class SparsityFields
{
    public const int TraversalOrder = 0, BlockMap = 1, DimMetadata = 2;
}

internal static class DimensionMetadataFields
{
    public const int Format = 0, DenseSize = 1, ArraySegmentsType = 2, ArraySegments = 3, ArrayIndicesType = 4, ArrayIndices = 5;
}

internal static class BufferFields
{
    public const int Data = 0, Offset = 1, Size = 2;
}

internal static class OperatorFields
{
    public const int OpcodeIndex = 0, Inputs = 1, Outputs = 2, BuiltinOptionsType = 3, BuiltinOptions = 4, CustomOptions = 5;
}

/// <summary>The schema's TensorType values.</summary>
internal enum SchemaTensorType : byte
{
    Float32 = 0, Float16 = 1, Int32 = 2, UInt8 = 3, Int64 = 4, String = 5, Bool = 6, Int16 = 7, Complex64 = 8, Int8 = 9,
    Float64 = 10, Complex128 = 11, UInt64 = 12, Resource = 13, Variant = 14, UInt32 = 15, UInt16 = 16, Int4 = 17,
}

/// <summary>The schema's ActivationFunctionType values.</summary>
internal enum FusedActivation : byte
{
    None = 0, Relu = 1, ReluN1To1 = 2, Relu6 = 3, Tanh = 4, SignBit = 5,
}
