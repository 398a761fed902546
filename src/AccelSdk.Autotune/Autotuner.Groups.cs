using AccelSdk.Autotune.Cache;
using AccelSdk.Backends;
using AccelSdk.Execution;
using AccelSdk.Ir;

namespace AccelSdk.Autotune;

public static partial class Autotuner
{
    private static readonly HashSet<string> GroupHeads = new(StringComparer.Ordinal) { "Conv", "ConvTranspose", "MatMul", "Gemm" };

    private static readonly HashSet<string> GroupActivations = new(StringComparer.Ordinal)
    {
        "Relu", "Clip", "LeakyRelu", "Sigmoid", "HardSigmoid", "HardSwish", "Tanh",
    };

    /// <summary>
    /// Chains backends commonly fuse, of at least two nodes in consecutive graph order (so one partition holds them):
    /// Conv/ConvTranspose, then optionally BatchNormalization or a bias Add, then optionally one activation; MatMul/Gemm
    /// then a bias Add and/or an activation. Each value passed along the chain is read only by the next node and is
    /// not a graph output.
    /// </summary>
    internal static List<int[]> FusionGroups(Model model)
    {
        var nodes = model.Graph.Nodes;
        var readers = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var n in nodes)
        {
            foreach (var v in n.Inputs.Concat(n.Subgraphs.SelectMany(g => g.OuterScopeReferences())))
            {
                if (v.Length > 0) readers[v] = readers.GetValueOrDefault(v) + 1;
            }
        }
        var graphOutputs = model.Graph.Outputs.Select(o => o.Name).ToHashSet(StringComparer.Ordinal);
        var constants = model.Graph.Initializers.Select(t => t.Name ?? "").ToHashSet(StringComparer.Ordinal);
        bool Feeds(int from, int to) =>
            to < nodes.Count && nodes[from].Outputs.Count(o => o.Length > 0) == 1 && nodes[from].Outputs[0] is var v && v.Length > 0
            && readers.GetValueOrDefault(v) == 1 && !graphOutputs.Contains(v) && nodes[to].Inputs.Contains(v);
        var groups = new List<int[]>();
        for (var i = 0; i < nodes.Count; i++)
        {
            if (!GroupHeads.Contains(nodes[i].OpType) || nodes[i].Domain.Length > 0 && nodes[i].Domain != "ai.onnx") continue;
            var members = new List<int> { i };
            var next = i + 1;
            var isConv = nodes[i].OpType.StartsWith("Conv", StringComparison.Ordinal);
            if (Feeds(members[^1], next) && (isConv && nodes[next].OpType == "BatchNormalization"
                || nodes[next].OpType == "Add" && nodes[next].Inputs.Any(constants.Contains)))
            {
                members.Add(next++);
            }
            if (Feeds(members[^1], next) && GroupActivations.Contains(nodes[next].OpType)) members.Add(next);
            if (members.Count >= 2)
            {
                groups.Add(members.ToArray());
                i = members[^1];
            }
        }
        return groups;
    }

    /// <summary>
    /// Times every fusion group as one partition on each device that measured all its nodes alone (cached like nodes,
    /// under a key of the member signatures).
    /// </summary>
    private static List<GroupResult> ProfileGroups(Model model, List<DeviceTarget> candidates, NodeResult[] nodes,
        Dictionary<string, AccelTensor> values, Dictionary<string, Ir.ValueType> types, AutotuneOptions options, TuningCache? cache)
    {
        var results = new List<GroupResult>();
        var groups = FusionGroups(model);
        var initializers = model.Graph.Initializers.ToDictionary(t => t.Name!, StringComparer.Ordinal);
        for (var g = 0; g < groups.Count; g++)
        {
            var members = groups[g];
            Report(options, "groups", g, groups.Count, string.Join("+", members.Select(i => model.Graph.Nodes[i].OpType)));
            var later = Enumerable.Range(0, model.Graph.Nodes.Count).Where(i => i > members[^1]).ToHashSet();
            Model? sub = null;
            var perDevice = new List<GroupCandidate>();
            for (var k = 0; k < candidates.Count; k++)
            {
                var (backend, device) = candidates[k];
                var alone = members.Select(i => nodes[i].Candidates[k]).ToArray();
                if (backend.CompilesWholeSourceModelsOnly || alone.Any(c => c.Status != CandidateStatus.Measured || c.MedianMs is null)) continue;
                var key = TuningCache.NodeKey(device.Id, "group: " + string.Join(" | ", members.Select(i => nodes[i].Signature)));
                NodeCandidate measured;
                if (cache is not null && !options.Retune && cache.Nodes.TryGetValue(key, out var hit))
                {
                    measured = FromCache(device.Id, hit);
                }
                else
                {
                    sub ??= GraphPartitioner.Extract(model, members, types, later, "group_" + g);
                    var best = alone.Sum(c => c.MedianMs!.Value);
                    measured = ProfileOne(backend, device, sub, values, initializers, options.NodeTiming, best, options.Compile, options.Scope!.Token);
                    if (cache is not null && measured.Status == CandidateStatus.Measured)
                    {
                        cache.Nodes[key] = new CachedNodeTiming
                        {
                            Status = "measured", MedianMs = measured.MedianMs, CompileMs = measured.CompileMs, WarmupMs = measured.WarmupMs,
                            Runs = measured.Runs, RelativeSpread = measured.RelativeSpread,
                        };
                    }
                }
                if (measured.Status == CandidateStatus.Measured && measured.MedianMs is { } ms)
                {
                    perDevice.Add(new GroupCandidate(device.Id, ms, alone.Sum(c => c.MedianMs!.Value), measured.FromCache));
                }
            }
            if (perDevice.Count > 0)
            {
                results.Add(new GroupResult(members, members.Select(i => nodes[i].Name).ToArray(), string.Join("+", members.Select(i => model.Graph.Nodes[i].OpType)), perDevice));
            }
        }
        Report(options, "groups", groups.Count, groups.Count, "done");
        return results;
    }
}

/// <summary>A fusion group measured as one unit on one device.</summary>
/// <param name="DeviceId">The device.</param>
/// <param name="GroupMs">Median run time of the group as one partition.</param>
/// <param name="NodesSumMs">Sum of its nodes' medians run alone.</param>
/// <param name="FromCache">True when taken from the tuning cache.</param>
public sealed record GroupCandidate(string DeviceId, double GroupMs, double NodesSumMs, bool FromCache);

/// <summary>A chain of nodes backends commonly fuse (Conv+BatchNormalization+Relu, MatMul+Add, ...), timed as a unit.</summary>
/// <param name="NodeIndices">Its nodes, consecutive in graph order.</param>
/// <param name="NodeNames">Their names.</param>
/// <param name="Ops">The op types joined with '+'.</param>
/// <param name="Candidates">Per device where all its nodes were measured.</param>
public sealed record GroupResult(IReadOnlyList<int> NodeIndices, IReadOnlyList<string> NodeNames, string Ops, IReadOnlyList<GroupCandidate> Candidates);
