namespace AccelSdk.Ir;

/// <summary>The type of a graph value: a tensor, sequence, map, optional or sparse tensor (ONNX <c>TypeProto</c>).</summary>
public abstract record ValueType
{
    /// <summary>ONNX type denotation, if any.</summary>
    public string? Denotation { get; init; }
}

/// <summary>A dense tensor; <see cref="Shape"/> is null when even the rank is unknown.</summary>
public sealed record TensorType(ElementType ElementType, TensorShape? Shape) : ValueType
{
    /// <inheritdoc />
    public override string ToString() => ElementType.ShortName() + (Shape?.ToString() ?? "[*]");
}

/// <summary>A sparse tensor.</summary>
public sealed record SparseTensorType(ElementType ElementType, TensorShape? Shape) : ValueType
{
    /// <inheritdoc />
    public override string ToString() => "sparse " + ElementType.ShortName() + (Shape?.ToString() ?? "[*]");
}

/// <summary>A sequence of values of one type.</summary>
public sealed record SequenceType(ValueType? ElementType) : ValueType
{
    /// <inheritdoc />
    public override string ToString() => $"seq({ElementType})";
}

/// <summary>A map from a scalar key type to values.</summary>
public sealed record MapType(ElementType KeyType, ValueType? ValueType) : ValueType
{
    /// <inheritdoc />
    public override string ToString() => $"map({KeyType.ShortName()},{ValueType})";
}

/// <summary>An optional value.</summary>
public sealed record OptionalType(ValueType? ElementType) : ValueType
{
    /// <inheritdoc />
    public override string ToString() => $"optional({ElementType})";
}

/// <summary>A named, typed graph value (ONNX <c>ValueInfoProto</c>).</summary>
/// <param name="Name">Value name, unique in its graph.</param>
/// <param name="Type">Its type, or null when not declared.</param>
public sealed record ValueInfo(string Name, ValueType? Type)
{
    /// <summary>Documentation string.</summary>
    public string? DocString { get; init; }

    /// <summary>The type as a tensor type, or null when it is not a dense tensor.</summary>
    public TensorType? TensorType => Type as TensorType;
}
