using AccelSdk.Execution;
using AccelSdk.TfLite.Import;
using AccelSdk.TfLite.Native;


namespace AccelSdk.TfLite;

/// <summary>
/// A <c>.tflite</c> flatbuffer checked by AccelSdk's structural validation (every index, size and vector in range),
/// then loaded and verified by the TFLite runtime. Owns the native model and the pinned bytes it points into; the
/// interpreters made from it keep those bytes alive, so it may be disposed before them.
/// </summary>
public sealed unsafe class LiteModel : IDisposable
{
    private readonly byte[] _data;
    private readonly ErrorReporter _reporter;
    private readonly TfLiteModelHandle _handle;

    private LiteModel(byte[] data, ErrorReporter reporter, TfLiteModelHandle handle, string label)
    {
        _data = data;
        _reporter = reporter;
        _handle = handle;
        Label = label;
    }

    /// <summary>
    /// The most bytes the non-constant tensors of a model may need in all (TFLite allocates them when the interpreter
    /// is created, and aborts the process when the memory is not there); a model asking for more is refused with a
    /// <see cref="ModelLoadException"/> naming the tensor. Unless set, half of what this process can still get when the
    /// model is loaded (<see cref="ProcessMemory.AvailableBytes"/>: memory, and address space under <c>ulimit -v</c>).
    /// </summary>
    public static long MaxActivationBytes
    {
        get => _maxActivationBytes ?? Math.Max(ProcessMemory.AvailableBytes / 2, 64L << 20);
        set => _maxActivationBytes = value;
    }

    private static long? _maxActivationBytes;

    /// <summary>The file path or label given when loading, for messages.</summary>
    public string Label { get; }

    /// <summary>Size of the flatbuffer in bytes.</summary>
    public int Size => _data.Length;

    internal TfLiteModelHandle Handle => _handle;

    /// <summary>
    /// Loads a <c>.tflite</c> file; a missing, truncated, corrupt or structurally invalid file throws
    /// <see cref="ModelLoadException"/> naming the table, index and field at fault.
    /// </summary>
    public static LiteModel FromFile(string path)
    {
        return FromBytes(ModelFormats.ReadAllBytes(path), path);
    }

    /// <summary>Loads a model from bytes (copied into pinned memory that the model keeps).</summary>
    public static LiteModel FromBytes(ReadOnlySpan<byte> bytes, string label)
    {
        TfLiteLibrary.Require();
        if (bytes.Length < 8 || bytes[4] != (byte)'T' || bytes[5] != (byte)'F' || bytes[6] != (byte)'L' || bytes[7] != (byte)'3')
        {
            throw new ModelLoadException(label, $"not a TFLite flatbuffer: {bytes.Length} bytes without the 'TFL3' identifier");
        }
        var data = GC.AllocateArray<byte>(bytes.Length, pinned: true);
        bytes.CopyTo(data);
        // TFLite verifies the flatbuffer's layout but trusts the indices in it; hostile ones crash it.
        TfLiteValidator.Validate(data, label, MaxActivationBytes);
        var reporter = new ErrorReporter();
        TfLiteModel* model;
        fixed (byte* p = data)
        {
            model = TfLiteNative.TfLiteModelCreateWithErrorReporter(p, (nuint)data.Length, ErrorReporter.Callback, reporter.UserData);
        }
        if (model == null)
        {
            var why = reporter.TakeMessages();
            reporter.Dispose();
            throw new ModelLoadException(label, "TFLite rejected the model" + (why is null ? " (corrupt or truncated flatbuffer)" : ": " + why));
        }
        return new LiteModel(data, reporter, TfLiteModelHandle.Wrap(model), label);
    }

    /// <summary>Releases the native model.</summary>
    public void Dispose()
    {
        _handle.Dispose();
        _reporter.Dispose();
    }
}
