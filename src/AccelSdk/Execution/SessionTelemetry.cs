using System.Diagnostics;
using AccelSdk.Backends;
using AccelSdk.Diagnostics;

namespace AccelSdk.Execution;

/// <summary>A session's run latency, transfers and run activities, recorded only while something listens (no allocation otherwise).</summary>
internal sealed class SessionTelemetry(ExecutionPlan plan)
{
    private readonly KeyValuePair<string, object?> _deviceTag = new("device", string.Join(",", plan.Devices.Select(d => d.Id)));

    public Activity? StartRun()
    {
        var activity = AccelSdkTelemetry.Source.StartActivity("AccelSdk.Run");
        activity?.SetTag(_deviceTag.Key, _deviceTag.Value);
        return activity;
    }

    public void RecordRun(long startTimestamp)
    {
        if (AccelSdkTelemetry.RunDuration.Enabled) AccelSdkTelemetry.RunDuration.Record(Stopwatch.GetElapsedTime(startTimestamp).TotalMilliseconds, _deviceTag);
    }

    public void RecordTransfer(Device from, Device to)
    {
        if (AccelSdkTelemetry.Transfers.Enabled)
        {
            AccelSdkTelemetry.Transfers.Add(1, new KeyValuePair<string, object?>("from", from.Id), new KeyValuePair<string, object?>("to", to.Id));
        }
    }
}
