using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace AccelSdk.Ir;

/// <summary>
/// A dense tensor in host memory. By default numeric data lives in one byte buffer allocated on the pinned object heap
/// and aligned to 64 bytes, so native runtimes can read and write it in place without a copy or a pin per call, and
/// SIMD kernels see the same alignment on every run (ONNX Runtime's reductions give bit-different sums otherwise).
/// <see cref="Wrap{T}(Memory{T}, long[])"/> and its overloads instead wrap the caller's memory without copying (pinned
/// while the tensor lives), and <see cref="AllocateNative"/> holds data in native memory of any size; see
/// <see cref="StorageKind"/>. String tensors hold a <see cref="string"/> array instead.
/// </summary>
/// <remarks>
/// <see cref="Dispose"/> releases storage this tensor created (unpins caller memory, frees native memory); views made
/// by <see cref="Reshape"/>, <see cref="WithName"/> or <see cref="WithDoc"/> share the storage and release nothing.
/// Tensors the SDK allocates need no disposing.
/// </remarks>
public sealed partial class AccelTensor : IDisposable
{
    /// <summary>Alignment of dense data in bytes.</summary>
    public const int Alignment = 64;

    private readonly TensorStorage? _storage;
    private readonly bool _ownsStorage;
    private readonly string[]? _strings;
    private readonly long[] _shape;

    private AccelTensor(ElementType type, long[] shape, TensorStorage? storage, string[]? strings, string? name, bool ownsStorage = false)
    {
        ElementType = type;
        _shape = shape;
        _storage = storage;
        _ownsStorage = ownsStorage;
        _strings = strings;
        Name = name;
    }

    /// <summary>Element type.</summary>
    public ElementType ElementType { get; }

    /// <summary>Concrete shape, outermost dimension first.</summary>
    public ReadOnlySpan<long> Shape => _shape;

    /// <summary>A copy of the shape.</summary>
    public long[] ShapeArray => (long[])_shape.Clone();

    /// <summary>Optional name (the initializer or value this tensor belongs to).</summary>
    public string? Name { get; init; }

    /// <summary>Documentation string carried from the model.</summary>
    public string? DocString { get; init; }

    /// <summary>Number of dimensions.</summary>
    public int Rank => _shape.Length;

    /// <summary>Number of elements (product of the shape).</summary>
    public long ElementCount => CountElements(_shape);

    /// <summary>Size of the dense data in bytes (0 for strings).</summary>
    public long ByteLength => _storage?.Length ?? 0;

    /// <summary>True for string tensors.</summary>
    public bool IsString => _strings is not null;

    /// <summary>
    /// Largest dense buffer in bytes: one .NET array holds the data plus up to <see cref="Alignment"/> - 1 bytes of
    /// alignment padding.
    /// </summary>
    public static long MaxByteLength => Array.MaxLength - (Alignment - 1);

    /// <summary>
    /// Product of dimensions. A negative dimension or a product past <see cref="long.MaxValue"/> is an
    /// <see cref="InvalidTensorException"/>; a shape with a zero dimension holds 0 elements whatever the others are.
    /// </summary>
    public static long CountElements(ReadOnlySpan<long> shape, string? name = null)
    {
        foreach (var d in shape)
        {
            if (d < 0) throw new InvalidTensorException(name, $"shape {TensorShape.Format(shape)} has a negative dimension");
            if (d == 0) return 0;
        }
        long n = 1;
        foreach (var d in shape)
        {
            if (n > long.MaxValue / d) throw new InvalidTensorException(name, $"shape {TensorShape.Format(shape)} has more than {long.MaxValue:N0} elements");
            n *= d;
        }
        return n;
    }

    /// <summary>
    /// Bytes of dense data of <paramref name="type"/> and <paramref name="shape"/>, checked for overflow; an element type
    /// with no dense storage (string, undefined, a value outside the enum) is an <see cref="InvalidTensorException"/>.
    /// </summary>
    public static long ByteLengthOf(ElementType type, ReadOnlySpan<long> shape, string? name = null)
    {
        var count = CountElements(shape, name);
        var size = type.SizeInBytes();
        if (size == 0) throw new InvalidTensorException(name, $"element type {type.ShortName()} cannot be stored in a dense tensor");
        if (count > long.MaxValue / size)
        {
            throw new InvalidTensorException(name, $"{type.ShortName()}{TensorShape.Format(shape)} has more than {long.MaxValue:N0} bytes");
        }
        return count * size;
    }

