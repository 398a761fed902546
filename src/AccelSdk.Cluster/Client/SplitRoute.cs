using AccelSdk.Cluster.Grains;
using AccelSdk.Cluster.Wire;

namespace AccelSdk.Cluster.Client;

/// <summary>A split model as one serving lane: the client calls the first stage, which calls the next.</summary>
internal sealed class SplitRoute(IStageGrain first, StageHop[] rest, IReadOnlyList<string> nodes, IReadOnlyList<string> outputOrder, IReadOnlyList<IStageGrain> stages)
{
    /// <summary>Each stage's grain, in order.</summary>
    public IReadOnlyList<IStageGrain> Stages { get; } = stages;

    /// <summary>The nodes the route runs on, in stage order.</summary>
    public IReadOnlyList<string> Nodes { get; } = nodes;

    /// <summary>
    /// True (default): each stage takes its next item while later stages still work on earlier ones. False: each stage
    /// waits for the rest of the route to answer before it runs another item (for comparison).
    /// </summary>
    public bool Pipelined
    {
        get => !_hops.FirstOrDefault()?.Sequential ?? true;
        set => _hops = _hops.Select(h => h with { Sequential = !value }).ToArray();
    }

    private StageHop[] _hops = rest;

    /// <summary>One run through every stage; outputs in graph order.</summary>
    public async Task<RunReply> RunAsync(TensorPayload[] inputs, long deadlineUnixMs, CancellationToken cancellationToken)
    {
        var reply = await first.RunAsync(inputs, _hops, deadlineUnixMs, cancellationToken);
        var byName = reply.Outputs.ToDictionary(o => o.Name, StringComparer.Ordinal);
        var ordered = outputOrder.Select(n => byName.TryGetValue(n, out var o) ? o
            : throw new ClusterException($"split run on {string.Join(" > ", Nodes)} returned no output '{n}'")).ToArray();
        return reply with { Outputs = ordered };
    }
}
