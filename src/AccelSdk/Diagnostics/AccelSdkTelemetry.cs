using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace AccelSdk.Diagnostics;

/// <summary>
/// AccelSdk's <see cref="System.Diagnostics.Metrics"/> instruments and <see cref="ActivitySource"/>, both named
/// <c>AccelSdk</c> so OpenTelemetry (<c>AddMeter("AccelSdk")</c>, <c>AddSource("AccelSdk")</c>) or
/// <c>dotnet-counters</c> pick them up: run latency per device, transfers between memory spaces, fallbacks; activities
/// <c>AccelSdk.Select</c>, <c>AccelSdk.Tune</c>, <c>AccelSdk.Run</c> and, inside a run, <c>AccelSdk.Partition</c> (tagged <c>partition</c>, <c>device</c>, <c>model</c>).
/// </summary>
public static class AccelSdkTelemetry
{
    /// <summary>The name of the meter and of the activity source.</summary>
    public const string Name = "AccelSdk";

    /// <summary>The histogram of run latency, in milliseconds, tagged <c>device</c> (the devices of the plan, comma-separated).</summary>
    public const string RunDurationName = "accelsdk.run.duration";

    /// <summary>The counter of tensors moved between memory spaces during runs, tagged <c>from</c>, <c>to</c> and <c>route</c> (<c>direct</c>, <c>via host</c>).</summary>
    public const string TransfersName = "accelsdk.transfers";

    /// <summary>The counter of bytes moved between memory spaces during runs, tagged like <see cref="TransfersName"/>.</summary>
    public const string TransferBytesName = "accelsdk.transfer.bytes";

    /// <summary>The counter of fallbacks, tagged <c>kind</c> (<see cref="FallbackKind"/>).</summary>
    public const string FallbacksName = "accelsdk.fallbacks";

    internal static readonly Meter Meter = new(Name, typeof(AccelSdkTelemetry).Assembly.GetName().Version?.ToString());
    internal static readonly ActivitySource Source = new(Name, typeof(AccelSdkTelemetry).Assembly.GetName().Version?.ToString());
    internal static readonly Histogram<double> RunDuration = Meter.CreateHistogram<double>(RunDurationName, "ms", "Latency of one session run");
    internal static readonly Counter<long> Transfers = Meter.CreateCounter<long>(TransfersName, "{tensor}", "Tensors moved between memory spaces during runs");
    internal static readonly Counter<long> TransferBytes = Meter.CreateCounter<long>(TransferBytesName, "By", "Bytes moved between memory spaces during runs");
    internal static readonly Counter<long> Fallbacks = Meter.CreateCounter<long>(FallbacksName, "{fallback}", "Devices, candidates, plans or nodes that fell back, with the reason logged");
}