    /// <summary>
    /// Allocates a zero-filled tensor. Sizes are checked before allocating: a shape or type that cannot be stored, or
    /// dense data over <see cref="MaxByteLength"/>, is an <see cref="InvalidTensorException"/>.
    /// </summary>
    public static AccelTensor Zeros(ElementType type, ReadOnlySpan<long> shape, string? name = null)
    {
        if (type == ElementType.String)
        {
            var count = CountElements(shape, name);
            if (count > Array.MaxLength)
            {
                throw new InvalidTensorException(name, $"string{TensorShape.Format(shape)} has more than {Array.MaxLength:N0} elements");
            }
            var strings = new string[count];
            Array.Fill(strings, string.Empty);
            return new AccelTensor(type, shape.ToArray(), null, strings, name);
        }
        var bytes = ByteLengthOf(type, shape, name);
        if (bytes > MaxByteLength)
        {
            throw new InvalidTensorException(name,
                $"{type.ShortName()}{TensorShape.Format(shape)} needs {bytes:N0} bytes; a dense tensor holds at most {MaxByteLength:N0}");
        }
        return new AccelTensor(type, shape.ToArray(), new OwnedStorage(bytes), null, name);
    }

    /// <summary>Creates a tensor by copying <paramref name="data"/> with the given shape.</summary>
    public static AccelTensor Create<T>(ReadOnlySpan<T> data, params long[] shape) where T : unmanaged
    {
        var type = ElementTypeInfo.Of<T>();
        CheckLength(data.Length, shape);
        var tensor = Zeros(type, shape);
        MemoryMarshal.AsBytes(data).CopyTo(tensor.Bytes);
        return tensor;
    }

    /// <summary>Creates a tensor by copying <paramref name="data"/> with the given shape.</summary>
    public static AccelTensor Create<T>(T[] data, params long[] shape) where T : unmanaged => Create<T>(data.AsSpan(), shape);

    /// <summary>Creates a one-dimensional tensor from <paramref name="data"/>.</summary>
    public static AccelTensor FromArray<T>(params T[] data) where T : unmanaged => Create<T>(data.AsSpan(), data.Length);

    /// <summary>Creates a scalar tensor.</summary>
    public static AccelTensor Scalar<T>(T value) where T : unmanaged => Create<T>(new[] { value }.AsSpan());

    /// <summary>Creates a string tensor (the array is copied).</summary>
    public static AccelTensor CreateStrings(IReadOnlyList<string> data, params long[] shape)
    {
        CheckLength(data.Count, shape);
        return new AccelTensor(ElementType.String, shape.ToArray(), null, data.ToArray(), null);
    }

    /// <summary>Creates a tensor of any dense element type from raw little-endian bytes (copied).</summary>
    public static AccelTensor FromBytes(ElementType type, ReadOnlySpan<long> shape, ReadOnlySpan<byte> bytes, string? name = null)
    {
        var tensor = Zeros(type, shape, name);
        if (bytes.Length != tensor.ByteLength)
        {
            throw new InvalidTensorException(name, $"{type.ShortName()}{TensorShape.Format(shape)} needs {tensor.ByteLength} bytes, got {bytes.Length}");
        }
        bytes.CopyTo(tensor.Bytes);
        return tensor;
    }

    /// <summary>Returns the same data with another name.</summary>
    public AccelTensor WithName(string? name) => new(ElementType, _shape, _storage, _strings, name) { DocString = DocString };

    /// <summary>Returns the same data with a documentation string.</summary>
    public AccelTensor WithDoc(string? docString) => new(ElementType, _shape, _storage, _strings, Name) { DocString = docString };

    /// <summary>Returns a view of the same data with another shape of equal element count.</summary>
    public AccelTensor Reshape(params long[] shape)
    {
        if (CountElements(shape, Name) != ElementCount)
        {
            throw new InvalidTensorException(Name, $"cannot reshape {TensorShape.Format(_shape)} to {TensorShape.Format(shape)}");
        }
        return new AccelTensor(ElementType, shape, _storage, _strings, Name);
    }

