using System.Runtime.InteropServices;
using System.Text;
using AccelSdk.Ir;
using Google.Protobuf;
using Onnx;

namespace AccelSdk.Onnx;

/// <summary>Conversion between ONNX <c>TensorProto</c> and <see cref="AccelTensor"/>, and the <c>.pb</c> tensor files of the ONNX test suite.</summary>
public static class OnnxTensors
{
    /// <summary>Reads a serialized <c>TensorProto</c> file (such as <c>input_0.pb</c>).</summary>
    public static AccelTensor ReadFile(string path)
    {
        if (!File.Exists(path)) throw new ModelLoadException(path, "tensor file not found");
        TensorProto proto;
        try
        {
            proto = TensorProto.Parser.ParseFrom(File.ReadAllBytes(path));
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new ModelLoadException(path, "not a valid ONNX TensorProto: " + e.Message, e);
        }
        try
        {
            return FromProto(proto, Path.GetDirectoryName(Path.GetFullPath(path))!);
        }
        catch (Exception e) when (e is ArgumentException or InvalidDataException or OverflowException or InvalidTensorException)
        {
            throw new ModelLoadException(path, e.Message, e);
        }
    }

    /// <summary>
    /// Reads input tensor files for <paramref name="model"/>: a file whose tensor is named after a graph input feeds
    /// that input, others feed the required inputs in order. ONNX 1.12's test data stores bfloat16 as uint16 (numpy
    /// has no bfloat16), so such bits are reinterpreted where the model declares bfloat16.
    /// </summary>
    public static Dictionary<string, AccelTensor> ReadInputs(Model model, IReadOnlyList<string> files)
    {
        var required = model.Graph.RequiredInputs.ToList();
        var all = model.Graph.Inputs;
        var inputs = new Dictionary<string, AccelTensor>(StringComparer.Ordinal);
        for (var i = 0; i < files.Count; i++)
        {
            var tensor = ReadFile(files[i]);
            string name;
            if (tensor.Name is { Length: > 0 } n && all.Any(v => v.Name == n)) name = n;
            else if (i < required.Count) name = required[i].Name;
            else throw new InputMismatchException(Path.GetFileName(files[i]), $"{model.Label} takes {required.Count} input(s), {files.Count} files given");
            inputs[name] = AsDeclared(tensor, all.FirstOrDefault(v => v.Name == name)?.TensorType?.ElementType);
        }
        return inputs;
    }

    /// <summary>Reinterprets uint16 data as bfloat16 where <paramref name="declared"/> is bfloat16 (see <see cref="ReadInputs"/>).</summary>
    public static AccelTensor AsDeclared(AccelTensor tensor, ElementType? declared) =>
        declared == ElementType.BFloat16 && tensor.ElementType == ElementType.UInt16
            ? AccelTensor.FromBytes(ElementType.BFloat16, tensor.Shape, tensor.Bytes, tensor.Name)
            : tensor;

    /// <summary>Writes <paramref name="tensor"/> as a serialized <c>TensorProto</c> file.</summary>
    public static void WriteFile(AccelTensor tensor, string path) => File.WriteAllBytes(path, ToProto(tensor).ToByteArray());

    /// <summary>Parses a serialized <c>TensorProto</c>.</summary>
    public static AccelTensor Parse(ReadOnlySpan<byte> bytes) => FromProto(TensorProto.Parser.ParseFrom(bytes), null);

    /// <summary>Serializes a tensor as <c>TensorProto</c> bytes.</summary>
    public static byte[] Serialize(AccelTensor tensor) => ToProto(tensor).ToByteArray();

