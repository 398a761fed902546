using AccelSdk.Ir;

namespace AccelSdk.Cluster.Wire;

/// <summary>A dense tensor as it travels between the client and a node: name, element type, shape and raw bytes.</summary>
[GenerateSerializer, Immutable]
public sealed record TensorPayload(
    [property: Id(0)] string Name,
    [property: Id(1)] ElementType ElementType,
    [property: Id(2)] long[] Shape,
    [property: Id(3)] byte[] Bytes)
{
    /// <summary>Copies a dense tensor; string tensors are refused with <see cref="InvalidTensorException"/>.</summary>
    public static TensorPayload From(string name, AccelTensor tensor)
    {
        if (tensor.IsString) throw new InvalidTensorException(name, "string tensors cannot be sent to a cluster node (dense tensors only)");
        return new TensorPayload(name, tensor.ElementType, tensor.ShapeArray, tensor.Bytes.ToArray());
    }

    /// <summary>The tensor, checked against its shape and element type.</summary>
    public AccelTensor ToTensor() => AccelTensor.FromBytes(ElementType, Shape, Bytes, Name);

    /// <summary>Payloads of named inputs.</summary>
    public static TensorPayload[] FromInputs(IReadOnlyDictionary<string, AccelTensor> inputs) =>
        inputs.Select(kv => From(kv.Key, kv.Value)).ToArray();

    /// <summary>Named tensors of payloads.</summary>
    public static Dictionary<string, AccelTensor> ToInputs(IEnumerable<TensorPayload> payloads) =>
        payloads.ToDictionary(p => p.Name, p => p.ToTensor(), StringComparer.Ordinal);
}
