using System.Buffers;
using Orleans.Serialization.Buffers;
using Orleans.Serialization.Serializers;

namespace AccelSdk.Cluster.Wire;

/// <summary>
/// Lets Orleans serialise the cluster's exceptions, which derive from <see cref="AccelSdkException"/> (declared in the
/// core assembly, which knows nothing of Orleans): its state is exactly <see cref="Exception"/>'s, so Orleans' own
/// exception codec serialises it.
/// </summary>
[RegisterSerializer]
internal sealed class AccelSdkExceptionCodec(IBaseCodec<Exception> exceptionCodec) : IBaseCodec<AccelSdkException>
{
    public void Serialize<TBufferWriter>(ref Writer<TBufferWriter> writer, AccelSdkException value) where TBufferWriter : IBufferWriter<byte> =>
        exceptionCodec.Serialize(ref writer, value);

    public void Deserialize<TInput>(ref Reader<TInput> reader, AccelSdkException value) => exceptionCodec.Deserialize(ref reader, value);
}
