using System.Text.Json;
using System.Text.Json.Nodes;
using AccelSdk.Cluster.Client;
using AccelSdk.Cluster.Wire;

namespace AccelSdk.Cluster.Reporting;

/// <summary>Where a run of layers is placed in the kept plan.</summary>
/// <param name="From">First layer (graph order).</param>
/// <param name="To">One past the last layer.</param>
/// <param name="Nodes">The node(s) running them (several for data parallel).</param>
/// <param name="Device">The device(s) the node chose.</param>
public sealed record LayerSpan(int From, int To, IReadOnlyList<string> Nodes, string? Device);

/// <summary>
/// The cluster autotune report (<c>accelsdk cluster autotune MODEL --report DIR</c>): report.json and a
/// self-contained report.html with the nodes and their devices, the measured links, where each layer runs, predicted
/// against measured latency of every placement measured, and which node plans came from the fleet's tuning cache.
/// </summary>
public static partial class ClusterReport
{
    /// <summary>Writes report.json and report.html into <paramref name="directory"/>; returns their paths.</summary>
    public static (string Json, string Html) Write(string directory, string modelPath, ClusterSelection selection, IReadOnlyList<NodeInfo> nodes,
        IReadOnlyList<string> progressLines)
    {
        Directory.CreateDirectory(directory);
        var layers = LocalRuntime.Load(modelPath).Graph.Nodes.Select((n, i) => n.Name.Length > 0 ? n.Name : n.Outputs.FirstOrDefault() ?? $"#{i}").ToList();
        var spans = Spans(selection, layers.Count);
        var json = ToJson(modelPath, selection, nodes, layers, spans, progressLines);
        var jsonPath = Path.Combine(directory, "report.json");
        var htmlPath = Path.Combine(directory, "report.html");
        File.WriteAllText(jsonPath, json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        File.WriteAllText(htmlPath, Html(modelPath, selection, nodes, layers, spans));
        return (jsonPath, htmlPath);
    }

    /// <summary>The kept plan's layers by node: one span for a whole model or data parallel, two for a split.</summary>
    public static IReadOnlyList<LayerSpan> Spans(ClusterSelection selection, int layerCount)
    {
        string? DeviceOf(string node) => selection.Nodes.FirstOrDefault(n => n.Node == node)?.Device;
        return selection.Placement switch
        {
            ClusterPlacement.Split when selection.KeptSplit is { } s =>
                [new LayerSpan(0, s.Cut, [s.Front], DeviceOf(s.Front)), new LayerSpan(s.Cut, layerCount, [s.Back], DeviceOf(s.Back))],
            ClusterPlacement.DataParallel =>
                [new LayerSpan(0, layerCount, selection.Weights.Where(w => w.Value > 0).Select(w => w.Key).ToList(), null)],
            _ => [new LayerSpan(0, layerCount, selection.Weights.Where(w => w.Value > 0).Select(w => w.Key).ToList(),
                DeviceOf(selection.Weights.FirstOrDefault(w => w.Value > 0).Key ?? ""))],
        };
    }

    /// <summary>Says where a node's plan came from, in words: the fleet line names the node that tuned it.</summary>
    public static string DescribeTuning(string? source) => source switch
    {
        null => "selected (no autotuning)",
        "measured" => "tuned on this node (profiled here, published to the fleet)",
        "local cache" => "this node's own tuning cache",
        _ when source.StartsWith("fleet:", StringComparison.Ordinal) =>
            $"fleet cache: tuned by node '{source["fleet:".Length..]}' of the same fingerprint, reused without profiling",
        _ => source,
    };

    private static JsonObject ToJson(string modelPath, ClusterSelection s, IReadOnlyList<NodeInfo> nodes, IReadOnlyList<string> layers, IReadOnlyList<LayerSpan> spans,
        IReadOnlyList<string> progressLines) => new()
    {
        ["model"] = Path.GetFileName(modelPath),
        ["model_digest"] = s.ModelDigest,
        ["date"] = DateTimeOffset.UtcNow.ToString("O"),
        ["placement"] = s.Placement.ToString(),
        ["kept_predicted_ms"] = s.KeptPredictedMs,
        ["kept_measured_ms"] = s.KeptMeasuredMs,
        ["weights"] = new JsonObject(s.Weights.Select(w => KeyValuePair.Create(w.Key, (JsonNode?)w.Value))),
        ["nodes"] = new JsonArray(nodes.Select(n => (JsonNode)NodeJson(n, s.Nodes.FirstOrDefault(m => m.Node == n.Name))).ToArray()),
        ["links"] = new JsonArray(s.Links.Select(l => (JsonNode)new JsonObject
        {
            ["from"] = l.From, ["to"] = l.To, ["latency_ms"] = l.LatencyMs, ["ms_per_mib"] = l.MsPerMiB,
            ["megabits_per_second"] = double.IsPositiveInfinity(l.MegabitsPerSecond) ? null : l.MegabitsPerSecond,
            ["samples"] = new JsonArray(l.Samples.Select(x => (JsonNode)new JsonObject { ["bytes"] = x.Bytes, ["median_ms"] = x.MedianMs }).ToArray()),
        }).ToArray()),
        ["splits"] = new JsonArray(s.Splits.Select(x => (JsonNode)new JsonObject
        {
            ["front"] = x.Front, ["back"] = x.Back, ["cut"] = x.Cut, ["cut_after"] = x.CutAfter, ["cut_bytes"] = x.CutBytes,
            ["profile_predicted_ms"] = x.ProfilePredictedMs, ["predicted_ms"] = x.PredictedMs, ["measured_ms"] = x.MeasuredMs,
            ["front_stage_ms"] = x.FrontStageMs, ["back_stage_ms"] = x.BackStageMs, ["error"] = x.Error,
            ["kept"] = s.KeptSplit == x,
        }).ToArray()),
        ["layers"] = new JsonArray(layers.Select((name, i) => (JsonNode)new JsonObject
        {
            ["index"] = i, ["name"] = name,
            ["nodes"] = new JsonArray(spans.First(sp => i >= sp.From && i < sp.To).Nodes.Select(n => (JsonNode)JsonValue.Create(n)!).ToArray()),
        }).ToArray()),
        ["progress"] = new JsonArray(progressLines.Select(p => (JsonNode)JsonValue.Create(p)!).ToArray()),
    };

    private static JsonObject NodeJson(NodeInfo n, NodeMeasurement? m) => new()
    {
        ["name"] = n.Name,
        ["process_id"] = n.ProcessId,
        ["cores"] = n.ProcessorCount,
        ["available_memory_bytes"] = n.AvailableMemoryBytes,
        ["fingerprint"] = n.MachineFingerprint,
        ["runtimes"] = new JsonObject(n.BackendVersions.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value))),
        ["devices"] = new JsonArray(n.Devices.Select(d => (JsonNode)new JsonObject
        {
            ["id"] = d.Id, ["backend"] = d.Backend, ["name"] = d.Name, ["kind"] = d.Kind, ["available"] = d.IsAvailable, ["unavailable_reason"] = d.UnavailableReason,
        }).ToArray()),
        ["unavailable_reason"] = n.UnavailableReason,
        ["device"] = m?.Device,
        ["node_median_ms"] = m?.NodeMedianMs,
        ["end_to_end_median_ms"] = m?.EndToEndMedianMs,
        ["predicted_ms"] = m?.PredictedMs,
        ["items_per_second"] = m?.ItemsPerSecond,
        ["error"] = m?.Error,
        ["tuning_source"] = m?.TuningSource,
        ["plan_from_fleet"] = m?.TuningSource?.StartsWith("fleet:", StringComparison.Ordinal) == true,
        ["tuning"] = DescribeTuning(m?.TuningSource),
    };
}
