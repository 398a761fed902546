using System.Security.Cryptography.X509Certificates;
using AccelSdk.Cluster.Hosting;
using AccelSdk.Cluster.Wire;
using AccelSdk.Ir;

namespace AccelSdk.Cluster.Client;

/// <summary>How a client reaches a cluster.</summary>
public sealed record AccelClusterOptions
{
    /// <summary>Membership: localhost clustering or a Redis server (the same the nodes use).</summary>
    public ClusterConnection Cluster { get; init; } = ClusterConnection.Localhost;

    /// <summary>Cluster id shared with the nodes.</summary>
    public string ClusterId { get; init; } = "accelsdk";

    /// <summary>Localhost clustering: the gateway port of a node to connect through.</summary>
    public int GatewayPort { get; init; } = ClusterConnection.DefaultGatewayPort;

    /// <summary>
    /// Connect through this one node gateway only (address and gateway port), instead of every gateway membership
    /// lists: for a client beside one node (the device of a device-and-server split), whose calls to the other nodes
    /// should leave through that node as its data would. Orleans otherwise spreads a client's calls over all gateways,
    /// which forward them to the target node.
    /// </summary>
    public System.Net.IPEndPoint? Gateway { get; init; }

    /// <summary>
    /// Send each node's inference requests (and their measurements) over a connection to that node's own gateway, so
    /// that no other node has to take them in and pass them on (default). False: every call goes through the shared
    /// connection, which Orleans spreads over all gateways. Not used with <see cref="Gateway"/>.
    /// </summary>
    public bool DirectToNodes { get; init; } = true;

    /// <summary>The cluster certificate, when the nodes use TLS.</summary>
    public X509Certificate2? Certificate { get; init; }

    /// <summary>
    /// How long one call may wait for its answer before the node is taken as gone (Orleans' default of 30 s would
    /// stall every request in flight to a killed node for that long).
    /// </summary>
    public TimeSpan ResponseTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How often a session looks for nodes that joined or left.</summary>
    public TimeSpan MembershipRefresh { get; init; } = TimeSpan.FromSeconds(1);
}

/// <summary>How a model is placed on the cluster.</summary>
public enum ClusterPlacement
{
    /// <summary>The whole model on the node measured best; the others stand by to take over if it fails.</summary>
    WholeOnBestNode,

    /// <summary>Whole copies on every node, inputs spread in proportion to each node's measured throughput.</summary>
    DataParallel,

    /// <summary>
    /// The model cut into two consecutive stages on two nodes (Neurosurgeon style): the client calls the front node, which
    /// sends the values crossing the cut to the back node. Chosen from per-layer profiles and measured links, and kept
    /// only when it measured faster end to end than the best whole-model node (unless forced).
    /// </summary>
    Split,
}

/// <summary>Options of <see cref="AccelCluster.SelectAsync"/>.</summary>
public sealed record ClusterSelectOptions
{
    /// <summary>What is optimised: latency picks the best node; throughput measures data parallel against it.</summary>
    public SelectionPolicy Policy { get; init; } = SelectionPolicy.LowestLatency;

    /// <summary>Forces a placement instead of choosing by measurement (it is still measured and reported).</summary>
    public ClusterPlacement? Placement { get; init; }

    /// <summary>Nodes to use; null means every active node.</summary>
    public IReadOnlyList<string>? Nodes { get; init; }

    /// <summary>Devices or backends each node may use (the local <see cref="SelectOptions.Candidates"/>).</summary>
    public IReadOnlyList<string>? Candidates { get; init; }

    /// <summary>Inputs to measure with; fixed-seed inputs from the declared types when null.</summary>
    public IReadOnlyDictionary<string, AccelTensor>? SampleInputs { get; init; }

    /// <summary>Timed runs per measurement.</summary>
    public int MeasuredRuns { get; init; } = 5;

    /// <summary>Untimed runs before each measurement.</summary>
    public int WarmupRuns { get; init; } = 1;

    /// <summary>Requests queued or running on one node at once (back-pressure beyond that).</summary>
    public int QueueCapacityPerNode { get; init; } = 4;

    /// <summary>
    /// Each node autotunes the model (per-layer placement over its devices) instead of picking one device; a node
    /// reuses the plan another node of the same machine fingerprint and backend versions published, without profiling.
    /// </summary>
    public bool Autotune { get; init; }

    /// <summary>Deadline of each request (from when the client submits it); null for none.</summary>
    public TimeSpan? RequestDeadline { get; init; }

    /// <summary>
    /// Latency policy: also consider splitting the model over two nodes. Measures the links, profiles each node layer by
    /// layer (autotuner node timings, cached per node), ranks every cut and measures the best
    /// <see cref="SplitCandidates"/> end to end; a split is kept only when it measured faster than the best whole-model node.
    /// </summary>
    public bool ConsiderSplits { get; init; }

    /// <summary>How many of the best predicted splits are measured end to end.</summary>
    public int SplitCandidates { get; init; } = 2;

