namespace AccelSdk.Optimize;

/// <summary>An optimization cannot be done on this model with these options; the message names the model and the problem.</summary>
public class OptimizationException : AccelSdkException
{
    /// <summary>Creates the exception.</summary>
    public OptimizationException(string message, Exception? inner = null) : base(message, inner) { }
}

/// <summary>An option is out of range or contradicts another (sparsity outside [0,1), unknown op in a block list...).</summary>
public sealed class InvalidOptimizationOptionException : OptimizationException
{
    /// <summary>Creates the exception.</summary>
    public InvalidOptimizationOptionException(string option, string problem) : base($"option {option}: {problem}") => Option = option;

    /// <summary>The option at fault.</summary>
    public string Option { get; }
}

/// <summary>Calibration or evaluation data is missing, unreadable or does not fit the model's inputs.</summary>
public sealed class CalibrationDataException : OptimizationException
{
    /// <summary>Creates the exception.</summary>
    public CalibrationDataException(string source, string problem) : base($"{source}: {problem}") => Source = source;

    /// <summary>The folder, file or input at fault.</summary>
    public new string Source { get; }
}

/// <summary>The model already holds quantized operators; quantizing it again would compound the error.</summary>
public sealed class AlreadyQuantizedException : OptimizationException
{
    /// <summary>Creates the exception.</summary>
    public AlreadyQuantizedException(string modelLabel, string nodeDescription)
        : base($"{modelLabel} is already quantized ({nodeDescription}); quantize the float32 original instead")
    {
        NodeDescription = nodeDescription;
    }

    /// <summary>The first quantized node found.</summary>
    public string NodeDescription { get; }
}

/// <summary>
/// An optimized model failed validation before it was written: ONNX Runtime refused it (<see cref="NodeName"/> and
/// <see cref="OpType"/> name the node when ORT did) or an output disagreed with the original (<see cref="OutputName"/>).
/// Nothing was written.
/// </summary>
public sealed class OptimizedModelRejectedException : OptimizationException
{
    /// <summary>Creates the exception.</summary>
    public OptimizedModelRejectedException(string message, string? nodeName = null, string? opType = null, string? outputName = null, Exception? inner = null)
        : base(message, inner)
    {
        NodeName = nodeName;
        OpType = opType;
        OutputName = outputName;
    }

    /// <summary>The node ONNX Runtime refused, when its message names one.</summary>
    public string? NodeName { get; }

    /// <summary>The op type of <see cref="NodeName"/>.</summary>
    public string? OpType { get; }

    /// <summary>The output whose agreement with the original fell below the threshold.</summary>
    public string? OutputName { get; }
}
