using AccelSdk.Ir;

namespace AccelSdk.TfLite.Import;

internal sealed partial class ImportContext
{
    /// <summary>
    /// Densifies a sparse constant (TFLite's TACO-style sparsity: a traversal order over the dense dims and block dims,
    /// each level DENSE with a size or SPARSE_CSR with segments and indices).
    /// </summary>
    private AccelTensor Densify(int t, ElementType type, long[] denseShape, ReadOnlySpan<byte> values)
    {
        var sparsity = _tensors[t].GetTable(TensorFields.Sparsity);
        var traversal = sparsity.GetInts(SparsityFields.TraversalOrder);
        var blockMap = sparsity.GetInts(SparsityFields.BlockMap);
        var levels = sparsity.GetTables(SparsityFields.DimMetadata);
        if (levels.Length != traversal.Length) throw new ModelLoadException(_path, $"sparse tensor '{_names[t]}': {levels.Length} dim metadata for {traversal.Length} traversal dims");
        var rank = denseShape.Length;
        var blockSizes = new long[blockMap.Length];
        for (var b = 0; b < blockMap.Length; b++) blockSizes[b] = levels[rank + b].GetInt(DimensionMetadataFields.DenseSize);
        var formats = levels.Select(l => (
            IsDense: l.GetByte(DimensionMetadataFields.Format) == 0,
            Size: (long)l.GetInt(DimensionMetadataFields.DenseSize),
            Segments: ReadIndexVector(l, DimensionMetadataFields.ArraySegmentsType, DimensionMetadataFields.ArraySegments),
            Indices: ReadIndexVector(l, DimensionMetadataFields.ArrayIndicesType, DimensionMetadataFields.ArrayIndices))).ToArray();
        var elementSize = type.SizeInBytes();
        var result = AccelTensor.Zeros(type, denseShape, _names[t]);
        var target = new byte[result.ByteLength];
        var strides = new long[rank];
        long stride = 1;
        for (var d = rank - 1; d >= 0; d--)
        {
            strides[d] = stride;
            stride *= denseShape[d];
        }
        var indices = new long[traversal.Length];
        var sourceIndex = 0;
        var source = values.ToArray();

        void Visit(int level, long previous)
        {
            if (level == traversal.Length)
            {
                var original = new long[rank];
                var i = 0;
                for (; i < rank; i++) original[traversal[i]] = indices[i];
                for (; i < traversal.Length; i++)
                {
                    var block = traversal[i] - rank;
                    var dim = blockMap[block];
                    original[dim] = original[dim] * blockSizes[block] + indices[i];
                }
                long flat = 0;
                for (var d = 0; d < rank; d++) flat += original[d] * strides[d];
                if ((sourceIndex + 1) * elementSize > source.Length || (flat + 1) * elementSize > target.Length)
                {
                    throw new ModelLoadException(_path, $"sparse tensor '{_names[t]}': its indices point outside its values or its dense shape");
                }
                // AsSpan, not target[range]: a range over an array copies it, and the value would land in that copy.
                source.AsSpan(sourceIndex * elementSize, elementSize).CopyTo(target.AsSpan((int)(flat * elementSize)));
                sourceIndex++;
                return;
            }
            var f = formats[level];
            if (f.IsDense)
            {
                for (long k = 0; k < f.Size; k++)
                {
                    indices[level] = k;
                    Visit(level + 1, previous * f.Size + k);
                }
                return;
            }
            if (previous + 1 >= f.Segments.Length) return;
            for (var k = f.Segments[previous]; k < f.Segments[previous + 1]; k++)
            {
                if (k < 0 || k >= f.Indices.Length) throw new ModelLoadException(_path, $"sparse tensor '{_names[t]}': segment points past its indices");
                indices[level] = f.Indices[k];
                Visit(level + 1, k);
            }
        }

        Visit(0, 0);
        target.CopyTo(result.Bytes);
        return result;
    }

    /// <summary>Reads a SparseIndexVector union (Int32Vector = 1, Uint16Vector = 2, Uint8Vector = 3; each a table whose field 0 is the values).</summary>
    internal static int[] ReadIndexVector(FbTable level, int typeField, int valueField)
    {
        var kind = level.GetByte(typeField);
        if (kind == 0) return Array.Empty<int>();
        var table = level.GetUnion(valueField);
        if (table.IsNull) return Array.Empty<int>();
        switch (kind)
        {
            case 1: return table.GetInts(0);
            case 2:
            {
                var bytes = table.GetVectorBytes(0, 2);
                var result = new int[bytes.Length / 2];
                for (var i = 0; i < result.Length; i++) result[i] = bytes[2 * i] | bytes[2 * i + 1] << 8;
                return result;
            }
            case 3: return table.GetVectorBytes(0, 1).ToArray().Select(b => (int)b).ToArray();
            default: throw new FlatBufferException($"unknown sparse index vector type {kind}");
        }
    }
}