    internal static AccelTensor FromProto(TensorProto proto, string? baseDirectory)
    {
        var type = (ElementType)proto.DataType;
        var shape = proto.Dims.ToArray();
        var name = proto.HasName ? proto.Name : null;
        var label = name is null ? "tensor" : $"tensor '{name}'";
        if (!Enum.IsDefined(type) || type == ElementType.Undefined)
        {
            throw new InvalidDataException($"{label} has unsupported data_type {proto.DataType}");
        }
        foreach (var d in shape)
        {
            if (d < 0) throw new InvalidDataException($"{label} has negative dimension in {TensorShape.Format(shape)}");
        }
        long count;
        try
        {
            count = AccelTensor.CountElements(shape);
        }
        catch (InvalidTensorException)
        {
            throw new InvalidDataException($"{label} shape {TensorShape.Format(shape)} overflows");
        }
        var doc = proto.HasDocString ? proto.DocString : null;
        if (type == ElementType.String)
        {
            if (proto.StringData.Count != count)
            {
                throw new InvalidDataException($"{label}: string[{string.Join(",", shape)}] needs {count} strings, string_data holds {proto.StringData.Count}");
            }
            return AccelTensor.CreateStrings(proto.StringData.Select(s => s.ToStringUtf8()).ToArray(), shape).WithName(name).WithDoc(doc);
        }
        var elementSize = type.SizeInBytes();
        if (count > AccelTensor.MaxByteLength / elementSize)
        {
            throw new InvalidDataException($"{label}: {type.ShortName()}{TensorShape.Format(shape)} exceeds the {AccelTensor.MaxByteLength:N0}-byte dense tensor limit");
        }
        var byteCount = count * elementSize;
        if (proto.HasDataLocation && proto.DataLocation == TensorProto.Types.DataLocation.External)
        {
            return ReadExternal(proto, type, shape, byteCount, name, baseDirectory).WithDoc(doc);
        }
        if (proto.HasRawData)
        {
            if (proto.RawData.Length != byteCount)
            {
                throw new InvalidDataException($"{label}: {type.ShortName()}{TensorShape.Format(shape)} needs {byteCount} bytes, raw_data holds {proto.RawData.Length}");
            }
            return AccelTensor.FromBytes(type, shape, proto.RawData.Span, name).WithDoc(doc);
        }
        var tensor = AccelTensor.Zeros(type, shape, name);
        var bytes = tensor.Bytes;
        void Expect(int have, int perElement, string field)
        {
            if (have != count * perElement)
            {
                throw new InvalidDataException($"{label}: {type.ShortName()}{TensorShape.Format(shape)} needs {count * perElement} values in {field}, found {have}");
            }
        }
        switch (type)
        {
            case ElementType.Float32:
                Expect(proto.FloatData.Count, 1, "float_data");
                CopyTo(proto.FloatData, MemoryMarshal.Cast<byte, float>(bytes));
                break;
            case ElementType.Complex64:
                Expect(proto.FloatData.Count, 2, "float_data");
                CopyTo(proto.FloatData, MemoryMarshal.Cast<byte, float>(bytes));
                break;
            case ElementType.Float64:
                Expect(proto.DoubleData.Count, 1, "double_data");
                CopyTo(proto.DoubleData, MemoryMarshal.Cast<byte, double>(bytes));
                break;
            case ElementType.Complex128:
                Expect(proto.DoubleData.Count, 2, "double_data");
                CopyTo(proto.DoubleData, MemoryMarshal.Cast<byte, double>(bytes));
                break;
            case ElementType.Int64:
                Expect(proto.Int64Data.Count, 1, "int64_data");
                CopyTo(proto.Int64Data, MemoryMarshal.Cast<byte, long>(bytes));
                break;
            case ElementType.UInt64:
                Expect(proto.Uint64Data.Count, 1, "uint64_data");
                CopyTo(proto.Uint64Data, MemoryMarshal.Cast<byte, ulong>(bytes));
                break;
            case ElementType.UInt32:
            {
                Expect(proto.Uint64Data.Count, 1, "uint64_data");
                var dst = MemoryMarshal.Cast<byte, uint>(bytes);
                for (var i = 0; i < dst.Length; i++) dst[i] = (uint)proto.Uint64Data[i];
                break;
            }
            case ElementType.Int32:
                Expect(proto.Int32Data.Count, 1, "int32_data");
                CopyTo(proto.Int32Data, MemoryMarshal.Cast<byte, int>(bytes));
                break;
            case ElementType.Int16:
            case ElementType.UInt16:
            case ElementType.Float16:
            case ElementType.BFloat16:
            {
                Expect(proto.Int32Data.Count, 1, "int32_data");
                var dst = MemoryMarshal.Cast<byte, ushort>(bytes);
                for (var i = 0; i < dst.Length; i++) dst[i] = unchecked((ushort)proto.Int32Data[i]);
                break;
            }
            case ElementType.Int8:
            case ElementType.UInt8:
            case ElementType.Bool:
                Expect(proto.Int32Data.Count, 1, "int32_data");
                for (var i = 0; i < bytes.Length; i++) bytes[i] = unchecked((byte)proto.Int32Data[i]);
                break;
            default:
                throw new InvalidDataException($"{label} has unsupported data_type {type}");
        }
        return tensor.WithDoc(doc);
    }

