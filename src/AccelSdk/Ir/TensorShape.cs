namespace AccelSdk.Ir;

/// <summary>One dimension of a shape: a known size, a named symbolic size, or unknown.</summary>
public readonly record struct Dimension
{
    /// <summary>The known size, or null.</summary>
    public long? Value { get; }

    /// <summary>The symbolic name (ONNX <c>dim_param</c>), or null.</summary>
    public string? Symbol { get; }

    /// <summary>ONNX <c>denotation</c> of the dimension, if any.</summary>
    public string? Denotation { get; init; }

    private Dimension(long? value, string? symbol)
    {
        Value = value;
        Symbol = symbol;
    }

    /// <summary>A known size.</summary>
    public static Dimension Known(long value) => new(value, null);

    /// <summary>A named symbolic size such as <c>batch</c>.</summary>
    public static Dimension Symbolic(string symbol) => new(null, symbol);

    /// <summary>A dimension about which nothing is known.</summary>
    public static Dimension Unknown => new(null, null);

    /// <summary>True when <see cref="Value"/> is set.</summary>
    public bool IsKnown => Value.HasValue;

    /// <summary>Implicit conversion from a known size.</summary>
    public static implicit operator Dimension(long value) => Known(value);

    /// <inheritdoc />
    public override string ToString() => Value?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? Symbol ?? "?";
}

/// <summary>A tensor shape whose rank is known and whose dimensions may be symbolic.</summary>
public sealed class TensorShape : IEquatable<TensorShape>
{
    private readonly Dimension[] _dims;

    /// <summary>Creates a shape from dimensions.</summary>
    public TensorShape(IEnumerable<Dimension> dims) => _dims = dims.ToArray();

    /// <summary>Creates a fully known shape.</summary>
    public TensorShape(params long[] dims) => _dims = dims.Select(Dimension.Known).ToArray();

    /// <summary>The dimensions, outermost first.</summary>
    public IReadOnlyList<Dimension> Dims => _dims;

    /// <summary>Number of dimensions.</summary>
    public int Rank => _dims.Length;

    /// <summary>A scalar (rank 0) shape.</summary>
    public static TensorShape Scalar { get; } = new(Array.Empty<long>());

    /// <summary>True when every dimension has a known size.</summary>
    public bool IsFullyKnown => _dims.All(d => d.IsKnown);

    /// <summary>The dimension at <paramref name="index"/>.</summary>
    public Dimension this[int index] => _dims[index];

    /// <summary>The sizes as an array; throws when a dimension is not known.</summary>
    public long[] ToArray()
    {
        var result = new long[_dims.Length];
        for (var i = 0; i < _dims.Length; i++)
        {
            result[i] = _dims[i].Value ?? throw new InvalidOperationException($"Shape {this} has a dimension that is not known.");
        }
        return result;
    }

    /// <summary>Product of all dimensions, or null when any is not known.</summary>
    public long? ElementCount
    {
        get
        {
            long n = 1;
            foreach (var d in _dims)
            {
                if (d.Value is not { } v) return null;
                n *= v;
            }
            return n;
        }
    }

    /// <summary>True when <paramref name="concrete"/> can be a value of this shape (known dims equal, symbolic dims anything).</summary>
    public bool Accepts(ReadOnlySpan<long> concrete)
    {
        if (concrete.Length != _dims.Length) return false;
        for (var i = 0; i < _dims.Length; i++)
        {
            if (_dims[i].Value is { } v && v != concrete[i]) return false;
        }
        return true;
    }

    /// <inheritdoc />
    public bool Equals(TensorShape? other) => other is not null && _dims.AsSpan().SequenceEqual(other._dims);

    /// <inheritdoc />
    public override bool Equals(object? obj) => Equals(obj as TensorShape);

    /// <inheritdoc />
    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (var d in _dims) hash.Add(d);
        return hash.ToHashCode();
    }

    /// <inheritdoc />
    public override string ToString() => "[" + string.Join(",", _dims.Select(d => d.ToString())) + "]";

    /// <summary>Formats a concrete shape like <c>[1,3,224,224]</c>.</summary>
    public static string Format(ReadOnlySpan<long> dims)
    {
        var parts = new string[dims.Length];
        for (var i = 0; i < dims.Length; i++) parts[i] = dims[i].ToString(System.Globalization.CultureInfo.InvariantCulture);
        return "[" + string.Join(",", parts) + "]";
    }
}
