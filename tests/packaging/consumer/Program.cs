// An integrator's program, built against the AccelSdk NuGet packages: probes the machine through the packaged
// native shim, lets Accel.Select pick a device for a real model, checks its output against plain ONNX Runtime,
// runs MediaPipe's Convolution2DTransposeBias through the packaged custom-op library, and (given a .tflite model) runs
// it on tflite-cpu through the TFLite library the AccelSdk.TfLite package carries, in this ordinary dotnet host.
using AccelSdk;
using AccelSdk.Ir;
using AccelSdk.Native;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

if (args.Length is < 1 or > 2)
{
    Console.Error.WriteLine("usage: PackageConsumer MODEL.onnx [MODEL.tflite]");
    return 2;
}
var modelPath = args[0];
var tfliteModelPath = args.Length > 1 ? args[1] : null;
int passed = 0, failed = 0;
void Check(bool ok, string what)
{
    Console.WriteLine($"{(ok ? "ok  " : "FAIL")} {what}");
    if (ok) passed++; else failed++;
}

Check(DeviceProbe.IsAvailable, "device probe shim loads from the package: " + (DeviceProbe.UnavailableReason ?? "yes"));
if (DeviceProbe.Current is { } machine)
{
    Console.WriteLine($"     cpu {machine.Cpu.Vendor} {machine.Cpu.Model}, {machine.Cpu.LogicalCores} logical cores, isa {string.Join(' ', machine.Cpu.FeatureNames)}");
    Console.WriteLine($"     opencl: {machine.OpenCl.Message}; cuda: {machine.Cuda.Message}");
    Check(machine.Cpu.LogicalCores >= 1 && machine.Cpu.FeatureNames.Count > 0, "the probe reports cores and ISA features");
}
Check(OrtCustomOps.IsAvailable, "ORT custom-op library is deployed: " + (OrtCustomOps.UnavailableReason ?? OrtCustomOps.LibraryPath));

// The real model through Accel.Select, against plain ONNX Runtime on the same input.
using var plain = new InferenceSession(modelPath);
var (inputName, meta) = plain.InputMetadata.First();
var dims = meta.Dimensions.Select(d => d < 0 ? 1 : d).ToArray();
var random = new Random(42);
var data = new float[dims.Aggregate(1, (a, b) => a * b)];
for (var i = 0; i < data.Length; i++) data[i] = (float)random.NextDouble();

using var session = Accel.Select(modelPath, new SelectOptions { WarmupRuns = 1, MeasuredRuns = 3 });
var chosen = session.Selection!.Chosen;
Console.WriteLine($"     Accel.Select chose {chosen.Id}: " +
    string.Join(", ", session.Selection.Candidates.Select(c => $"{c.Device.Id} {c.MedianMs:F1} ms")));
var got = session.Run(AccelTensor.Create(data, dims.Select(d => (long)d).ToArray()))[0].ToArray<float>();
using var reference = plain.Run(new[] { NamedOnnxValue.CreateFromTensor(inputName, new DenseTensor<float>(data, dims)) });
var want = reference.First().AsEnumerable<float>().ToArray();
var maxDiff = got.Length == want.Length ? got.Zip(want, (a, b) => Math.Abs(a - b)).Max() : float.NaN;
Check(got.Length == want.Length && got.Zip(want).All(p => Math.Abs(p.First - p.Second) <= 1e-4 + 1e-4 * Math.Abs(p.Second)),
    $"{Path.GetFileName(modelPath)}: {got.Length} outputs match plain ONNX Runtime (max |diff| {maxDiff:G3}, atol 1e-4 + rtol 1e-4)");

