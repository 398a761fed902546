using System.Buffers.Binary;
using System.Text;

namespace AccelSdk.TfLite.Import;

/// <summary>A flatbuffer that cannot be read: an offset or length points outside the buffer.</summary>
internal sealed class FlatBufferException(string message) : Exception(message);

/// <summary>
/// A bounds-checked reader for flatbuffer tables (the wire format of <c>.tflite</c> files). Every offset is checked
/// against the buffer, so a truncated or hostile file raises <see cref="FlatBufferException"/>, never reads out of range.
/// </summary>
internal readonly struct FbTable
{
    private readonly byte[] _buffer;
    private readonly int _position;
    private readonly int _vtable;
    private readonly int _vtableSize;

    public FbTable(byte[] buffer, int position)
    {
        _buffer = buffer;
        _position = position;
        Check(buffer, position, 4);
        var vtable = checked(position - BinaryPrimitives.ReadInt32LittleEndian(buffer.AsSpan(position)));
        Check(buffer, vtable, 4);
        _vtable = vtable;
        _vtableSize = BinaryPrimitives.ReadUInt16LittleEndian(buffer.AsSpan(vtable));
        Check(buffer, vtable, _vtableSize);
    }

    public bool IsNull => _buffer is null;

    public static FbTable Root(byte[] buffer)
    {
        Check(buffer, 0, 8);
        return new FbTable(buffer, (int)BinaryPrimitives.ReadUInt32LittleEndian(buffer));
    }

    private static void Check(byte[] buffer, long position, long length)
    {
        // Compared without adding the two, which could overflow for hostile offsets.
        if (position < 0 || length < 0 || position > buffer.Length || length > buffer.Length - position)
        {
            throw new FlatBufferException($"offset {position} (+{length}) lies outside the {buffer.Length}-byte buffer");
        }
    }

    /// <summary>Absolute position of field <paramref name="index"/>, or 0 when absent.</summary>
    private int FieldPosition(int index)
    {
        var entry = 4 + 2 * index;
        if (entry + 2 > _vtableSize) return 0;
        var offset = BinaryPrimitives.ReadUInt16LittleEndian(_buffer.AsSpan(_vtable + entry));
        return offset == 0 ? 0 : _position + offset;
    }

    public bool Has(int index) => FieldPosition(index) != 0;

    public byte GetByte(int index, byte defaultValue = 0)
    {
        var p = FieldPosition(index);
        if (p == 0) return defaultValue;
        Check(_buffer, p, 1);
        return _buffer[p];
    }

    public bool GetBool(int index, bool defaultValue = false) => GetByte(index, (byte)(defaultValue ? 1 : 0)) != 0;

    public int GetInt(int index, int defaultValue = 0)
    {
        var p = FieldPosition(index);
        if (p == 0) return defaultValue;
        Check(_buffer, p, 4);
        return BinaryPrimitives.ReadInt32LittleEndian(_buffer.AsSpan(p));
    }

    public uint GetUInt(int index, uint defaultValue = 0) => (uint)GetInt(index, (int)defaultValue);

    public ulong GetULong(int index, ulong defaultValue = 0)
    {
        var p = FieldPosition(index);
        if (p == 0) return defaultValue;
        Check(_buffer, p, 8);
        return BinaryPrimitives.ReadUInt64LittleEndian(_buffer.AsSpan(p));
    }

    public float GetFloat(int index, float defaultValue = 0)
    {
        var p = FieldPosition(index);
        if (p == 0) return defaultValue;
        Check(_buffer, p, 4);
        return BinaryPrimitives.ReadSingleLittleEndian(_buffer.AsSpan(p));
    }

    private int Indirect(int p)
    {
        Check(_buffer, p, 4);
        return checked(p + (int)BinaryPrimitives.ReadUInt32LittleEndian(_buffer.AsSpan(p)));
    }

    public FbTable GetTable(int index)
    {
        var p = FieldPosition(index);
        return p == 0 ? default : new FbTable(_buffer, Indirect(p));
    }

    public string? GetString(int index)
    {
        var p = FieldPosition(index);
        if (p == 0) return null;
        var start = Indirect(p);
        Check(_buffer, start, 4);
        var length = BinaryPrimitives.ReadInt32LittleEndian(_buffer.AsSpan(start));
        Check(_buffer, start + 4, length);
        return Encoding.UTF8.GetString(_buffer, start + 4, length);
    }

    /// <summary>The bytes of a vector of scalars of <paramref name="elementSize"/> bytes (empty when absent).</summary>
    public ReadOnlySpan<byte> GetVectorBytes(int index, int elementSize)
    {
        var p = FieldPosition(index);
        if (p == 0) return ReadOnlySpan<byte>.Empty;
        var start = Indirect(p);
        Check(_buffer, start, 4);
        var count = BinaryPrimitives.ReadInt32LittleEndian(_buffer.AsSpan(start));
        Check(_buffer, start + 4, (long)count * elementSize);
        return _buffer.AsSpan(start + 4, count * elementSize);
    }

    public int[] GetInts(int index)
    {
        var bytes = GetVectorBytes(index, 4);
        var result = new int[bytes.Length / 4];
        for (var i = 0; i < result.Length; i++) result[i] = BinaryPrimitives.ReadInt32LittleEndian(bytes[(4 * i)..]);
        return result;
    }

    public float[] GetFloats(int index)
    {
        var bytes = GetVectorBytes(index, 4);
        var result = new float[bytes.Length / 4];
        for (var i = 0; i < result.Length; i++) result[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes[(4 * i)..]);
        return result;
    }

    public long[] GetLongs(int index)
    {
        var bytes = GetVectorBytes(index, 8);
        var result = new long[bytes.Length / 8];
        for (var i = 0; i < result.Length; i++) result[i] = BinaryPrimitives.ReadInt64LittleEndian(bytes[(8 * i)..]);
        return result;
    }

    /// <summary>The tables of a vector of tables.</summary>
    public FbTable[] GetTables(int index)
    {
        var p = FieldPosition(index);
        if (p == 0) return Array.Empty<FbTable>();
        var start = Indirect(p);
        Check(_buffer, start, 4);
        var count = BinaryPrimitives.ReadInt32LittleEndian(_buffer.AsSpan(start));
        Check(_buffer, start + 4, (long)count * 4);
        var result = new FbTable[count];
        for (var i = 0; i < count; i++) result[i] = new FbTable(_buffer, Indirect(start + 4 + 4 * i));
        return result;
    }

    /// <summary>A union's table (the type is a separate field).</summary>
    public FbTable GetUnion(int index) => GetTable(index);

    /// <summary>Raw bytes between absolute offsets, for buffers stored outside the flatbuffer (large models).</summary>
    public ReadOnlySpan<byte> Slice(ulong offset, ulong size)
    {
        Check(_buffer, (long)offset, (long)size);
        return _buffer.AsSpan((int)offset, (int)size);
    }
}
