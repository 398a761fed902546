using System.Runtime.InteropServices;

namespace AccelSdk.TfLite.Native;

/// <summary>Owns a <c>TfLiteModel*</c>.</summary>
internal sealed unsafe class TfLiteModelHandle() : SafeHandle(0, ownsHandle: true)
{
    public override bool IsInvalid => handle == 0;

    public TfLiteModel* Pointer => (TfLiteModel*)handle;

    public static TfLiteModelHandle Wrap(TfLiteModel* model)
    {
        var h = new TfLiteModelHandle();
        h.SetHandle((nint)model);
        return h;
    }

    protected override bool ReleaseHandle()
    {
        TfLiteNative.TfLiteModelDelete((TfLiteModel*)handle);
        return true;
    }
}

/// <summary>Owns a <c>TfLiteInterpreterOptions*</c>.</summary>
internal sealed unsafe class TfLiteInterpreterOptionsHandle() : SafeHandle(0, ownsHandle: true)
{
    public override bool IsInvalid => handle == 0;

    public TfLiteInterpreterOptions* Pointer => (TfLiteInterpreterOptions*)handle;

    public static TfLiteInterpreterOptionsHandle Create()
    {
        var h = new TfLiteInterpreterOptionsHandle();
        h.SetHandle((nint)TfLiteNative.TfLiteInterpreterOptionsCreate());
        if (h.IsInvalid) throw new BackendException("tflite", "TfLiteInterpreterOptionsCreate returned null");
        return h;
    }

    protected override bool ReleaseHandle()
    {
        TfLiteNative.TfLiteInterpreterOptionsDelete((TfLiteInterpreterOptions*)handle);
        return true;
    }
}

/// <summary>Owns a <c>TfLiteInterpreter*</c>.</summary>
internal sealed unsafe class TfLiteInterpreterHandle() : SafeHandle(0, ownsHandle: true)
{
    public override bool IsInvalid => handle == 0;

    public TfLiteInterpreter* Pointer => (TfLiteInterpreter*)handle;

    public static TfLiteInterpreterHandle Wrap(TfLiteInterpreter* interpreter)
    {
        var h = new TfLiteInterpreterHandle();
        h.SetHandle((nint)interpreter);
        return h;
    }

    protected override bool ReleaseHandle()
    {
        TfLiteNative.TfLiteInterpreterDelete((TfLiteInterpreter*)handle);
        return true;
    }
}

/// <summary>Owns a <c>TfLiteSignatureRunner*</c>.</summary>
internal sealed unsafe class TfLiteSignatureRunnerHandle() : SafeHandle(0, ownsHandle: true)
{
    public override bool IsInvalid => handle == 0;

    public TfLiteSignatureRunner* Pointer => (TfLiteSignatureRunner*)handle;

    public static TfLiteSignatureRunnerHandle Wrap(TfLiteSignatureRunner* runner)
    {
        var h = new TfLiteSignatureRunnerHandle();
        h.SetHandle((nint)runner);
        return h;
    }

    protected override bool ReleaseHandle()
    {
        TfLiteNative.TfLiteSignatureRunnerDelete((TfLiteSignatureRunner*)handle);
        return true;
    }
}

/// <summary>
/// Owns an XNNPACK delegate (<c>TfLiteXNNPackDelegateCreate</c>); it must be released after every interpreter it was
/// added to.
/// </summary>
internal sealed unsafe class TfLiteXnnPackDelegateHandle() : SafeHandle(0, ownsHandle: true)
{
    // TFLITE_XNNPACK_DELEGATE_FLAG_QS8 | _QU8 (xnnpack_delegate.h): signed and unsigned 8-bit quantized operators run on
    // XNNPACK too, as in TensorFlow's own prebuilt runtimes; a CMake build leaves them off unless told.
    private const uint QuantizedFlags = 0x1 | 0x2;

    public override bool IsInvalid => handle == 0;

    public TfLiteDelegate* Pointer => (TfLiteDelegate*)handle;

    /// <summary>A delegate with <paramref name="threads"/> threads in its pool; 0 or less: no pool (XNNPACK's default).</summary>
    public static TfLiteXnnPackDelegateHandle Create(int threads)
    {
        var options = TfLiteXnnPackNative.TfLiteXNNPackDelegateOptionsDefault();
        options.num_threads = Math.Max(threads, 0);
        options.flags |= QuantizedFlags;
        var h = new TfLiteXnnPackDelegateHandle();
        h.SetHandle((nint)TfLiteXnnPackNative.TfLiteXNNPackDelegateCreate(&options));
        if (h.IsInvalid) throw new BackendException("tflite", "TfLiteXNNPackDelegateCreate returned null");
        return h;
    }

    protected override bool ReleaseHandle()
    {
        TfLiteXnnPackNative.TfLiteXNNPackDelegateDelete((void*)handle);
        return true;
    }
}
