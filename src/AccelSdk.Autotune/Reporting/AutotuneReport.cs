using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace AccelSdk.Autotune.Reporting;

/// <summary>
/// Writes an <see cref="AutotuneResult"/> as <c>report.json</c> (for scripts; the keys <c>plan.measured_ms</c>,
/// <c>single_backend[].backend/device/measured_ms/error</c> and <c>nodes[].name/op/assigned</c> are stable) and as a
/// self-contained <c>report.html</c>.
/// </summary>
public static class AutotuneReport
{
    /// <summary>Version of the report layout.</summary>
    public const string Format = "accelsdk-autotune-report/1";

    /// <summary>Writes <c>report.json</c> and <c>report.html</c> into <paramref name="directory"/>; returns their paths.</summary>
    public static ReportFiles Write(AutotuneResult result, string directory)
    {
        Directory.CreateDirectory(directory);
        var json = ToJson(result);
        var jsonPath = Path.Combine(directory, "report.json");
        var htmlPath = Path.Combine(directory, "report.html");
        File.WriteAllText(jsonPath, json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        File.WriteAllText(htmlPath, HtmlReport.Render(result, json));
        return new ReportFiles(jsonPath, htmlPath);
    }

    /// <summary>The report as a JSON document.</summary>
    public static JsonObject ToJson(AutotuneResult r)
    {
        var devices = new JsonArray();
        foreach (var (backend, device) in r.Devices)
        {
            var properties = new JsonObject();
            foreach (var kv in device.Properties.OrderBy(kv => kv.Key, StringComparer.Ordinal)) properties[kv.Key] = kv.Value;
            devices.Add(new JsonObject
            {
                ["id"] = device.Id,
                ["backend"] = backend.Name,
                ["backend_version"] = backend.Version,
                ["name"] = device.Name,
                ["kind"] = device.Kind.ToString().ToLowerInvariant(),
                ["memory_space"] = device.MemorySpace.Name,
                ["call_overhead_ms"] = Num(r.CallOverheadMs.TryGetValue(device.Id, out var o) ? o : null),
                ["excluded"] = r.ExcludedDevices.TryGetValue(device.Id, out var why) ? why : null,
                ["whole_source_models_only"] = backend.CompilesWholeSourceModelsOnly,
                ["properties"] = properties,
            });
        }
        var fingerprint = new JsonObject();
        foreach (var kv in r.Fingerprint.Facts) fingerprint[kv.Key] = kv.Value;

        var nodes = new JsonArray();
        foreach (var n in r.Nodes)
        {
            var candidates = new JsonArray();
            foreach (var c in n.Candidates)
            {
                candidates.Add(new JsonObject
                {
                    ["device"] = c.DeviceId,
                    ["status"] = c.Status.ToString().ToLowerInvariant(),
                    ["median_ms"] = Num(c.MedianMs),
                    ["compile_ms"] = Num(c.CompileMs),
                    ["warmup_ms"] = Num(c.WarmupMs),
                    ["runs"] = c.Runs,
                    ["relative_spread"] = Num(c.RelativeSpread),
                    ["from_cache"] = c.FromCache,
                    ["note"] = c.Note,
                });
            }
            nodes.Add(new JsonObject
            {
                ["index"] = n.Index,
                ["name"] = n.Name,
                ["op"] = n.Op,
                ["assigned"] = n.Assigned,
                ["autotuned"] = n.Autotuned,
                ["best_ms"] = Num(n.BestMs),
                ["signature"] = n.Signature,
                ["candidates"] = candidates,
            });
        }

        var transfers = new JsonArray();
        foreach (var t in r.Transfers)
        {
            transfers.Add(new JsonObject
            {
                ["device"] = t.DeviceId,
                ["memory_space"] = t.MemorySpace,
                ["upload_fixed_ms"] = Num(t.UploadFixedMs),
                ["upload_ms_per_mib"] = Num(t.UploadMsPerMiB),
                ["download_fixed_ms"] = Num(t.DownloadFixedMs),
                ["download_ms_per_mib"] = Num(t.DownloadMsPerMiB),
                ["from_cache"] = t.FromCache,
                ["samples"] = new JsonArray(t.Samples.Select(s => (JsonNode)new JsonObject { ["direction"] = s.Direction, ["bytes"] = s.Bytes, ["ms"] = Num(s.Ms) }).ToArray()),
            });
        }

        var single = new JsonArray();
        foreach (var s in r.SingleBackend)
        {
            single.Add(new JsonObject
            {
                ["backend"] = s.Backend,
                ["device"] = s.Devices.Count == 1 ? s.Devices[0] : s.Label,
                ["label"] = s.Label,
                ["variant"] = s.Variant?.Name,
                ["predicted_ms"] = Num(s.PredictedMs),
                ["predicted_is_lower_bound"] = s.PredictedIsLowerBound,
                ["measured_ms"] = Num(s.MeasuredMs),
                ["throughput_per_s"] = Num(s.ThroughputPerSecond),
                ["stream_execution"] = Mode(s),
                ["compile_ms"] = Num(s.CompileMs),
                ["abandoned"] = s.Abandoned,
                ["error"] = s.Error,
                ["speedup_of_plan"] = Num(r.Chosen?.MeasuredMs is { } p && s.MeasuredMs is { } m && p > 0 ? m / p : null),
            });
        }

        JsonObject? plan = null;
        if (r.Chosen is not null)
        {
            var partitions = new JsonArray();
            foreach (var p in r.Plan?.Partitions ?? Array.Empty<Execution.PlannedPartition>())
            {
                partitions.Add(new JsonObject
                {
                    ["index"] = p.Index,
                    ["device"] = p.Device.Id,
                    ["backend"] = p.Backend.Name,
                    ["nodes"] = new JsonArray(p.NodeIndices.Select(i => (JsonNode)JsonValue.Create(i)).ToArray()),
                    ["inputs"] = new JsonArray(p.InputNames.Select(v => (JsonNode)JsonValue.Create(v)).ToArray()),
                    ["outputs"] = new JsonArray(p.OutputNames.Select(v => (JsonNode)JsonValue.Create(v)).ToArray()),
                });
            }
            JsonObject Edge(Execution.PlannedTransfer t) => new()
            {
                ["value"] = t.ValueName,
                ["from"] = t.From.Id,
                ["to"] = t.To.Id,
                ["from_space"] = t.From.MemorySpace.Name,
                ["to_space"] = t.To.MemorySpace.Name,
                ["before_partition"] = t.BeforePartition,
                ["route"] = t.RouteName,
                ["path"] = t.Path?.Description,
                ["copies"] = t.Copies,
                ["bytes"] = r.TransferBytes.TryGetValue(t.ValueName, out var b) ? b : null,
            };
            var planTransfers = new JsonArray((r.Plan?.Transfers ?? Array.Empty<Execution.PlannedTransfer>()).Select(t => (JsonNode)Edge(t)).ToArray());
            var cutEdges = new JsonArray((r.Plan?.CutEdges ?? Array.Empty<Execution.PlannedTransfer>()).Select(t => (JsonNode)Edge(t)).ToArray());
            plan = new JsonObject
            {
                ["source"] = r.Chosen.Backend is null ? "autotuned" : "single_backend",
                ["label"] = r.Chosen.Label,
                ["variant"] = r.Chosen.Variant?.Name,
                ["devices"] = new JsonArray(r.Chosen.Devices.Select(d => (JsonNode)JsonValue.Create(d)).ToArray()),
                ["predicted_ms"] = Num(r.Chosen.PredictedMs),
                ["measured_ms"] = Num(r.Chosen.MeasuredMs),
                ["throughput_per_s"] = Num(r.Chosen.ThroughputPerSecond),
                ["stream_execution"] = Mode(r.Chosen),
                ["compile_ms"] = Num(r.Chosen.CompileMs),
                ["from_cache"] = r.FromCache,
                ["reference_device"] = r.ReferenceDevice,
                ["max_relative_difference"] = Num(r.MaxRelativeDifference),
                ["partitions"] = partitions,
                ["transfers"] = planTransfers,
                ["cut_edges"] = cutEdges,
            };
        }
        JsonObject? autotuned = r.Autotuned is null ? null : new JsonObject
        {
            ["devices"] = new JsonArray(r.Autotuned.Devices.Select(d => (JsonNode)JsonValue.Create(d)).ToArray()),
            ["predicted_ms"] = Num(r.Autotuned.PredictedMs),
            ["measured_ms"] = Num(r.Autotuned.MeasuredMs),
            ["throughput_per_s"] = Num(r.Autotuned.ThroughputPerSecond),
            ["stream_execution"] = Mode(r.Autotuned),
            ["compile_ms"] = Num(r.Autotuned.CompileMs),
            ["error"] = r.Autotuned.Error,
            ["kept"] = r.Chosen is not null && r.Chosen.Backend is null,
        };

        var versions = new JsonObject
        {
            ["accelsdk"] = typeof(Autotuner).Assembly.GetName().Version?.ToString(),
            ["dotnet"] = RuntimeInformation.FrameworkDescription,
        };
        foreach (var b in r.Devices.Select(d => d.Backend).Distinct()) versions[b.Name] = b.Version;

        return new JsonObject
        {
            ["format"] = Format,
            ["date"] = r.Date.ToString("O", CultureInfo.InvariantCulture),
            ["model"] = new JsonObject
            {
                ["label"] = r.Model.Label,
                ["path"] = r.Model.SourcePath,
                ["nodes"] = r.Model.Graph.Nodes.Count,
            },
            ["policy"] = r.Policy.ToString(),
            ["partition_overlap"] = r.PartitionOverlap.ToString(),
            ["versions"] = versions,
            ["fingerprint"] = new JsonObject { ["hash"] = r.Fingerprint.Hash, ["facts"] = fingerprint },
            ["devices"] = devices,
            ["plan"] = plan,
            ["autotuned_plan"] = autotuned,
            ["single_backend"] = single,
            ["precision"] = PrecisionJson(r.Precision),
            ["nodes"] = nodes,
            ["unsupported"] = new JsonArray(r.Unsupported.Select(u => (JsonNode)new JsonObject { ["name"] = u.Node, ["op"] = u.Op, ["reason"] = u.Reason }).ToArray()),
            ["transfers"] = transfers,
            ["fused_groups"] = new JsonArray(r.FusedGroups.Select(g => (JsonNode)new JsonObject
            {
                ["ops"] = g.Ops,
                ["nodes"] = new JsonArray(g.NodeNames.Select(n => (JsonNode)JsonValue.Create(n)).ToArray()),
                ["candidates"] = new JsonArray(g.Candidates.Select(c => (JsonNode)new JsonObject
                {
                    ["device"] = c.DeviceId,
                    ["group_ms"] = Num(c.GroupMs),
                    ["nodes_sum_ms"] = Num(c.NodesSumMs),
                    ["from_cache"] = c.FromCache,
                }).ToArray()),
            }).ToArray()),
            ["memory"] = new JsonObject
            {
                ["estimate"] = "weights read + peak live activations per device (runtime workspaces not counted)",
                ["limits"] = r.MemoryLimits is null ? null : new JsonObject(r.MemoryLimits.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)JsonValue.Create(kv.Value)))),
                ["devices"] = new JsonArray(r.MemoryFootprint.Select(f => (JsonNode)new JsonObject
                {
                    ["device"] = f.DeviceId,
                    ["weight_bytes"] = f.WeightBytes,
                    ["peak_activation_bytes"] = f.PeakActivationBytes,
                    ["total_bytes"] = f.TotalBytes,
                }).ToArray()),
            },
            ["tuning"] = new JsonObject
            {
                ["seconds"] = Num(r.TuningSeconds),
                ["from_cache"] = r.FromCache,
                ["cache_file"] = r.CachePath,
                ["nodes_measured"] = r.Nodes.Sum(n => n.Candidates.Count(c => c.Status == CandidateStatus.Measured && !c.FromCache)),
                ["nodes_from_cache"] = r.Nodes.Sum(n => n.Candidates.Count(c => c.FromCache)),
                ["abandoned"] = r.Nodes.Sum(n => n.Candidates.Count(c => c.Status == CandidateStatus.Abandoned)),
                ["skipped"] = r.Nodes.Sum(n => n.Candidates.Count(c => c.Status == CandidateStatus.Skipped)),
                ["warnings"] = new JsonArray(r.Warnings.Select(w => (JsonNode)JsonValue.Create(w)).ToArray()),
            },
        };
    }

    /// <summary>{ "mode": "pipelined", "per_s": { "sequential": .., "pipelined": .. } }, or null outside the throughput policy.</summary>
    private static JsonNode? Mode(PlanResult p) => p.StreamExecution is not { } mode ? null : new JsonObject
    {
        ["mode"] = mode.ToString().ToLowerInvariant(),
        ["per_s"] = new JsonObject((p.ThroughputByMode ?? new Dictionary<Execution.StreamExecution, double>())
            .Select(kv => KeyValuePair.Create(kv.Key.ToString().ToLowerInvariant(), Num(kv.Value)))),
    };

    private static JsonNode? Num(double? value) => value is { } v && double.IsFinite(v) ? JsonValue.Create(Math.Round(v, 6)) : null;

    /// <summary>The accuracy-budgeted choice: budget, what was kept, the cosine reached, both latencies, each partition's precision and each layer's.</summary>
    private static JsonObject? PrecisionJson(Precision.PrecisionResult? p) => p is null ? null : new JsonObject
    {
        ["budget"] = p.Budget.ToString(),
        ["kept"] = p.LowerPrecisionKept ? "lower_precision" : "float32",
        ["cosine"] = Num(p.Cosine),
        ["top1"] = Num(p.Top1),
        ["float32_ms"] = Num(p.Float32Ms),
        ["lower_precision_ms"] = Num(p.LowerPrecisionMs),
        ["reason"] = p.Reason,
        ["candidate_sha256"] = p.CandidateSha256,
        ["partitions"] = new JsonArray(p.Partitions.Select(x => (JsonNode)new JsonObject
        {
            ["index"] = x.Partition,
            ["device"] = x.Device,
            ["precision"] = x.Precision,
            ["int8_layers"] = x.Int8Layers,
            ["float16_layers"] = x.Float16Layers,
            ["float32_layers"] = x.Float32Layers,
        }).ToArray()),
        ["layers"] = new JsonObject(p.Layers.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)JsonValue.Create(kv.Value)))),
    };
}

/// <summary>The files <see cref="AutotuneReport.Write"/> wrote.</summary>
/// <param name="Json">The path of <c>report.json</c>.</param>
/// <param name="Html">The path of <c>report.html</c>.</param>
public sealed record ReportFiles(string Json, string Html);
