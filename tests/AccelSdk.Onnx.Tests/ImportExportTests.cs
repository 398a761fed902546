using AccelSdk.Ir;
using AccelSdk.Onnx;
using AccelSdk.TestSupport;

namespace AccelSdk.Onnx.Tests;

public class ImportExportTests
{
    public static IEnumerable<object[]> Suites() => RepoPaths.OnnxSuites.Select(s => new object[] { s });

    [Theory]
    [MemberData(nameof(Suites))]
    public void Every_suite_model_survives_import_export_import_unchanged(string suite)
    {
        var dir = Path.Combine(RepoPaths.OnnxTestData, suite);
        Assert.True(Directory.Exists(dir), $"{dir} missing: run scripts/setup.sh");
        var count = 0;
        foreach (var caseDir in Directory.GetDirectories(dir))
        {
            var model = OnnxImporter.Load(Path.Combine(caseDir, "model.onnx"));
            var once = OnnxExporter.ToBytes(model);
            var twice = OnnxExporter.ToBytes(OnnxImporter.Parse(once));
            Assert.True(once.AsSpan().SequenceEqual(twice), $"{caseDir}: export is not stable across a round trip");
            count++;
        }
        Assert.True(count > 10, $"only {count} cases in {dir}");
    }

    [Fact]
    public void Import_keeps_opsets_attributes_subgraphs_and_declared_types()
    {
        var model = OnnxImporter.Load(Path.Combine(RepoPaths.OnnxCase("node", "test_if"), "model.onnx"));
        var node = Assert.Single(model.Graph.Nodes);
        Assert.Equal("If", node.OpType);
        Assert.Equal(2, node.Subgraphs.Count());
        Assert.True(model.OpsetOf("") >= 11);
        var conv = OnnxImporter.Load(Path.Combine(RepoPaths.OnnxCase("node", "test_conv_with_strides_padding"), "model.onnx"));
        var c = conv.Graph.Nodes.Single();
        Assert.Equal(new long[] { 2, 2 }, c.GetInts("strides"));
        Assert.Equal(new long[] { 1, 1, 1, 1 }, c.GetInts("pads"));
        Assert.Equal("float32[1,1,7,5]", conv.Graph.Inputs[0].Type!.ToString());
    }

    [Fact]
    public void Tensor_files_read_and_write_back_identically()
    {
        var file = Path.Combine(RepoPaths.OnnxCase("node", "test_cast_FLOAT_to_STRING"), "test_data_set_0", "output_0.pb");
        var t = OnnxTensors.ReadFile(file);
        Assert.True(t.IsString);
        var again = OnnxTensors.Parse(OnnxTensors.Serialize(t));
        Assert.Equal(t.Strings, again.Strings);
        Assert.Equal(t.ShapeArray, again.ShapeArray);
    }

    [Fact]
    public void External_data_is_loaded_relative_to_the_model()
    {
        using var dir = new TempDir();
        var weights = Enumerable.Range(0, 6).Select(i => (float)i).ToArray();
        File.WriteAllBytes(Path.Combine(dir.Path, "weights.bin"), new byte[16].Concat(weights.SelectMany(BitConverter.GetBytes)).ToArray());
        var path = Path.Combine(dir.Path, "m.onnx");
        File.WriteAllBytes(path, ExternalDataModel("weights.bin", offset: 16, length: 24));
        var model = OnnxImporter.Load(path);
        Assert.Equal(weights, model.Graph.Initializers[0].ToArray<float>());
    }

    [Theory]
    [InlineData("../outside.bin", "outside the model's folder")]
    [InlineData("missing.bin", "not found")]
    public void Hostile_or_missing_external_data_is_a_typed_error(string location, string expected)
    {
        using var dir = new TempDir();
        var path = Path.Combine(dir.Path, "m.onnx");
        File.WriteAllBytes(path, ExternalDataModel(location, 0, 24));
        var e = Assert.Throws<ModelLoadException>(() => OnnxImporter.Load(path));
        Assert.Contains(expected, e.Message);
        Assert.Contains("'w'", e.Message);
        Assert.Equal(path, e.Path);
    }

    [Fact]
    public void Truncated_empty_and_garbage_files_are_typed_errors_naming_the_file()
    {
        using var dir = new TempDir();
        var source = File.ReadAllBytes(Path.Combine(RepoPaths.OnnxCase("node", "test_conv_with_strides_padding"), "model.onnx"));
        var cases = new Dictionary<string, byte[]>
        {
            ["truncated.onnx"] = source[..(source.Length / 2)],
            ["empty.onnx"] = Array.Empty<byte>(),
            ["garbage.onnx"] = Enumerable.Range(0, 4096).Select(i => (byte)(i * 7919 % 251)).ToArray(),
        };
        foreach (var (name, bytes) in cases)
        {
            var path = Path.Combine(dir.Path, name);
            File.WriteAllBytes(path, bytes);
            var e = Assert.Throws<ModelLoadException>(() => OnnxImporter.Load(path));
            Assert.Contains(name, e.Message);
        }
    }

    [Fact]
    public void Raw_data_of_the_wrong_size_names_the_tensor_and_shape()
    {
        var proto = new global::Onnx.ModelProto { IrVersion = 8, Graph = new global::Onnx.GraphProto { Name = "g" } };
        proto.OpsetImport.Add(new global::Onnx.OperatorSetIdProto { Domain = "", Version = 17 });
        var t = new global::Onnx.TensorProto { Name = "w", DataType = 1, RawData = Google.Protobuf.ByteString.CopyFrom(new byte[10]) };
        t.Dims.AddRange(new long[] { 2, 3 });
        proto.Graph.Initializer.Add(t);
        var e = Assert.Throws<ModelLoadException>(() => OnnxImporter.Parse(Google.Protobuf.MessageExtensions.ToByteArray(proto), "bad.onnx"));
        Assert.Contains("'w'", e.Message);
        Assert.Contains("float32[2,3] needs 24 bytes", e.Message);
    }

    private static byte[] ExternalDataModel(string location, long offset, long length)
    {
        var proto = new global::Onnx.ModelProto { IrVersion = 8, Graph = new global::Onnx.GraphProto { Name = "g" } };
        proto.OpsetImport.Add(new global::Onnx.OperatorSetIdProto { Domain = "", Version = 17 });
        var t = new global::Onnx.TensorProto { Name = "w", DataType = 1, DataLocation = global::Onnx.TensorProto.Types.DataLocation.External };
        t.Dims.AddRange(new long[] { 2, 3 });
        t.ExternalData.Add(new global::Onnx.StringStringEntryProto { Key = "location", Value = location });
        t.ExternalData.Add(new global::Onnx.StringStringEntryProto { Key = "offset", Value = offset.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        t.ExternalData.Add(new global::Onnx.StringStringEntryProto { Key = "length", Value = length.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        proto.Graph.Initializer.Add(t);
        return Google.Protobuf.MessageExtensions.ToByteArray(proto);
    }
}

internal sealed class TempDir : IDisposable
{
    public TempDir()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "accelsdk-test-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public void Dispose() => Directory.Delete(Path, recursive: true);
}
