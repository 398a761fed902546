using System.Globalization;
using AccelSdk.Ir;

namespace AccelSdk.Execution;

/// <summary>
/// Caps on what one run may ask for, checked before anything of that size is allocated, so a hostile or mistaken
/// input (a dynamic batch of 400 MB, a declared dimension of 2^40) fails with a <see cref="ResourceLimitException"/>
/// naming the tensor and both sizes instead of exhausting the machine. The default caps are a quarter of the memory
/// this process may use (<see cref="GCMemoryInfo.TotalAvailableMemoryBytes"/>: physical memory, or the container's
/// limit); <c>ACCELSDK_MAX_TENSOR_BYTES</c> and <c>ACCELSDK_MAX_RUN_BYTES</c> (bytes, or with a k, M or G suffix)
/// override them.
/// </summary>
public sealed record ResourceLimits
{
    /// <summary>Environment variable that sets <see cref="MaxTensorBytes"/> of <see cref="Default"/>.</summary>
    public const string MaxTensorBytesVariable = "ACCELSDK_MAX_TENSOR_BYTES";

    /// <summary>Environment variable that sets <see cref="MaxRunBytes"/> of <see cref="Default"/>.</summary>
    public const string MaxRunBytesVariable = "ACCELSDK_MAX_RUN_BYTES";

    /// <summary>
    /// Bytes one tensor may have: each input, and each value of the run whose size shape inference determines from
    /// the inputs' shapes (intermediates and outputs).
    /// </summary>
    public long MaxTensorBytes { get; init; } = DefaultCap;

    /// <summary>
    /// Bytes one run may hold: the sum of its inputs, and the estimated peak of the values live at once
    /// (<see cref="MemoryEstimate"/> for the inputs' shapes; runtime workspaces are not counted).
    /// </summary>
    public long MaxRunBytes { get; init; } = DefaultCap;

    /// <summary>No caps (every size up to <see cref="long.MaxValue"/>).</summary>
    public static ResourceLimits Unlimited { get; } = new() { MaxTensorBytes = long.MaxValue, MaxRunBytes = long.MaxValue };

    /// <summary>
    /// The caps sessions start with: a quarter of the memory available to this process each, or what the environment
    /// variables say. A variable that is not a byte count is an <see cref="AccelSdkException"/> naming it.
    /// </summary>
    public static ResourceLimits Default => new()
    {
        MaxTensorBytes = FromEnvironment(MaxTensorBytesVariable) ?? DefaultCap,
        MaxRunBytes = FromEnvironment(MaxRunBytesVariable) ?? DefaultCap,
    };

    private static long DefaultCap => Math.Max(1L << 20, ProcessMemory.AvailableBytes / 4);

    /// <summary>Throws <see cref="ResourceLimitException"/> when <paramref name="bytes"/> exceed <see cref="MaxTensorBytes"/>.</summary>
    public void CheckTensor(string tensorName, long bytes, string? detail = null)
    {
        if (bytes > MaxTensorBytes) throw new ResourceLimitException(tensorName, nameof(MaxTensorBytes), bytes, MaxTensorBytes, detail);
    }

    /// <summary>Throws <see cref="ResourceLimitException"/> when <paramref name="bytes"/> exceed <see cref="MaxRunBytes"/>.</summary>
    public void CheckRun(string largestTensorName, long bytes, string detail)
    {
        if (bytes > MaxRunBytes) throw new ResourceLimitException(largestTensorName, nameof(MaxRunBytes), bytes, MaxRunBytes, detail);
    }

    /// <summary>
    /// Bytes of a tensor of <paramref name="type"/> and <paramref name="shape"/> as the caps count them: dense data, or
    /// 16 bytes per element of a string tensor (its references; the characters are not known before they exist).
    /// </summary>
    public static long BytesOf(ElementType type, ReadOnlySpan<long> shape, string? name = null) =>
        type == ElementType.String ? SaturatingMultiply(AccelTensor.CountElements(shape, name), 16) : AccelTensor.ByteLengthOf(type, shape, name);

    private static long SaturatingMultiply(long a, long b) => a > long.MaxValue / b ? long.MaxValue : a * b;

    private static long? FromEnvironment(string variable)
    {
        var text = Environment.GetEnvironmentVariable(variable)?.Trim();
        if (string.IsNullOrEmpty(text)) return null;
        return ParseBytes(text) ?? throw new AccelSdkException(
            $"{variable}='{text}' is not a byte count (a positive integer, optionally with a k, M or G suffix)");
    }

    /// <summary>Parses <c>123</c>, <c>64k</c>, <c>512M</c> or <c>2G</c> (powers of 1024); null when it is not one.</summary>
    public static long? ParseBytes(string text)
    {
        if (text.Length == 0) return null;
        var multiplier = char.ToUpperInvariant(text[^1]) switch { 'K' => 1L << 10, 'M' => 1L << 20, 'G' => 1L << 30, _ => 1L };
        var digits = multiplier == 1 ? text : text[..^1];
        if (!long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value <= 0) return null;
        return value > long.MaxValue / multiplier ? null : value * multiplier;
    }
}
