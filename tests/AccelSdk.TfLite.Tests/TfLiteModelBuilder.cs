using System.Runtime.InteropServices;
using AccelSdk.TfLite.Native;
using Google.FlatBuffers;

namespace AccelSdk.TfLite.Tests;

/// <summary>
/// Writes small single-subgraph <c>.tflite</c> models for op-level tests, following TFLite's schema (version 3) field
/// by field: buffer 0 is the empty sentinel, tensors name their buffer, operators their opcode. Only the tables the
/// tests need are covered (tensors with per-tensor or per-channel quantization and TACO sparsity, builtin ops with
/// a flat options table of scalar fields).
/// </summary>
internal sealed class TfLiteModelBuilder
{
    /// <summary>The schema's TensorType values used by the tests.</summary>
    public enum TensorKind : byte { Float32 = 0, Float16 = 1, Int32 = 2, Int8 = 9 }

    /// <summary>One level of a sparse tensor's dim_metadata: DENSE with a size, or SPARSE_CSR with segments/indices.</summary>
    public sealed record Level(int DenseSize, int[]? Segments = null, int[]? Indices = null, bool IndicesAsUInt8 = false)
    {
        public bool IsSparse => Segments is not null;
    }

    /// <summary>TACO sparsity parameters as the schema stores them.</summary>
    public sealed record Sparsity(int[] TraversalOrder, int[] BlockMap, Level[] Levels);

    /// <summary>An options field: slot, size in bytes (1 or 4) and value.</summary>
    public readonly record struct OptionField(int Slot, int Value, bool IsByte = false);

    private sealed record TensorSpec(string Name, int[] Shape, TensorKind Kind, int Buffer, float[]? Scales, long[]? ZeroPoints, int QuantizedDimension, Sparsity? Sparsity);

    private sealed record OperatorSpec(int OpcodeIndex, int[] Inputs, int[] Outputs, byte OptionsType, OptionField[] Options);

    private readonly List<byte[]> _buffers = new() { Array.Empty<byte>() };
    private readonly List<TensorSpec> _tensors = new();
    private readonly List<OperatorSpec> _operators = new();
    private readonly List<TfLiteBuiltinOperator> _opcodes = new();
    private readonly List<int> _inputs = new();
    private readonly List<int> _outputs = new();

    /// <summary>Adds an activation tensor (no data) and returns its index.</summary>
    public int Activation(string name, int[] shape, TensorKind kind = TensorKind.Float32, float scale = 0, long zeroPoint = 0) =>
        AddTensor(new TensorSpec(name, shape, kind, 0, scale == 0 ? null : new[] { scale }, scale == 0 ? null : new[] { zeroPoint }, 0, null));

    /// <summary>Adds a constant tensor from raw little-endian bytes, optionally quantized (per channel along <paramref name="quantizedDimension"/>) or sparse.</summary>
    public int Constant<T>(string name, int[] shape, TensorKind kind, T[] values, float[]? scales = null, long[]? zeroPoints = null, int quantizedDimension = 0, Sparsity? sparsity = null)
        where T : unmanaged
    {
        _buffers.Add(MemoryMarshal.AsBytes(values.AsSpan()).ToArray());
        return AddTensor(new TensorSpec(name, shape, kind, _buffers.Count - 1, scales, zeroPoints ?? scales?.Select(_ => 0L).ToArray(), quantizedDimension, sparsity));
    }

    private int AddTensor(TensorSpec spec)
    {
        _tensors.Add(spec);
        return _tensors.Count - 1;
    }

    /// <summary>Adds a builtin operator; <paramref name="optionsType"/> is the BuiltinOptions union index (0 = none).</summary>
    public void Op(TfLiteBuiltinOperator op, int[] inputs, int[] outputs, byte optionsType = 0, params OptionField[] options)
    {
        var index = _opcodes.IndexOf(op);
        if (index < 0)
        {
            _opcodes.Add(op);
            index = _opcodes.Count - 1;
        }
        _operators.Add(new OperatorSpec(index, inputs, outputs, optionsType, options));
    }

    public void Inputs(params int[] tensors) => _inputs.AddRange(tensors);

    public void Outputs(params int[] tensors) => _outputs.AddRange(tensors);

