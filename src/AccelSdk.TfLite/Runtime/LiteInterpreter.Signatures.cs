using System.Runtime.InteropServices;
using AccelSdk.Ir;
using AccelSdk.TfLite.Native;

namespace AccelSdk.TfLite;

public sealed unsafe partial class LiteInterpreter
{
    /// <summary>The signature keys the model defines (empty for models without signatures).</summary>
    public IReadOnlyList<string> SignatureKeys
    {
        get
        {
            lock (_gate)
            {
                var n = TfLiteNative.TfLiteInterpreterGetSignatureCount(Pointer);
                var keys = new string[n];
                for (var i = 0; i < n; i++) keys[i] = Marshal.PtrToStringUTF8((nint)TfLiteNative.TfLiteInterpreterGetSignatureKey(Pointer, i)) ?? "";
                return keys;
            }
        }
    }

    /// <summary>The input names of signature <paramref name="key"/>.</summary>
    public IReadOnlyList<string> SignatureInputs(string key)
    {
        lock (_gate)
        {
            var runner = TfLiteNative.TfLiteInterpreterGetSignatureRunner(Pointer, key);
            if (runner == null) throw new InvalidModelException($"{_model.Label} has no signature '{key}' (signatures: {string.Join(", ", SignatureKeys)})");
            using var owner = TfLiteSignatureRunnerHandle.Wrap(runner);
            var count = (int)TfLiteNative.TfLiteSignatureRunnerGetInputCount(runner);
            var names = new string[count];
            for (var i = 0; i < count; i++) names[i] = Marshal.PtrToStringUTF8((nint)TfLiteNative.TfLiteSignatureRunnerGetInputName(runner, i)) ?? "";
            return names;
        }
    }

    /// <summary>Runs the signature <paramref name="key"/> with inputs by signature input name; returns outputs by name.</summary>
    public IReadOnlyDictionary<string, AccelTensor> RunSignature(string key, IReadOnlyDictionary<string, AccelTensor> inputs)
    {
        lock (_gate)
        {
            var runner = TfLiteNative.TfLiteInterpreterGetSignatureRunner(Pointer, key);
            if (runner == null)
            {
                throw new InvalidModelException($"{_model.Label} has no signature '{key}' (signatures: {string.Join(", ", SignatureKeys)})");
            }
            using var owner = TfLiteSignatureRunnerHandle.Wrap(runner);
            var inputCount = (int)TfLiteNative.TfLiteSignatureRunnerGetInputCount(runner);
            var names = new List<string>();
            for (var i = 0; i < inputCount; i++) names.Add(Marshal.PtrToStringUTF8((nint)TfLiteNative.TfLiteSignatureRunnerGetInputName(runner, i)) ?? "");
            foreach (var given in inputs.Keys)
            {
                if (!names.Contains(given)) throw new InputMismatchException(given, $"signature '{key}' has no such input (inputs: {string.Join(", ", names)})");
            }
            foreach (var name in names)
            {
                if (!inputs.TryGetValue(name, out var value)) throw new InputMismatchException(name, $"required by signature '{key}' but not given");
                var dims = value.ShapeArray.Select(d => checked((int)d)).ToArray();
                fixed (int* p = dims)
                {
                    Check(TfLiteNative.TfLiteSignatureRunnerResizeInputTensor(runner, name, p, dims.Length), $"resizing signature input '{name}'");
                }
            }
            Check(TfLiteNative.TfLiteSignatureRunnerAllocateTensors(runner), $"allocating tensors of signature '{key}'");
            if (_xnnPackPending)
            {
                ApplyXnnPack();
                Check(TfLiteNative.TfLiteSignatureRunnerAllocateTensors(runner), $"allocating tensors of signature '{key}' after applying XNNPACK");
            }
            foreach (var name in names) CopyIn(TfLiteNative.TfLiteSignatureRunnerGetInputTensor(runner, name), inputs[name]);
            Check(TfLiteNative.TfLiteSignatureRunnerInvoke(runner), $"invoking signature '{key}'");
            var result = new Dictionary<string, AccelTensor>(StringComparer.Ordinal);
            var outputCount = (int)TfLiteNative.TfLiteSignatureRunnerGetOutputCount(runner);
            for (var i = 0; i < outputCount; i++)
            {
                var name = Marshal.PtrToStringUTF8((nint)TfLiteNative.TfLiteSignatureRunnerGetOutputName(runner, i)) ?? "";
                result[name] = CopyOut(TfLiteNative.TfLiteSignatureRunnerGetOutputTensor(runner, name)).WithName(name);
            }
            return result;
        }
    }
}
