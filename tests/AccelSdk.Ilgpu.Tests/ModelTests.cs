using System.Diagnostics;
using System.Security.Cryptography;
using AccelSdk.Backends;
using AccelSdk.Execution;
using AccelSdk.Ir;
using AccelSdk.Onnx;
using AccelSdk.OnnxRuntime;
using Xunit;
using Xunit.Abstractions;

namespace AccelSdk.Ilgpu.Tests;

/// <summary>Real models run whole on ilgpu-cpu and compared with ONNX Runtime's CPU execution provider.</summary>
public class ModelTests(ITestOutputHelper output)
{
    private const string ResNet18Sha256 = "e2552f19db2dfdb01b3669537b6a0f1b44da38d18279535492ed5dfc2ef1ff8f";

    [Theory]
    [InlineData("face_detection_front_128x128_barracuda.onnx", "d388b1cf8a5f6f1af2b3f4c14f6d0f138bab970cd618cccd12dddb7484e82e51")]
    [InlineData("face_detection_back_256x256_barracuda.onnx", "427cbbe0fc41448d09e1dc9cfabe2423d997cf2faaeab91fadd09a510b63b8e2")]
    public void BlazeFaceMatchesOnnxRuntimeWithin1e4Relative(string file, string sha256)
    {
        var path = TestSupport.RepoPaths.Model(Path.Combine("blazeface", file));
        Assert.Equal(sha256, Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path))));
        CompareWithOrt(OnnxImporter.Load(path));
    }

    [Fact]
    public void ResNet18MatchesOnnxRuntimeWithin1e4Relative()
    {
        var path = TestSupport.RepoPaths.ResNet18;
        Assert.Equal(ResNet18Sha256, Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path))));
        CompareWithOrt(OnnxImporter.Load(path));
    }

    private void CompareWithOrt(Model model) => CompareWithOrt(model, Shared.Backend, Shared.TestDevice, output);

    /// <summary>Runs <paramref name="model"/> whole on <paramref name="device"/> and on ORT's CPU EP; outputs must agree within 1e-4 of the largest reference value.</summary>
    internal static void CompareWithOrt(Model model, IlgpuBackend backend, Device device, ITestOutputHelper output, CompileOptions? options = null)
    {
        Assert.Empty(GraphPartitioner.Unsupported(model, backend, device));
        var inputs = SampleInputs.Random(model, seed: 7);

        using var ort = new OrtBackend();
        var ortCpu = ort.Devices.Single(d => d.Id == "ort-cpu");
        using var reference = new AccelSession(GraphPartitioner.WholeModel(model, ort, ortCpu));
        var expected = reference.Run(inputs);

        using var session = new AccelSession(GraphPartitioner.WholeModel(model, backend, device), options);
        var watch = Stopwatch.StartNew();
        var actual = session.Run(inputs);
        output.WriteLine($"{device.Id} {model.Label}: compile {session.CompileTime.TotalMilliseconds:F0} ms, first run {watch.Elapsed.TotalMilliseconds:F0} ms");
        watch.Restart();
        var second = session.Run(inputs);
        output.WriteLine($"{device.Id} {model.Label}: second run {watch.Elapsed.TotalMilliseconds:F0} ms");

        Assert.Equal(expected.Count, actual.Count);
        for (var o = 0; o < expected.Count; o++)
        {
            var (maxAbs, maxRef) = Compare(actual[o], expected[o]);
            var relative = maxAbs / maxRef;
            output.WriteLine($"output {expected.Names[o]} {TensorShape.Format(expected[o].Shape)}: max |diff| {maxAbs:g3}, max |ref| {maxRef:g3}, relative {relative:g3}");
            Assert.True(relative <= 1e-4, $"output {o}: max |diff| {maxAbs} is {relative:g3} of max |ref| {maxRef}, above 1e-4");
            Assert.Equal(actual[o].AsSpan<float>().ToArray(), second[o].AsSpan<float>().ToArray());
        }
    }

    /// <summary>Largest absolute difference and largest absolute reference value.</summary>
    internal static (double MaxAbsDiff, double MaxAbsRef) Compare(AccelTensor actual, AccelTensor expected)
    {
        Assert.Equal(expected.ElementType, actual.ElementType);
        Assert.Equal(expected.ShapeArray, actual.ShapeArray);
        var a = actual.AsSpan<float>();
        var e = expected.AsSpan<float>();
        double maxDiff = 0, maxRef = 0;
        for (var i = 0; i < e.Length; i++)
        {
            Assert.False(float.IsNaN(a[i]), $"NaN at {i}");
            maxDiff = Math.Max(maxDiff, Math.Abs(a[i] - e[i]));
            maxRef = Math.Max(maxRef, Math.Abs(e[i]));
        }
        return (maxDiff, maxRef);
    }
}
