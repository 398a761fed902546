using AccelSdk.TfLite.Native;

namespace AccelSdk.TfLite;

/// <summary>
/// MediaPipe's custom ops, which stock TFLite lacks, implemented in C# and registered with TFLite through the
/// external-registration C API. Convolution2DTransposeBias: a transposed convolution (NHWC input, [O, KH, KW, I]
/// weights) plus bias, its custom options being TfLiteTransposeConvParams (padding, stride_width, stride_height).
/// </summary>
internal static unsafe class MediaPipeOps
{
    public const string TransposeConvBiasName = "Convolution2DTransposeBias";

    private static readonly object Gate = new();
    // Created once and never freed: every interpreter that uses them keeps the pointers.
    private static TfLiteRegistration* _transposeConvBias;

    /// <summary>
    /// The op as a classic registration whose <c>registration_external</c> carries the opaque-API callbacks, added
    /// with <c>TfLiteInterpreterOptionsAddCustomOp</c> (the resolver path 2.14 consults for custom ops).
    /// </summary>
    public static TfLiteRegistration* TransposeConvBias
    {
        get
        {
            lock (Gate)
            {
                if (_transposeConvBias == null)
                {
                    var external = TfLiteNative.TfLiteRegistrationExternalCreate(TfLiteBuiltinOperator.kTfLiteBuiltinCustom, TransposeConvBiasName, 1);
                    TfLiteNative.TfLiteRegistrationExternalSetPrepare(external, &Prepare);
                    TfLiteNative.TfLiteRegistrationExternalSetInvoke(external, &Invoke);
                    var registration = (TfLiteRegistration*)System.Runtime.InteropServices.NativeMemory.AllocZeroed((nuint)sizeof(TfLiteRegistration));
                    registration->builtin_code = (int)TfLiteBuiltinOperator.kTfLiteBuiltinCustom;
                    registration->custom_name = (byte*)System.Runtime.InteropServices.Marshal.StringToCoTaskMemUTF8(TransposeConvBiasName);
                    registration->version = 1;
                    registration->registration_external = external;
                    _transposeConvBias = registration;
                }
                return _transposeConvBias;
            }
        }
    }

    [System.Runtime.InteropServices.UnmanagedCallersOnly]
    private static TfLiteStatus Prepare(TfLiteOpaqueContext* context, TfLiteOpaqueNode* node)
    {
        // Output shapes are static in the models that use this op; check the contract the kernel relies on.
        if (TfLiteNative.TfLiteOpaqueNodeNumberOfInputs(node) != 3 || TfLiteNative.TfLiteOpaqueNodeNumberOfOutputs(node) != 1) return TfLiteStatus.kTfLiteError;
        for (var i = 0; i < 3; i++)
        {
            var tensor = TfLiteNative.TfLiteOpaqueNodeGetInput(context, node, i);
            if (tensor == null || TfLiteNative.TfLiteOpaqueTensorType(tensor) != TfLiteType.kTfLiteFloat32) return TfLiteStatus.kTfLiteError;
        }
        // Invoke indexes input, filter and output as 4-D and the bias by output channel: other shapes would read outside them.
        var input = TfLiteNative.TfLiteOpaqueNodeGetInput(context, node, 0);
        var weights = TfLiteNative.TfLiteOpaqueNodeGetInput(context, node, 1);
        var bias = TfLiteNative.TfLiteOpaqueNodeGetInput(context, node, 2);
        var output = TfLiteNative.TfLiteOpaqueNodeGetOutput(context, node, 0);
        if (output == null || TfLiteNative.TfLiteOpaqueTensorType(output) != TfLiteType.kTfLiteFloat32) return TfLiteStatus.kTfLiteError;
        if (Rank(input) != 4 || Rank(weights) != 4 || Rank(output) != 4 || Rank(bias) != 1) return TfLiteStatus.kTfLiteError;
        return Dim(bias, 0) == Dim(weights, 0) ? TfLiteStatus.kTfLiteOk : TfLiteStatus.kTfLiteError;
    }

    [System.Runtime.InteropServices.UnmanagedCallersOnly]
    private static TfLiteStatus Invoke(TfLiteOpaqueContext* context, TfLiteOpaqueNode* node)
    {
        try
        {
            var input = TfLiteNative.TfLiteOpaqueNodeGetInput(context, node, 0);
            var weights = TfLiteNative.TfLiteOpaqueNodeGetInput(context, node, 1);
            var bias = TfLiteNative.TfLiteOpaqueNodeGetInput(context, node, 2);
            var output = TfLiteNative.TfLiteOpaqueNodeGetOutput(context, node, 0);
            void* data;
            int size;
            if (TfLiteNative.TfLiteOpaqueNodeGetCustomInitialData(node, &data, &size) != TfLiteStatus.kTfLiteOk || size < 12) return TfLiteStatus.kTfLiteError;
            var parameters = (int*)data;
            var same = parameters[0] != 2;
            int strideW = parameters[1], strideH = parameters[2];
            int n = Dim(input, 0), inH = Dim(input, 1), inW = Dim(input, 2), inC = Dim(input, 3);
            int outC = Dim(weights, 0), kh = Dim(weights, 1), kw = Dim(weights, 2);
            int outH = Dim(output, 1), outW = Dim(output, 2);
            if (Dim(weights, 3) != inC || Dim(output, 3) != outC || Dim(output, 0) != n) return TfLiteStatus.kTfLiteError;
            var padTop = same ? Math.Max((inH - 1) * strideH + kh - outH, 0) / 2 : 0;
            var padLeft = same ? Math.Max((inW - 1) * strideW + kw - outW, 0) / 2 : 0;
            var x = (float*)TfLiteNative.TfLiteOpaqueTensorData(input);
            var w = (float*)TfLiteNative.TfLiteOpaqueTensorData(weights);
            var b = (float*)TfLiteNative.TfLiteOpaqueTensorData(bias);
            var y = (float*)TfLiteNative.TfLiteOpaqueTensorData(output);
            var total = (long)n * outH * outW * outC;
            for (long k = 0; k < total; k++) y[k] = b[k % outC];
            for (var batch = 0; batch < n; batch++)
            for (var iy = 0; iy < inH; iy++)
            for (var ix = 0; ix < inW; ix++)
            for (var ky = 0; ky < kh; ky++)
            {
                var oy = iy * strideH - padTop + ky;
                if ((uint)oy >= (uint)outH) continue;
                for (var kx = 0; kx < kw; kx++)
                {
                    var ox = ix * strideW - padLeft + kx;
                    if ((uint)ox >= (uint)outW) continue;
                    var src = x + (((long)batch * inH + iy) * inW + ix) * inC;
                    var dst = y + (((long)batch * outH + oy) * outW + ox) * outC;
                    for (var oc = 0; oc < outC; oc++)
                    {
                        var filter = w + (((long)oc * kh + ky) * kw + kx) * inC;
                        var sum = 0f;
                        for (var ic = 0; ic < inC; ic++) sum += src[ic] * filter[ic];
                        dst[oc] += sum;
                    }
                }
            }
            return TfLiteStatus.kTfLiteOk;
        }
        catch
        {
            return TfLiteStatus.kTfLiteError;
        }
    }

    private static int Dim(TfLiteOpaqueTensor* tensor, int index) => TfLiteNative.TfLiteOpaqueTensorDim(tensor, index);

    private static int Rank(TfLiteOpaqueTensor* tensor) => TfLiteNative.TfLiteOpaqueTensorNumDims(tensor);
}
