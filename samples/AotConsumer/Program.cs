using AccelSdk;
using AccelSdk.Ir;

// An AOT application builds its runtime explicitly: AccelRuntime.Default and Accel discover extensions by reflection.
if (args.Length != 1)
{
    Console.Error.WriteLine("usage: AotConsumer <relu model.onnx with input [3,4,5]>, e.g. /usr/share/libonnx-testdata/data/node/test_relu/model.onnx");
    return 2;
}
using var runtime = new AccelRuntimeBuilder().AddOnnxRuntime().Build();
using var session = runtime.Select(args[0]);
var data = Enumerable.Range(0, 60).Select(i => i % 2 == 0 ? -i : (float)i).ToArray();
var output = session.Run(AccelTensor.Create(data, 3, 4, 5))[0].ToArray<float>();
var correct = output.Length == data.Length && output.Select((v, i) => v == Math.Max(0f, data[i])).All(ok => ok);
Console.WriteLine($"relu on {session.Selection?.Chosen.Id}: {(correct ? "correct" : "WRONG")}");
return correct ? 0 : 1;
