using System.Diagnostics;
using AccelSdk.Backends;
using AccelSdk.Diagnostics;

namespace AccelSdk.Execution;

/// <summary>
/// A session's run latency, transfers and run activities. Meter instruments and activities are recorded only while
/// something listens (no allocation otherwise); the transfer totals of <see cref="AccelSession.TransferStatistics"/>
/// are always kept (a few interlocked adds per transfer).
/// </summary>
internal sealed class SessionTelemetry(ExecutionPlan plan)
{
    private readonly KeyValuePair<string, object?> _deviceTag = new("device", string.Join(",", plan.Devices.Select(d => d.Id)));
    private long _runs;
    private long _transfers;
    private long _direct;
    private long _roundTrips;
    private long _copies;
    private long _bytes;

    public Activity? StartRun()
    {
        var activity = AccelSdkTelemetry.Source.StartActivity("AccelSdk.Run");
        activity?.SetTag(_deviceTag.Key, _deviceTag.Value);
        return activity;
    }

    /// <summary>
    /// An <c>AccelSdk.Partition</c> activity around one partition's run, tagged with its index, device and the model (null
    /// when nobody listens). The tags are given at creation so that samplers and <c>ActivityStarted</c> callbacks see them.
    /// </summary>
    public Activity? StartPartition(int index, Device device)
    {
        if (!AccelSdkTelemetry.Source.HasListeners()) return null;
        KeyValuePair<string, object?>[] tags = [new("partition", index), new("device", device.Id), new("model", plan.Model.Label)];
        return AccelSdkTelemetry.Source.StartActivity("AccelSdk.Partition", ActivityKind.Internal, parentContext: default, tags);
    }

    public void RecordRun(long startTimestamp)
    {
        if (AccelSdkTelemetry.RunDuration.Enabled) AccelSdkTelemetry.RunDuration.Record(Stopwatch.GetElapsedTime(startTimestamp).TotalMilliseconds, _deviceTag);
    }

    /// <summary>One run went through every partition (or the direct path) and its outputs were collected.</summary>
    public void CountRun() => Interlocked.Increment(ref _runs);

    public void RecordTransfer(Device from, Device to, TransferRoute route, int copies, long bytes)
    {
        Interlocked.Increment(ref _transfers);
        if (route == TransferRoute.Direct) Interlocked.Increment(ref _direct);
        if (route == TransferRoute.ViaHost && !from.MemorySpace.IsHost && !to.MemorySpace.IsHost) Interlocked.Increment(ref _roundTrips);
        Interlocked.Add(ref _copies, copies);
        Interlocked.Add(ref _bytes, bytes);
        if (AccelSdkTelemetry.Transfers.Enabled || AccelSdkTelemetry.TransferBytes.Enabled)
        {
            var tags = new[]
            {
                new KeyValuePair<string, object?>("from", from.Id), new KeyValuePair<string, object?>("to", to.Id),
                new KeyValuePair<string, object?>("route", route == TransferRoute.Direct ? "direct" : "via host"),
            };
            AccelSdkTelemetry.Transfers.Add(1, tags);
            AccelSdkTelemetry.TransferBytes.Add(bytes, tags);
        }
    }

    public TransferStatistics Snapshot() => new(Volatile.Read(ref _runs), Volatile.Read(ref _transfers), Volatile.Read(ref _direct),
        Volatile.Read(ref _roundTrips), Volatile.Read(ref _copies), Volatile.Read(ref _bytes));

    public void Reset()
    {
        Interlocked.Exchange(ref _runs, 0);
        Interlocked.Exchange(ref _transfers, 0);
        Interlocked.Exchange(ref _direct, 0);
        Interlocked.Exchange(ref _roundTrips, 0);
        Interlocked.Exchange(ref _copies, 0);
        Interlocked.Exchange(ref _bytes, 0);
    }
}
