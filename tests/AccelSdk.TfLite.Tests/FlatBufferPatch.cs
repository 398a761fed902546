using System.Buffers.Binary;
using AccelSdk.TfLite.Native;

namespace AccelSdk.TfLite.Tests;

/// <summary>
/// Finds fields of a real <c>.tflite</c> file (schema version 3) by walking its vtables, so a test can rewrite one
/// int32 in place and get the malformed file a hostile or corrupted download would be. Reads trusted files only.
/// </summary>
internal sealed class FlatBufferPatch(byte[] bytes)
{
    private const int Subgraphs = 2, OperatorCodes = 1, Tensors = 0, SubgraphOutputs = 2, Operators = 3;
    private const int OpcodeIndex = 0, OpInputs = 1, OpOutputs = 2, BuiltinOptions = 4, Shape = 0, Buffer = 2;

    public byte[] Bytes { get; } = bytes;

    public static FlatBufferPatch Of(string model) => new(File.ReadAllBytes(TestEnvironment.Model(model)));

    public FlatBufferPatch Set(int position, int value)
    {
        BinaryPrimitives.WriteInt32LittleEndian(Bytes.AsSpan(position), value);
        return this;
    }

    public int Get(int position) => BinaryPrimitives.ReadInt32LittleEndian(Bytes.AsSpan(position));

    public int OperatorInput(int op, int k) => VectorElement(Operator(op), OpInputs, k);

    public int OperatorOutput(int op, int k) => VectorElement(Operator(op), OpOutputs, k);

    public int OperatorInputCount(int op) => VectorStart(Operator(op), OpInputs);

    public int OperatorOpcodeIndex(int op) => Field(Operator(op), OpcodeIndex);

    /// <summary>Field <paramref name="field"/> of the operator's builtin options table.</summary>
    public int OperatorOption(int op, int field) => Field(Table(Field(Operator(op), BuiltinOptions)), field);

    public int TensorShapeDim(int tensor, int dim) => VectorElement(AccelTensor(tensor), Shape, dim);

    public int TensorShapeRank(int tensor) => VectorStart(AccelTensor(tensor), Shape);

    public int TensorBuffer(int tensor) => Field(AccelTensor(tensor), Buffer);

    public int SubgraphOutput(int k) => VectorElement(Subgraph(), SubgraphOutputs, k);

    /// <summary>Index of the first operator of subgraph 0 whose opcode is <paramref name="code"/>.</summary>
    public int FirstOperator(TfLiteBuiltinOperator code)
    {
        var codes = Tables(Root(), OperatorCodes);
        var operators = Tables(Subgraph(), Operators);
        for (var i = 0; i < operators.Length; i++)
        {
            var index = FieldOrZero(operators[i], OpcodeIndex) is var p and > 0 ? Get(p) : 0; // absent: the default 0
            var opcode = codes[index];
            var deprecated = FieldOrZero(opcode, 0) is var d and > 0 ? Bytes[d] : 0;
            var builtin = FieldOrZero(opcode, 3) is var b and > 0 ? Get(b) : 0;
            if (Math.Max(deprecated, builtin) == (int)code) return i;
        }
        throw new InvalidOperationException($"the model has no {code} operator");
    }

    private int Root() => Get(0);

    private int Subgraph() => Tables(Root(), Subgraphs)[0];

    private int Operator(int op) => Tables(Subgraph(), Operators)[op];

    private int AccelTensor(int tensor) => Tables(Subgraph(), Tensors)[tensor];

    private int Table(int fieldPosition) => fieldPosition + Get(fieldPosition);

    private int FieldOrZero(int table, int index)
    {
        var vtable = table - Get(table);
        var size = BinaryPrimitives.ReadUInt16LittleEndian(Bytes.AsSpan(vtable));
        var entry = 4 + 2 * index;
        if (entry + 2 > size) return 0;
        var offset = BinaryPrimitives.ReadUInt16LittleEndian(Bytes.AsSpan(vtable + entry));
        return offset == 0 ? 0 : table + offset;
    }

    private int Field(int table, int index) =>
        FieldOrZero(table, index) is var p and > 0 ? p : throw new InvalidOperationException($"field {index} is absent from the table at {table}");

    /// <summary>Position of a vector's length word.</summary>
    private int VectorStart(int table, int field) => Table(Field(table, field));

    private int VectorElement(int table, int field, int k)
    {
        var start = VectorStart(table, field);
        if (k >= Get(start)) throw new InvalidOperationException($"element {k} is past the vector's {Get(start)}");
        return start + 4 + 4 * k;
    }

    private int[] Tables(int table, int field)
    {
        var start = VectorStart(table, field);
        return Enumerable.Range(0, Get(start)).Select(k => Table(start + 4 + 4 * k)).ToArray();
    }
}
