namespace AccelSdk.Cluster.Wire;

/// <summary>One probe size of a link measurement: the median time of a call carrying that many bytes.</summary>
[GenerateSerializer, Immutable]
public sealed record LinkSample(
    [property: Id(0)] long Bytes,
    [property: Id(1)] double MedianMs);

/// <summary>
/// A measured link from one end to another (a node, or <c>client</c>): a straight line through probe calls of several
/// sizes, time = latency + bytes x (ms per MiB). The latency is a whole call's fixed cost (both ways, serialisation
/// included); the slope is the cost of each byte sent in the link's direction.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record LinkFit(
    [property: Id(0)] string From,
    [property: Id(1)] string To,
    [property: Id(2)] double LatencyMs,
    [property: Id(3)] double MsPerMiB,
    [property: Id(4)] IReadOnlyList<LinkSample> Samples,
    [property: Id(5)] DateTimeOffset MeasuredAt)
{
    /// <summary>The end name of the client in link tables.</summary>
    public const string Client = "client";

    /// <summary>Bandwidth in megabits per second (infinite when the slope is 0).</summary>
    public double MegabitsPerSecond => MsPerMiB <= 0 ? double.PositiveInfinity : 1024.0 * 1024.0 * 8 / 1e6 / (MsPerMiB / 1000.0);

    /// <summary>Predicted time of one call that carries <paramref name="bytes"/> this way.</summary>
    public double CallMs(long bytes) => LatencyMs + MsPerMiB * bytes / (1024.0 * 1024.0);

    /// <summary>Least-squares line through the samples (intercept and slope kept non-negative).</summary>
    public static LinkFit Fit(string from, string to, IReadOnlyList<LinkSample> samples)
    {
        if (samples.Count == 0) throw new ArgumentException("a link fit needs at least one sample", nameof(samples));
        var xs = samples.Select(s => s.Bytes / (1024.0 * 1024.0)).ToArray();
        var ys = samples.Select(s => s.MedianMs).ToArray();
        var (meanX, meanY) = (xs.Average(), ys.Average());
        var varX = xs.Sum(x => (x - meanX) * (x - meanX));
        var slope = varX <= 0 ? 0 : xs.Zip(ys).Sum(p => (p.First - meanX) * (p.Second - meanY)) / varX;
        slope = Math.Max(0, slope);
        var intercept = Math.Max(0, meanY - slope * meanX);
        return new LinkFit(from, to, intercept, slope, samples, DateTimeOffset.UtcNow);
    }
}

/// <summary>How a node prepares one stage (consecutive layers) of a split model.</summary>
/// <param name="Base">The whole model's preparation (policy, measurement, sample inputs that fix the shapes).</param>
/// <param name="From">First layer (node index in graph order) of the stage.</param>
/// <param name="To">One past the last layer.</param>
/// <param name="Device">The device the stage runs on (the one the node chose for the whole model).</param>
[GenerateSerializer, Immutable]
public sealed record StageRequest(
    [property: Id(0)] PrepareRequest Base,
    [property: Id(1)] int From,
    [property: Id(2)] int To,
    [property: Id(3)] string Device);

/// <summary>What a node measured when it prepared a stage.</summary>
[GenerateSerializer, Immutable]
public sealed record StageResult(
    [property: Id(0)] string Node,
    [property: Id(1)] string Device,
    [property: Id(2)] double NodeMedianMs,
    [property: Id(3)] IReadOnlyList<string> InputNames,
    [property: Id(4)] IReadOnlyList<string> OutputNames);

/// <summary>The next stage of a split run: the node, its layers, and the values it and every later stage read.</summary>
[GenerateSerializer, Immutable]
public sealed record StageHop(
    [property: Id(0)] string Node,
    [property: Id(1)] int From,
    [property: Id(2)] int To,
    [property: Id(3)] IReadOnlyList<string> Needs)
{
    /// <summary>
    /// False (default): the stage that sends to this hop takes its next item as soon as its own run is done, while this
    /// hop still works on the previous one (the stages pipeline). True: it waits until this hop and every later one
    /// answered before it runs another item, as stages ran before they were pipelined; kept to measure the difference.
    /// </summary>
    [Id(4)]
    public bool Sequential { get; init; }
}

/// <summary>
/// Counters and recent run times of one stage grain, measured on its node: they show whether the stages of a split
/// stream worked at once.
/// </summary>
/// <param name="Node">The node.</param>
/// <param name="Stage">The stage grain's key (<c>node/digest/from-to</c>).</param>
/// <param name="Runs">Local runs of the stage's session (requests run here).</param>
/// <param name="RunsWhileDownstreamBusy">Local runs started while an earlier item of this stage was still with later stages.</param>
/// <param name="MostAwaitingDownstream">The most items this stage had sent on and not yet had answered, at once.</param>
/// <param name="RecentRunStartsUtcTicks">Start of each of the last local runs (at most 256), UTC ticks on the node's clock.</param>
/// <param name="RecentRunEndsUtcTicks">End of each of those runs, in the same order.</param>
[GenerateSerializer, Immutable]
public sealed record StageStats(
    [property: Id(0)] string Node,
    [property: Id(1)] string Stage,
    [property: Id(2)] long Runs,
    [property: Id(3)] long RunsWhileDownstreamBusy,
    [property: Id(4)] int MostAwaitingDownstream,
    [property: Id(5)] long[] RecentRunStartsUtcTicks,
    [property: Id(6)] long[] RecentRunEndsUtcTicks);

/// <summary>A node's per-layer profile of a model on the device it chose (from the autotuner's node timings).</summary>
/// <param name="Node">The node.</param>
/// <param name="Device">The device profiled.</param>
/// <param name="LayerMs">Median time per layer in graph order (0 where the tuner has no timing).</param>
/// <param name="Source"><c>measured</c> or <c>local cache</c>.</param>
[GenerateSerializer, Immutable]
public sealed record LayerProfile(
    [property: Id(0)] string Node,
    [property: Id(1)] string Device,
    [property: Id(2)] double[] LayerMs,
    [property: Id(3)] string Source);
