namespace AccelSdk.TfLite;

/// <summary>How a <see cref="LiteInterpreter"/> is set up.</summary>
public sealed record LiteInterpreterOptions
{
    /// <summary>Threads TFLite may use; 0 or less lets TFLite decide.</summary>
    public int Threads { get; init; }

    /// <summary>
    /// Applies the XNNPACK delegate (float and 8-bit quantized operators; the rest stay on TFLite's builtin kernels) with
    /// <see cref="Threads"/> threads in its pool (none when <see cref="Threads"/> is 0 or less). The loaded library must
    /// have it (<see cref="Native.TfLiteLibrary.HasXnnPack"/>); Debian's own build has XNNPACK off, and asking for it
    /// there throws a <see cref="BackendException"/> that says so. The delegate is applied once the tensors are allocated
    /// at real input shapes (a model with dynamic input dims gets it at its first run's shapes) and re-applied by TFLite
    /// after each resize; a failure to apply it is a <see cref="BackendException"/>, never a silent fallback.
    /// </summary>
    public bool UseXnnPack { get; init; }

    /// <summary>
    /// Registers AccelSdk's implementations of MediaPipe's custom ops (Convolution2DTransposeBias), which stock TFLite
    /// lacks, so models such as selfie_segmentation run. Off by default: stock TFLite behaviour.
    /// </summary>
    public bool MediaPipeCustomOps { get; init; }

    /// <summary>Collects per-operator timings (see <see cref="LiteInterpreter.OpTimings"/>) through TFLite's telemetry profiler.</summary>
    public bool ProfileOps { get; init; }
}