    private static AccelTensor ReadExternal(TensorProto proto, ElementType type, long[] shape, long byteCount, string? name, string? baseDirectory)
    {
        var label = name is null ? "tensor" : $"tensor '{name}'";
        var entries = proto.ExternalData.ToDictionary(e => e.Key, e => e.Value);
        if (!entries.TryGetValue("location", out var location) || string.IsNullOrEmpty(location))
        {
            throw new InvalidDataException($"{label}: external data has no location");
        }
        if (baseDirectory is null) throw new InvalidDataException($"{label}: external data '{location}' needs the model's folder");
        var full = Path.GetFullPath(Path.Combine(baseDirectory, location));
        var root = Path.GetFullPath(baseDirectory).TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar;
        if (!full.StartsWith(root, StringComparison.Ordinal))
        {
            throw new InvalidDataException($"{label}: external data location '{location}' points outside the model's folder");
        }
        if (!File.Exists(full)) throw new InvalidDataException($"{label}: external data file '{location}' not found next to the model");
        long offset = entries.TryGetValue("offset", out var o) ? long.Parse(o, System.Globalization.CultureInfo.InvariantCulture) : 0;
        long length = entries.TryGetValue("length", out var l) ? long.Parse(l, System.Globalization.CultureInfo.InvariantCulture) : byteCount;
        if (length != byteCount) throw new InvalidDataException($"{label}: external data length {length} but {type.ShortName()}{TensorShape.Format(shape)} needs {byteCount} bytes");
        using var stream = File.OpenRead(full);
        if (offset < 0 || offset + length > stream.Length)
        {
            throw new InvalidDataException($"{label}: external data [{offset}, {offset + length}) lies beyond the end of '{location}' ({stream.Length} bytes)");
        }
        var tensor = AccelTensor.Zeros(type, shape, name);
        stream.Seek(offset, SeekOrigin.Begin);
        stream.ReadExactly(tensor.Bytes);
        return tensor;
    }

    private static void CopyTo<T>(Google.Protobuf.Collections.RepeatedField<T> source, Span<T> destination)
    {
        for (var i = 0; i < destination.Length; i++) destination[i] = source[i];
    }

    internal static TensorProto ToProto(AccelTensor tensor)
    {
        var proto = new TensorProto { DataType = (int)tensor.ElementType };
        proto.Dims.AddRange(tensor.ShapeArray);
        if (tensor.Name is not null) proto.Name = tensor.Name;
        if (tensor.DocString is not null) proto.DocString = tensor.DocString;
        if (tensor.IsString)
        {
            foreach (var s in tensor.Strings) proto.StringData.Add(ByteString.CopyFrom(s, Encoding.UTF8));
        }
        else
        {
            proto.RawData = ByteString.CopyFrom(tensor.Bytes);
        }
        return proto;
    }
}
