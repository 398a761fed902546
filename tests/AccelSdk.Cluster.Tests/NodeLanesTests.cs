using AccelSdk.Cluster.Client;
using AccelSdk.Cluster.Grains;
using AccelSdk.Cluster.Wire;

namespace AccelSdk.Cluster.Tests;

/// <summary>
/// The client's lane bookkeeping alone (our own logic, no cluster): the grain is never called here, so a stand-in that
/// refuses every call is enough. The kill test covers the same code on real nodes. Under a second.
/// </summary>
public sealed class NodeLanesTests
{
    [Fact]
    public async Task Answers_of_a_node_admitted_again_still_count()
    {
        var lanes = new NodeLanes(capacityPerNode: 2);
        var first = new NodeLane("a", new UncalledGrain(), 1.0, standby: false);
        lanes.Add(first);
        lanes.Add(new NodeLane("b", new UncalledGrain(), 1.0, standby: false));
        for (var i = 0; i < 3; i++) lanes.Release(await TakeAsync(lanes, "a"), completed: true);
        // A slow answer took "a" out; the membership watcher admitted it again with a new lane. An answer still in
        // flight on the old lane comes back after that.
        var inFlightOnOld = await TakeAsync(lanes, "a");
        lanes.MarkFailed(first);
        lanes.Add(new NodeLane("a", new UncalledGrain(), 1.0, standby: false));
        lanes.Release(inFlightOnOld, completed: true);
        lanes.Release(await TakeAsync(lanes, "a"), completed: true);

        Assert.Equal(5, lanes.CompletedByNode()["a"]);
        Assert.Equal(0, lanes.CompletedByNode()["b"]);
    }

    /// <summary>Acquires slots until one lands on <paramref name="node"/>, giving back the others uncompleted.</summary>
    private static async Task<NodeLane> TakeAsync(NodeLanes lanes, string node)
    {
        var others = new List<NodeLane>();
        try
        {
            for (var i = 0; i < 8; i++)
            {
                var lane = await lanes.AcquireAsync(CancellationToken.None);
                if (lane.Node == node) return lane;
                others.Add(lane);
            }
            throw new Xunit.Sdk.XunitException($"no slot on {node} in 8 tries");
        }
        finally
        {
            foreach (var other in others) lanes.Release(other, completed: false);
        }
    }

    private sealed class UncalledGrain : IInferenceGrain
    {
        public Task<PrepareResult> PrepareAsync(PrepareRequest request, CancellationToken cancellationToken) => throw new NotSupportedException();
        public Task<RunReply> RunAsync(TensorPayload[] inputs, long deadlineUnixMs, CancellationToken cancellationToken) => throw new NotSupportedException();
        public Task<LayerProfile> ProfileLayersAsync(CancellationToken cancellationToken) => throw new NotSupportedException();
        public Task<double> MeasureLocalAsync(int runs, CancellationToken cancellationToken) => throw new NotSupportedException();
        public Task<InferenceStats> GetStatsAsync() => throw new NotSupportedException();
    }
}