    /// <summary>The finished flatbuffer (file identifier TFL3).</summary>
    public byte[] Build()
    {
        var b = new FlatBufferBuilder(1024);
        var buffers = _buffers.Select(data =>
        {
            VectorOffset? vector = null;
            if (data.Length > 0)
            {
                b.StartVector(1, data.Length, 16);
                for (var i = data.Length - 1; i >= 0; i--) b.AddByte(data[i]);
                vector = b.EndVector();
            }
            b.StartTable(3);
            if (vector is { } v) b.AddOffset(0, v.Value, 0);
            return b.EndTable();
        }).ToArray();
        var tensors = _tensors.Select(t => WriteTensor(b, t)).ToArray();
        var operators = _operators.Select(o =>
        {
            var inputs = IntVector(b, o.Inputs);
            var outputs = IntVector(b, o.Outputs);
            int options = 0;
            if (o.OptionsType != 0)
            {
                b.StartTable(o.Options.Length == 0 ? 0 : o.Options.Max(f => f.Slot) + 1);
                foreach (var f in o.Options)
                {
                    if (f.IsByte) b.AddByte(f.Slot, (byte)f.Value, 0);
                    else b.AddInt(f.Slot, f.Value, 0);
                }
                options = b.EndTable();
            }
            b.StartTable(5);
            b.AddUint(0, (uint)o.OpcodeIndex, 0);
            b.AddOffset(1, inputs, 0);
            b.AddOffset(2, outputs, 0);
            if (o.OptionsType != 0)
            {
                b.AddByte(3, o.OptionsType, 0);
                b.AddOffset(4, options, 0);
            }
            return b.EndTable();
        }).ToArray();
        var tensorVector = TableVector(b, tensors);
        var inputVector = IntVector(b, _inputs);
        var outputVector = IntVector(b, _outputs);
        var operatorVector = TableVector(b, operators);
        var name = b.CreateString("main");
        b.StartTable(5);
        b.AddOffset(0, tensorVector, 0);
        b.AddOffset(1, inputVector, 0);
        b.AddOffset(2, outputVector, 0);
        b.AddOffset(3, operatorVector, 0);
        b.AddOffset(4, name.Value, 0);
        var subgraph = b.EndTable();
        var codes = _opcodes.Select(op =>
        {
            b.StartTable(4);
            b.AddSbyte(0, (sbyte)Math.Min((int)op, 127), 0);
            b.AddInt(2, 1, 0);
            b.AddInt(3, (int)op, 0);
            return b.EndTable();
        }).ToArray();
        var codeVector = TableVector(b, codes);
        var subgraphVector = TableVector(b, new[] { subgraph });
        var bufferVector = TableVector(b, buffers);
        var description = b.CreateString("AccelSdk test model");
        b.StartTable(5);
        b.AddUint(0, 3, 0);
        b.AddOffset(1, codeVector, 0);
        b.AddOffset(2, subgraphVector, 0);
        b.AddOffset(3, description.Value, 0);
        b.AddOffset(4, bufferVector, 0);
        var model = b.EndTable();
        b.Finish(model, "TFL3");
        return b.SizedByteArray();
    }

    private static int WriteTensor(FlatBufferBuilder b, TensorSpec t)
    {
        var shape = IntVector(b, t.Shape);
        var name = b.CreateString(t.Name);
        var quantization = 0;
        if (t.Scales is { } scales)
        {
            b.StartVector(4, scales.Length, 4);
            for (var i = scales.Length - 1; i >= 0; i--) b.AddFloat(scales[i]);
            var scaleVector = b.EndVector().Value;
            var zeros = t.ZeroPoints!;
            b.StartVector(8, zeros.Length, 8);
            for (var i = zeros.Length - 1; i >= 0; i--) b.AddLong(zeros[i]);
            var zeroVector = b.EndVector().Value;
            b.StartTable(7);
            b.AddOffset(2, scaleVector, 0);
            b.AddOffset(3, zeroVector, 0);
            b.AddInt(6, t.QuantizedDimension, 0);
            quantization = b.EndTable();
        }
        var sparsity = t.Sparsity is { } s ? WriteSparsity(b, s) : 0;
        b.StartTable(7);
        b.AddOffset(0, shape, 0);
        b.AddByte(1, (byte)t.Kind, 0);
        b.AddUint(2, (uint)t.Buffer, 0);
        b.AddOffset(3, name.Value, 0);
        if (quantization != 0) b.AddOffset(4, quantization, 0);
        if (sparsity != 0) b.AddOffset(6, sparsity, 0);
        return b.EndTable();
    }

    private static int WriteSparsity(FlatBufferBuilder b, Sparsity s)
    {
        var levels = s.Levels.Select(level =>
        {
            int segments = 0, indices = 0;
            if (level.IsSparse)
            {
                segments = IndexVector(b, level.Segments!, asUInt8: false);
                indices = IndexVector(b, level.Indices!, level.IndicesAsUInt8);
            }
            b.StartTable(6);
            b.AddByte(0, (byte)(level.IsSparse ? 1 : 0), 0);
            b.AddInt(1, level.DenseSize, 0);
            if (level.IsSparse)
            {
                b.AddByte(2, 1, 0); // Int32Vector
                b.AddOffset(3, segments, 0);
                b.AddByte(4, (byte)(level.IndicesAsUInt8 ? 3 : 1), 0); // Uint8Vector or Int32Vector
                b.AddOffset(5, indices, 0);
            }
            return b.EndTable();
        }).ToArray();
        var traversal = IntVector(b, s.TraversalOrder);
        var blockMap = IntVector(b, s.BlockMap);
        var levelVector = TableVector(b, levels);
        b.StartTable(3);
        b.AddOffset(0, traversal, 0);
        b.AddOffset(1, blockMap, 0);
        b.AddOffset(2, levelVector, 0);
        return b.EndTable();
    }

    /// <summary>An Int32Vector or Uint8Vector table (field 0: values).</summary>
    private static int IndexVector(FlatBufferBuilder b, int[] values, bool asUInt8)
    {
        int vector;
        if (asUInt8)
        {
            b.StartVector(1, values.Length, 4);
            for (var i = values.Length - 1; i >= 0; i--) b.AddByte(checked((byte)values[i]));
            vector = b.EndVector().Value;
        }
        else vector = IntVector(b, values);
        b.StartTable(1);
        b.AddOffset(0, vector, 0);
        return b.EndTable();
    }

    private static int IntVector(FlatBufferBuilder b, IReadOnlyList<int> values)
    {
        b.StartVector(4, values.Count, 4);
        for (var i = values.Count - 1; i >= 0; i--) b.AddInt(values[i]);
        return b.EndVector().Value;
    }

    private static int TableVector(FlatBufferBuilder b, int[] tables)
    {
        b.StartVector(4, tables.Length, 4);
        for (var i = tables.Length - 1; i >= 0; i--) b.AddOffset(tables[i]);
        return b.EndVector().Value;
    }
}
