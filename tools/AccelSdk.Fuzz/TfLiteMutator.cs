using System.Buffers.Binary;

namespace AccelSdk.Fuzz;

/// <summary>What a byte range of a <c>.tflite</c> flatbuffer means, which decides the values worth writing there.</summary>
internal enum SiteKind
{
    TensorIndex,
    Dim,
    BufferIndex,
    TensorType,
    OpcodeIndex,
    BuiltinCode,
    VectorLength,
    Offset,
    OptionScalar,
    QuantFloat,
    QuantLong,
    SparseIndex,
    BufferLocation,
    VTable,
}

/// <summary>One mutable place of the flatbuffer: where, what it is, its width in bytes and the count it indexes into.</summary>
internal readonly record struct Site(int Position, SiteKind Kind, int Width, long Bound);

/// <summary>
/// Flatbuffer-aware mutations of a <c>.tflite</c> file, patched in place: tensor, buffer and opcode indices (operator
/// inputs/outputs, subgraph inputs/outputs, signature tensors), tensor dims and shape signatures, tensor types,
/// builtin codes, vector lengths, offsets to tables/vectors/strings, vtable offsets, builtin-option scalars (subgraph
/// indices of IF/WHILE/CALL_ONCE included), quantization scales/zero points, sparse index vectors and external buffer
/// offsets. Sites are found by walking the seed with the TFLite schema, so patches never move each other and any subset
/// of a mutant's steps replays exactly (that is how findings are minimised).
/// </summary>
internal sealed class TfLiteMutator : IMutator
{
    private readonly Dictionary<byte[], Site[]> _sitesBySeed = new(ReferenceEqualityComparer.Instance);

    /// <inheritdoc />
    public Mutant Apply(byte[] seed, IReadOnlyList<MutationStep> steps)
    {
        if (!_sitesBySeed.TryGetValue(seed, out var sites))
        {
            if (_sitesBySeed.Count > 64) _sitesBySeed.Clear();
            sites = _sitesBySeed[seed] = FlatBufferSites.Collect(seed);
        }
        var bytes = (byte[])seed.Clone();
        var byKind = sites.GroupBy(s => s.Kind).OrderBy(g => g.Key).Select(g => g.ToArray()).ToArray();
        var descriptions = new List<string>();
        foreach (var step in steps)
        {
            var random = new Random(step.Seed);
            if (byKind.Length == 0 || random.Next(20) == 0)
            {
                var at = random.Next(bytes.Length);
                bytes[at] = (byte)random.Next(256);
                descriptions.Add($"byte {at} = {bytes[at]}");
                continue;
            }
            var group = byKind[random.Next(byKind.Length)];
            var site = group[random.Next(group.Length)];
            descriptions.Add(Write(bytes, site, random));
        }
        return new Mutant(bytes, steps, descriptions);
    }

    private static string Write(byte[] bytes, Site site, Random random)
    {
        var span = bytes.AsSpan(site.Position, site.Width);
        long old = site.Width switch
        {
            1 => span[0],
            2 => BinaryPrimitives.ReadUInt16LittleEndian(span),
            4 => BinaryPrimitives.ReadInt32LittleEndian(span),
            _ => BinaryPrimitives.ReadInt64LittleEndian(span),
        };
        var value = NewValue(site, old, random);
        switch (site.Width)
        {
            case 1: span[0] = (byte)value; break;
            case 2: BinaryPrimitives.WriteUInt16LittleEndian(span, (ushort)value); break;
            case 4: BinaryPrimitives.WriteInt32LittleEndian(span, unchecked((int)value)); break;
            default: BinaryPrimitives.WriteInt64LittleEndian(span, value); break;
        }
        return $"{site.Kind} at {site.Position} (of {site.Bound}): {old} -> {value}";
    }

    private static long NewValue(Site site, long old, Random random)
    {
        var bound = site.Bound;
        long OutOfRange() => random.Next(5) switch
        {
            0 => -1,
            1 => bound,
            2 => bound + 1,
            3 => int.MaxValue,
            _ => int.MinValue,
        };
        long InRange() => bound > 0 ? random.NextInt64(bound) : 0;
        return site.Kind switch
        {
            SiteKind.TensorIndex or SiteKind.BufferIndex or SiteKind.OpcodeIndex or SiteKind.SparseIndex =>
                random.Next(2) == 0 ? InRange() : OutOfRange(),
            SiteKind.Dim => Mutations.InterestingInt(random, (int)old),
            SiteKind.TensorType => random.Next(4) == 0 ? 255 : random.Next(0, 20),
            SiteKind.BuiltinCode => site.Width == 1 ? random.Next(256) : random.Next(3) == 0 ? Mutations.InterestingInt(random, (int)old) : random.Next(0, 210),
            SiteKind.VectorLength => random.Next(7) switch
            {
                0 => 0,
                1 => old - 1,
                2 => old + 1,
                3 => old * 2,
                4 => 0x3FFFFFFF,
                5 => int.MaxValue,
                _ => -1,
            },
            SiteKind.Offset => random.Next(6) switch
            {
                0 => old + 4 * random.Next(-3, 4),
                1 => 0,
                2 => bound - site.Position,
                3 => int.MaxValue,
                4 => -old,
                _ => random.Next(-256, 256),
            },
            SiteKind.VTable => old + random.Next(-8, 9),
            SiteKind.QuantFloat => BitConverter.SingleToInt32Bits(Mutations.InterestingFloat(random)),
            SiteKind.QuantLong or SiteKind.BufferLocation => Mutations.InterestingLong(random, old),
            _ => site.Width == 1 ? random.Next(256) : site.Width == 8 ? Mutations.InterestingLong(random, old) : Mutations.InterestingInt(random, (int)old),
        };
    }
}