    /// <summary>
    /// The fraction by which a split must measure faster than the best whole-model node to be kept (default 0.1): a
    /// split adds a hop and a second node that can fail, so a gain within measurement noise is not worth it.
    /// </summary>
    public double SplitMinGain { get; init; } = 0.1;
}

/// <summary>A step of <see cref="AccelCluster.SelectAsync"/>, for progress reports.</summary>
/// <param name="Stage">upload, prepare, measure, placement.</param>
/// <param name="Node">The node concerned, if any.</param>
/// <param name="Message">What happened.</param>
public sealed record ClusterProgress(string Stage, string? Node, string Message);

/// <summary>One node's measurements during selection.</summary>
/// <param name="Node">The node.</param>
/// <param name="Device">The local device the node chose.</param>
/// <param name="NodeMedianMs">Median latency the node measured locally.</param>
/// <param name="EndToEndMedianMs">Median latency measured from the client, network and serialisation included.</param>
/// <param name="ItemsPerSecond">Items per second measured from the client with the node's queue full (throughput policy).</param>
/// <param name="UploadedBytes">Model bytes sent to this node during selection (0 when it already had the model).</param>
/// <param name="Error">Why the node was left out, if it was.</param>
/// <param name="TuningSource">Autotuning only: where the node's plan came from: <c>measured</c> (tuned there),
/// <c>local cache</c>, or <c>fleet:NODE</c> (tuned by that node of the same fingerprint, reused without profiling).</param>
public sealed record NodeMeasurement(string Node, string? Device, double? NodeMedianMs, double? EndToEndMedianMs, double? ItemsPerSecond, long UploadedBytes, string? Error,
    string? TuningSource = null)
{
    /// <summary>With splits considered: the predicted latency of the whole model on this node (client link + the node's own median).</summary>
    public double? PredictedMs { get; init; }
}

/// <summary>One split measured during selection.</summary>
/// <param name="Front">The node running layers before the cut (called by the client).</param>
/// <param name="Back">The node running the rest (called by the front node).</param>
/// <param name="Cut">Index of the first layer of the back stage.</param>
/// <param name="CutAfter">Name of the last layer of the front stage.</param>
/// <param name="CutBytes">Bytes the front sends to the back per run.</param>
/// <param name="ProfilePredictedMs">The planner's prediction from per-layer profiles and links (what ranked it): the latency of one request, or with
/// the throughput policy the time per item of the pipelined split's slowest step.</param>
public sealed record SplitMeasurement(string Front, string Back, int Cut, string CutAfter, long CutBytes, double ProfilePredictedMs)
{
    /// <summary>Each stage's median as its node measured it when preparing it.</summary>
    public double? FrontStageMs { get; init; }

    /// <summary>The back stage's median as its node measured it.</summary>
    public double? BackStageMs { get; init; }

    /// <summary>Predicted end-to-end latency from the stages' own medians and the measured links (before the end-to-end measurement).</summary>
    public double? PredictedMs { get; init; }

    /// <summary>Median end-to-end latency measured from the client.</summary>
    public double? MeasuredMs { get; init; }

    /// <summary>Why it could not be prepared or run, if so.</summary>
    public string? Error { get; init; }
}

/// <summary>What <see cref="AccelCluster.SelectAsync"/> measured and kept.</summary>
/// <param name="ModelDigest">The model's content digest.</param>
/// <param name="Placement">The kept placement.</param>
/// <param name="Nodes">Each node's measurements.</param>
/// <param name="Weights">Share of inputs per node (data parallel), or 1 for the serving node.</param>
/// <param name="DataParallelItemsPerSecond">Measured items/s of data parallel over every node (throughput policy).</param>
/// <param name="BestNodeItemsPerSecond">Measured items/s of the best single node (throughput policy).</param>
public sealed record ClusterSelection(string ModelDigest, ClusterPlacement Placement, IReadOnlyList<NodeMeasurement> Nodes,
    IReadOnlyDictionary<string, double> Weights, double? DataParallelItemsPerSecond, double? BestNodeItemsPerSecond)
{
    /// <summary>The links measured for the split planner (empty when splits were not considered).</summary>
    public IReadOnlyList<LinkFit> Links { get; init; } = [];

    /// <summary>The splits measured end to end (empty when splits were not considered).</summary>
    public IReadOnlyList<SplitMeasurement> Splits { get; init; } = [];

    /// <summary>The kept split, when <see cref="Placement"/> is <see cref="ClusterPlacement.Split"/>.</summary>
    public SplitMeasurement? KeptSplit { get; init; }

    /// <summary>
    /// The kept placement's predicted latency (splits considered): the links plus each node's or stage's own median,
    /// measured just before the final side-by-side run-off, to compare with <see cref="KeptMeasuredMs"/>.
    /// </summary>
    public double? KeptPredictedMs { get; init; }

    /// <summary>The best whole-model node's end-to-end median latency in the same run-off (the kept plan is never slower).</summary>
    public double? BestWholeMeasuredMs { get; init; }

    /// <summary>The kept placement's end-to-end median latency in the run-off (best whole node and best split measured alternately).</summary>
    public double? KeptMeasuredMs { get; init; }
}
