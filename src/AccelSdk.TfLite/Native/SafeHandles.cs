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