/// <summary>Walks a <c>.tflite</c> flatbuffer with the TFLite schema (version 3) and lists the <see cref="Site"/>s in it.</summary>
internal sealed class FlatBufferSites
{
    private readonly byte[] _bytes;
    private readonly List<Site> _sites = new();

    private FlatBufferSites(byte[] bytes) => _bytes = bytes;

    /// <summary>The sites of <paramref name="bytes"/>; a part that cannot be walked is skipped, never an error.</summary>
    public static Site[] Collect(byte[] bytes)
    {
        var walker = new FlatBufferSites(bytes);
        try
        {
            walker.Model(walker.U32(0));
        }
        catch (IndexOutOfRangeException)
        {
            // A seed that is not a well-formed flatbuffer keeps the sites found before the bad part.
        }
        catch (ArgumentOutOfRangeException)
        {
        }
        return walker._sites.Where(s => s.Position >= 0 && s.Position + s.Width <= bytes.Length).ToArray();
    }

    private int U32(int position) => position < 0 || position + 4 > _bytes.Length
        ? throw new IndexOutOfRangeException()
        : BinaryPrimitives.ReadInt32LittleEndian(_bytes.AsSpan(position));

    private void Add(int position, SiteKind kind, int width, long bound) => _sites.Add(new Site(position, kind, width, bound));

    /// <summary>Absolute position of field <paramref name="index"/> of the table at <paramref name="table"/>, or -1 when absent.</summary>
    private int Field(int table, int index)
    {
        var vtable = table - U32(table);
        var vtableSize = BinaryPrimitives.ReadUInt16LittleEndian(_bytes.AsSpan(vtable));
        var entry = 4 + 2 * index;
        if (entry + 2 > vtableSize) return -1;
        var offset = BinaryPrimitives.ReadUInt16LittleEndian(_bytes.AsSpan(vtable + entry));
        return offset == 0 ? -1 : table + offset;
    }

    /// <summary>The vector a field points to, as (first element position, length); registers the offset and the length as sites.</summary>
    private (int Start, int Length) Vector(int table, int index)
    {
        var field = Field(table, index);
        if (field < 0) return (0, 0);
        Add(field, SiteKind.Offset, 4, _bytes.Length);
        var vector = field + U32(field);
        var length = U32(vector);
        Add(vector, SiteKind.VectorLength, 4, length);
        return (vector + 4, length);
    }

    private int[] Tables(int table, int index)
    {
        var (start, length) = Vector(table, index);
        var result = new int[length];
        for (var i = 0; i < length; i++)
        {
            var element = start + 4 * i;
            Add(element, SiteKind.Offset, 4, _bytes.Length);
            result[i] = element + U32(element);
        }
        return result;
    }

    private void Elements(int table, int index, SiteKind kind, int width, long bound)
    {
        var (start, length) = Vector(table, index);
        for (var i = 0; i < length; i++) Add(start + width * i, kind, width, bound);
    }

    private void Scalar(int table, int index, SiteKind kind, int width, long bound)
    {
        var field = Field(table, index);
        if (field >= 0) Add(field, kind, width, bound);
    }

    private int SubTable(int table, int index)
    {
        var field = Field(table, index);
        if (field < 0) return -1;
        Add(field, SiteKind.Offset, 4, _bytes.Length);
        return field + U32(field);
    }

    private void Model(int model)
    {
        Add(model, SiteKind.VTable, 4, 0);
        var codes = Tables(model, 1);
        var subgraphs = Tables(model, 2);
        var buffers = Tables(model, 4);
        foreach (var code in codes)
        {
            Scalar(code, 0, SiteKind.BuiltinCode, 1, 0);
            Scalar(code, 3, SiteKind.BuiltinCode, 4, 0);
        }
        foreach (var buffer in buffers)
        {
            Vector(buffer, 0);
            Scalar(buffer, 1, SiteKind.BufferLocation, 8, _bytes.Length);
            Scalar(buffer, 2, SiteKind.BufferLocation, 8, _bytes.Length);
        }
        foreach (var subgraph in subgraphs) SubGraph(subgraph, codes.Length, buffers.Length, subgraphs.Length);
        foreach (var signature in Tables(model, 7)) Signature(signature, subgraphs.Length);
    }