    /// <summary>
    /// The raw bytes of a dense tensor (writable, pinned). Data over 2 GiB (native storage) has no span: use
    /// <see cref="DataPointer"/> or <see cref="AsTensorSpan{T}"/>.
    /// </summary>
    public Span<byte> Bytes => _storage is { } s ? s.Span(Name) : throw new InvalidOperationException("String tensors have no byte buffer.");

    /// <summary>The data as a span of <typeparamref name="T"/>; <typeparamref name="T"/> must have the element size.</summary>
    public Span<T> AsSpan<T>() where T : unmanaged
    {
        CheckView<T>();
        return MemoryMarshal.Cast<byte, T>(_storage!.Span(Name));
    }

    /// <summary>A copy of the data as an array.</summary>
    public T[] ToArray<T>() where T : unmanaged => AsSpan<T>().ToArray();

    /// <summary>The strings of a string tensor.</summary>
    public IReadOnlyList<string> Strings => _strings ?? throw new InvalidOperationException($"Tensor of {ElementType.ShortName()} holds no strings.");

    /// <summary>The writable string array of a string tensor.</summary>
    internal string[] StringArray => _strings ?? throw new InvalidOperationException("Not a string tensor.");

    /// <summary>
    /// Address of the pinned dense data (0 when empty); valid while this tensor is alive and its storage is not
    /// disposed. 64-byte aligned unless the tensor wraps caller memory (<see cref="IsAligned"/>).
    /// </summary>
    public nint DataPointer => _storage?.Pointer ?? throw new InvalidOperationException("String tensors have no native buffer.");

    /// <summary>The tensor's type with its concrete shape.</summary>
    public TensorType TensorType => new(ElementType, new TensorShape(_shape));

    /// <summary>Elementwise float64 view for comparisons and reports (numeric types only).</summary>
    public double GetAsDouble(long index) => ElementType switch
    {
        ElementType.Float32 => AsSpan<float>()[(int)index],
        ElementType.Float64 => AsSpan<double>()[(int)index],
        ElementType.Float16 => (double)AsSpan<Half>()[(int)index],
        ElementType.BFloat16 => BitConverter.Int32BitsToSingle(AsSpan<ushort>()[(int)index] << 16),
        ElementType.Int8 => AsSpan<sbyte>()[(int)index],
        ElementType.UInt8 => AsSpan<byte>()[(int)index],
        ElementType.Int16 => AsSpan<short>()[(int)index],
        ElementType.UInt16 => AsSpan<ushort>()[(int)index],
        ElementType.Int32 => AsSpan<int>()[(int)index],
        ElementType.UInt32 => AsSpan<uint>()[(int)index],
        ElementType.Int64 => AsSpan<long>()[(int)index],
        ElementType.UInt64 => AsSpan<ulong>()[(int)index],
        ElementType.Bool => AsSpan<byte>()[(int)index] != 0 ? 1 : 0,
        _ => throw new InvalidOperationException($"{ElementType.ShortName()} has no scalar numeric value."),
    };

    /// <summary>Values of an integer tensor as int64 (for shapes, axes and indices).</summary>
    public long[] ToInt64Array()
    {
        var result = new long[ElementCount];
        for (var i = 0; i < result.Length; i++)
        {
            result[i] = ElementType switch
            {
                ElementType.Int64 => AsSpan<long>()[i],
                ElementType.Int32 => AsSpan<int>()[i],
                ElementType.UInt64 => (long)AsSpan<ulong>()[i],
                _ => checked((long)GetAsDouble(i)),
            };
        }
        return result;
    }

    /// <inheritdoc />
    public override string ToString() => $"{Name ?? "tensor"}: {ElementType.ShortName()}{TensorShape.Format(_shape)}";

    private static void CheckLength(long length, ReadOnlySpan<long> shape)
    {
        var expected = CountElements(shape);
        if (expected != length)
        {
            throw new InvalidTensorException(null, $"shape {TensorShape.Format(shape)} holds {expected} elements but {length} were given");
        }
    }
}