// A custom op: 2x2 input, 2x2 kernel of ones, stride 2, VALID -> each pixel becomes a 2x2 block of value + bias.
var graph = new Graph { Name = "blocks" };
graph.Inputs.Add(new ValueInfo("X", new TensorType(ElementType.Float32, new TensorShape(1, 2, 2, 1))));
graph.Outputs.Add(new ValueInfo("Y", new TensorType(ElementType.Float32, new TensorShape(1, 4, 4, 1))));
graph.Initializers.Add(AccelTensor.Create(new float[] { 1, 1, 1, 1 }, 1, 2, 2, 1).WithName("W"));
graph.Initializers.Add(AccelTensor.Create(new float[] { 0.5f }, 1).WithName("B"));
var node = new Node("Convolution2DTransposeBias", new[] { "X", "W", "B" }, new[] { "Y" }, "up", OrtCustomOps.Domain);
node.Attributes.Add(NodeAttribute.String("padding", "VALID"));
node.Attributes.Add(NodeAttribute.Ints("strides", 2, 2));
graph.Nodes.Add(node);
var model = new Model(graph);
model.OpsetImports[""] = 17;
model.OpsetImports[OrtCustomOps.Domain] = OrtCustomOps.OpsetVersion;
using (var custom = Accel.Select(model, new SelectOptions { WarmupRuns = 0, MeasuredRuns = 1 }))
{
    var blocks = custom.Run(AccelTensor.Create(new float[] { 1, 2, 3, 4 }, 1, 2, 2, 1))[0].ToArray<float>();
    float[] expected = { 1.5f, 1.5f, 2.5f, 2.5f, 1.5f, 1.5f, 2.5f, 2.5f, 3.5f, 3.5f, 4.5f, 4.5f, 3.5f, 3.5f, 4.5f, 4.5f };
    Check(blocks.SequenceEqual(expected), "Convolution2DTransposeBias runs through the packaged custom-op library");
}

if (tfliteModelPath is not null)
{
    // TFLite's runtime runs the file itself; ONNX Runtime runs the model imported into the IR: same input, same outputs.
    var tfliteDevice = Accel.Devices.Single(d => d.Id == "tflite-cpu");
    Check(tfliteDevice.IsAvailable, "tflite-cpu is available in the ordinary host: " + (tfliteDevice.UnavailableReason ?? AccelSdk.TfLite.Native.TfLiteLibrary.LoadedFrom));
    if (tfliteDevice.IsAvailable)
    {
        var liteModel = Model.Load(tfliteModelPath);
        var input = liteModel.Graph.Inputs[0];
        var shape = (input.Type as TensorType)?.Shape?.Dims.Select(d => d.IsKnown ? d.Value!.Value : 1L).ToArray()
            ?? throw new InvalidOperationException($"{tfliteModelPath}: input {input.Name} has no tensor shape");
        var pixels = new float[shape.Aggregate(1L, (a, b) => a * b)];
        for (var i = 0; i < pixels.Length; i++) pixels[i] = (float)random.NextDouble();
        float[] RunOn(string device)
        {
            using var s = Accel.Select(liteModel, new SelectOptions { Candidates = new[] { device }, WarmupRuns = 0, MeasuredRuns = 1 });
            return s.Run(AccelTensor.Create(pixels, shape))[0].ToArray<float>();
        }
        var onTfLite = RunOn("tflite-cpu");
        var onOrt = RunOn("ort-cpu");
        var liteDiff = onTfLite.Length == onOrt.Length ? onTfLite.Zip(onOrt, (a, b) => Math.Abs(a - b)).Max() : float.NaN;
        Check(onTfLite.Length == onOrt.Length && onTfLite.Zip(onOrt).All(p => Math.Abs(p.First - p.Second) <= 1e-3 + 1e-3 * Math.Abs(p.Second)),
            $"{Path.GetFileName(tfliteModelPath)} on tflite-cpu: {onTfLite.Length} outputs match the imported model on ort-cpu (max |diff| {liteDiff:G3})");
    }
}

Console.WriteLine($"packaging: {passed} passed, {failed} failed");
return failed == 0 ? 0 : 1;