    private void SubGraph(int subgraph, int codeCount, int bufferCount, int subgraphCount)
    {
        Add(subgraph, SiteKind.VTable, 4, 0);
        var tensors = Tables(subgraph, 0);
        Elements(subgraph, 1, SiteKind.TensorIndex, 4, tensors.Length);
        Elements(subgraph, 2, SiteKind.TensorIndex, 4, tensors.Length);
        foreach (var tensor in tensors) AccelTensor(tensor, bufferCount);
        foreach (var op in Tables(subgraph, 3))
        {
            Add(op, SiteKind.VTable, 4, 0);
            Scalar(op, 0, SiteKind.OpcodeIndex, 4, codeCount);
            Elements(op, 1, SiteKind.TensorIndex, 4, tensors.Length);
            Elements(op, 2, SiteKind.TensorIndex, 4, tensors.Length);
            Scalar(op, 3, SiteKind.OptionScalar, 1, 0);
            var options = SubTable(op, 4);
            if (options >= 0) OptionScalars(options, subgraphCount);
            Vector(op, 5);
            Elements(op, 8, SiteKind.TensorIndex, 4, tensors.Length);
        }
    }

    private void AccelTensor(int tensor, int bufferCount)
    {
        Elements(tensor, 0, SiteKind.Dim, 4, 0);
        Scalar(tensor, 1, SiteKind.TensorType, 1, 0);
        Scalar(tensor, 2, SiteKind.BufferIndex, 4, bufferCount);
        Scalar(tensor, 5, SiteKind.OptionScalar, 1, 0);
        Elements(tensor, 7, SiteKind.Dim, 4, 0);
        var quantization = SubTable(tensor, 4);
        if (quantization >= 0)
        {
            Elements(quantization, 2, SiteKind.QuantFloat, 4, 0);
            Elements(quantization, 3, SiteKind.QuantLong, 8, 0);
            Scalar(quantization, 6, SiteKind.OptionScalar, 4, 0);
        }
        var sparsity = SubTable(tensor, 6);
        if (sparsity < 0) return;
        Elements(sparsity, 0, SiteKind.SparseIndex, 4, 4);
        Elements(sparsity, 1, SiteKind.SparseIndex, 4, 4);
        foreach (var dim in Tables(sparsity, 2))
        {
            Scalar(dim, 0, SiteKind.OptionScalar, 1, 0);
            Scalar(dim, 1, SiteKind.Dim, 4, 0);
            SparseVector(dim, 2, 3);
            SparseVector(dim, 4, 5);
        }
    }

    // Int32Vector, Uint16Vector and Uint8Vector (union types 1, 2, 3) all keep their values in field 0.
    private void SparseVector(int dim, int typeField, int valueField)
    {
        var type = Field(dim, typeField);
        var values = SubTable(dim, valueField);
        if (type < 0 || values < 0) return;
        var width = _bytes[type] switch { 1 => 4, 2 => 2, _ => 1 };
        Elements(values, 0, SiteKind.SparseIndex, width, 64);
    }

    /// <summary>Builtin options are many tables; each present field is a scalar whose width is the gap to the next field.</summary>
    private void OptionScalars(int table, int subgraphCount)
    {
        Add(table, SiteKind.VTable, 4, 0);
        var vtable = table - U32(table);
        var vtableSize = BinaryPrimitives.ReadUInt16LittleEndian(_bytes.AsSpan(vtable));
        var tableSize = BinaryPrimitives.ReadUInt16LittleEndian(_bytes.AsSpan(vtable + 2));
        var offsets = new List<int>();
        for (var entry = 4; entry + 2 <= vtableSize; entry += 2)
        {
            var offset = BinaryPrimitives.ReadUInt16LittleEndian(_bytes.AsSpan(vtable + entry));
            if (offset != 0) offsets.Add(offset);
        }
        offsets.Sort();
        for (var i = 0; i < offsets.Count; i++)
        {
            var next = i + 1 < offsets.Count ? offsets[i + 1] : tableSize;
            var width = next - offsets[i] >= 4 ? 4 : 1;
            Add(table + offsets[i], SiteKind.OptionScalar, width, subgraphCount);
        }
    }

    private void Signature(int signature, int subgraphCount)
    {
        foreach (var map in Tables(signature, 0).Concat(Tables(signature, 1))) Scalar(map, 1, SiteKind.TensorIndex, 4, 0);
        Scalar(signature, 4, SiteKind.OptionScalar, 4, subgraphCount);
    }
}
