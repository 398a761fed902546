using AccelSdk.TestSupport;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using AccelSdk.Autotune.Cache;
using AccelSdk.Execution;
using AccelSdk.Ir;
using Microsoft.ML.OnnxRuntime;

namespace AccelSdk.Autotune.Tests;

/// <summary>
/// What the tuning cache does with files it cannot trust: a compiled artefact whose bytes changed since it was saved,
/// and an index (the cache file) that is edited, invalid, malformed or not a regular file. Each is rejected with a
/// warning and the model re-tuned or recompiled, with the right answer afterwards. Real ONNX Runtime throughout.
/// </summary>
public sealed partial class CacheIntegrityTests
{
    /// <summary>Far longer than any tuning of these tiny models; reaching it means the cache read hung.</summary>
    private static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(90);

    private static readonly Lazy<(string Directory, string FileName, MachineFingerprint Fingerprint)> Template = new(() =>
    {
        var dir = TestModels.TempDirectory("integrity-template");
        var first = Autotuner.Tune(TestModels.Chain(), Options(dir));
        first.Session!.Dispose();
        return (dir, Path.GetFileName(first.CachePath!), first.Fingerprint);
    });

    private static AutotuneOptions Options(string dir) => TestModels.CachedOrtOptions(dir);

    [Fact]
    public void An_artefact_whose_weights_were_overwritten_is_detected_deleted_and_recompiled()
    {
        var dir = TestModels.TempDirectory("tampered");
        var model = TestModels.Dense();
        var x = SampleInputs.Random(model);
        float[] expected;
        using (var session = Autotuner.Tune(model, Options(dir)).Session!) expected = Output(session, x);
        var artefact = Assert.Single(Directory.GetFiles(dir, "*.ort", SearchOption.AllDirectories));

        var tampered = OverwriteWeights(File.ReadAllBytes(artefact), model.Graph.Initializers.Single(t => t.Name == "w"));
        File.WriteAllBytes(artefact, tampered);
        // ONNX Runtime itself loads the tampered file without complaint and answers wrongly: only the hash catches it.
        Assert.NotEqual(expected, RunOrtFormat(tampered, x["x"]));

        var second = Tune(model, dir);
        using (var session = second.Session!)
        {
            Assert.True(second.FromCache);
            Assert.False(session.CompiledPartitions.Single().LoadedFromArtifactCache);
            Assert.Equal(expected, Output(session, x));
        }
        Assert.Contains(second.Warnings, w => w.Contains(artefact, StringComparison.Ordinal) && w.Contains("modified since", StringComparison.Ordinal)
            && w.Contains("compiled afresh", StringComparison.Ordinal));

        // The recompiled artefact is recorded with its new hash: the next selection loads it, without a warning.
        var third = Tune(model, dir);
        using (var session = third.Session!)
        {
            Assert.True(session.CompiledPartitions.Single().LoadedFromArtifactCache);
            Assert.Equal(expected, Output(session, x));
        }
        Assert.DoesNotContain(third.Warnings, w => w.Contains(artefact, StringComparison.Ordinal));
    }

    [Fact]
    public void An_artefact_the_index_does_not_record_is_deleted_and_recompiled()
    {
        var dir = CopyOfTemplate("unrecorded");
        var path = Path.Combine(dir, Template.Value.FileName);
        RewriteBody(path, body => body["artifacts"] = new JsonObject());
        var artefacts = Directory.GetFiles(dir, "*.ort", SearchOption.AllDirectories);
        Assert.NotEmpty(artefacts);

        var result = Tune(TestModels.Chain(), dir);
        using var session = result.Session!;
        Assert.True(result.FromCache);
        Assert.False(session.CompiledPartitions.Single().LoadedFromArtifactCache);
        Assert.Contains(result.Warnings, w => w.Contains("is not recorded in the cache index", StringComparison.Ordinal));
        Assert.NotNull(TuningCache.Open(dir, Template.Value.Fingerprint).Find(Path.GetFileName(
            Assert.Single(Directory.GetFiles(dir, "*.ort", SearchOption.AllDirectories), File.Exists))));
    }

    [Fact]
    public void An_artefact_replaced_by_a_fifo_is_refused_without_blocking_and_recompiled()
    {
        var dir = CopyOfTemplate("artefact-fifo");
        var live = LiveArtefact(dir);
        var result = Tune(TestModels.Chain(), dir, before: () =>
        {
            File.Delete(live);
            MakeFifo(live);
        });
        using var session = result.Session!;
        Assert.True(result.FromCache);
        Assert.False(session.CompiledPartitions.Single().LoadedFromArtifactCache);
        Assert.Contains(result.Warnings, w => w.Contains(live, StringComparison.Ordinal) && w.Contains("is a FIFO, not a regular file", StringComparison.Ordinal));
        Assert.True(new FileInfo(live).Length > 0, "the recompiled artefact replaces the FIFO");
    }

    [Fact]
    public void A_cache_rewritten_with_its_body_hash_recomputed_is_used()
    {
        var dir = CopyOfTemplate("rehashed");
        RewriteBody(Path.Combine(dir, Template.Value.FileName), _ => { });
        var result = Tune(TestModels.Chain(), dir);
        result.Session!.Dispose();
        Assert.True(result.FromCache);
        Assert.DoesNotContain(result.Warnings, w => w.Contains("tuning cache", StringComparison.Ordinal));
    }

    public static TheoryData<string> CorruptionNames => new(Corruptions.Keys);

    /// <summary>Each corruption of the cache file, and what its warning must say.</summary>
    private static readonly Dictionary<string, (Action<string> Apply, string Expected)> Corruptions = new()
    {
        ["fingerprint fact edited, hash kept"] = (path => ReplaceFirst(path, "\"cpu.model\": \"[^\"]*\"", "\"cpu.model\": \"Another CPU\""), "fingerprint does not match"),
        ["node timing edited, body hash kept"] = (path => ReplaceFirst(path, "\"median_ms\": [0-9.eE+-]+", "\"median_ms\": 0.000001"), "not the recorded"),
        ["negative transfer cost"] = (path => RewriteBody(path, body => body["transfers"]!["ort-cpu"] = new JsonObject
        {
            ["upload_fixed_ms"] = -1.0, ["upload_ms_per_mi_b"] = 0.1, ["download_fixed_ms"] = 0.1, ["download_ms_per_mi_b"] = 0.1,
        }), "transfers[\"ort-cpu\"].upload_fixed_ms is -1, not a finite non-negative number"),
        ["negative call overhead"] = (path => RewriteBody(path, body => body["overheads"]!["ort-cpu"] = -0.5), "overheads[\"ort-cpu\"] is -0.5"),
        ["negative node median"] = (path => RewriteBody(path, body => FirstEntry(body, "nodes")["median_ms"] = -2.0), ".median_ms is -2"),
        ["null placements"] = (path => RewriteBody(path, body => FirstEntry(body, "plans")["placements"] = null), ".placements is null"),
        ["null placement"] = (path => RewriteBody(path, body => FirstEntry(body, "plans")["placements"] = new JsonArray(null, "ort-cpu", "ort-cpu", "ort-cpu")),
            ".placements holds a null device"),
        ["null nodes section"] = (path => RewriteBody(path, body => body["nodes"] = null), "a section (nodes, transfers, overheads, plans, artifacts) is missing or null"),
        ["null node timing"] = (path => RewriteBody(path, body => body["nodes"]![FirstKey(body, "nodes")] = null), "\"] is null"),
        ["null plan"] = (path => RewriteBody(path, body => body["plans"]![FirstKey(body, "plans")] = null), "\"] is null"),
        ["unknown node status"] = (path => RewriteBody(path, body => FirstEntry(body, "nodes")["status"] = "fastest"), ".status is 'fastest'"),
        ["artefact hash not hex"] = (path => RewriteBody(path, body => FirstEntry(body, "artifacts")["content_hash"] = "xxh128:ZZ"), ".content_hash 'xxh128:ZZ'"),
        ["precision model file with a path"] = (path => RewriteBody(path, body => FirstEntry(body, "plans")["precision"] = new JsonObject
        {
            ["lower_precision_kept"] = true, ["model_file"] = "../../elsewhere.onnx", ["model_sha256"] = new string('a', 64), ["layers"] = new JsonObject(), ["reason"] = "",
        }), ".precision.model_file '../../elsewhere.onnx' is not a plain file name"),
        ["precision layer of an unknown kind"] = (path => RewriteBody(path, body => FirstEntry(body, "plans")["precision"] = new JsonObject
        {
            ["lower_precision_kept"] = true, ["layers"] = new JsonObject { ["conv"] = "int4" }, ["reason"] = "",
        }), ".precision.layers holds a precision other than int8, float16, float32"),
        ["placements of the wrong type"] = (path => RewriteBody(path, body => FirstEntry(body, "plans")["placements"] = 5), "malformed JSON"),
        ["runs of the wrong type"] = (path => RewriteBody(path, body => FirstEntry(body, "nodes")["runs"] = "three"), "malformed JSON"),
        ["truncated JSON"] = (path => File.WriteAllText(path, File.ReadAllText(path)[..(int)(new FileInfo(path).Length / 2)]), "malformed JSON"),
        ["a JSON array"] = (path => File.WriteAllText(path, "[1, 2, 3]"), "not an object"),
        ["body missing"] = (path => File.WriteAllText(path, Regex.Replace(File.ReadAllText(path), "\"body\": \\{.*\\}\\s*\\}\\s*$", "\"x\": 1 }", RegexOptions.Singleline)),
            "the body is missing"),
        ["a FIFO"] = (path => { File.Delete(path); MakeFifo(path); }, "is a FIFO, not a regular file"),
        ["a link to /dev/zero"] = (path => { File.Delete(path); File.CreateSymbolicLink(path, "/dev/zero"); }, "is a character device, not a regular file"),
        ["a directory"] = (path => { File.Delete(path); Directory.CreateDirectory(path); }, "is a directory, not a regular file"),
        ["larger than the cap"] = (path =>
        {
            using var file = new FileStream(path, FileMode.Truncate);
            file.SetLength(TuningCache.MaxFileBytes + 1); // sparse: takes no disk space
        }, $"{TuningCache.MaxFileBytes + 1} bytes, more than the {TuningCache.MaxFileBytes} accepted"),
    };

    [Theory]
    [MemberData(nameof(CorruptionNames))]
    public void A_corrupted_cache_file_is_rejected_whole_with_a_warning_and_the_model_retuned(string corruption)
    {
        var (apply, expected) = Corruptions[corruption];
        var dir = CopyOfTemplate("corrupt");
        var path = Path.Combine(dir, Template.Value.FileName);
        // A directory in place of the file cannot be replaced by the save's rename: the cache is then left unsaved.
        var canRebuild = corruption != "a directory";

        var result = Tune(TestModels.Chain(), dir, before: () => apply(path));
        result.Session!.Dispose();

        Assert.False(result.FromCache);
        Assert.Contains(result.Warnings, w => w.Contains($"tuning cache {path} is ignored and will be rebuilt", StringComparison.Ordinal)
            && w.Contains(expected, StringComparison.Ordinal));
        Assert.Equal(canRebuild, TuningCache.Open(dir, Template.Value.Fingerprint).Loaded);
        Assert.Empty(Directory.GetFiles(dir, "*.tmp"));
    }

    [Fact]
    public async Task Select_with_a_fifo_in_place_of_the_cache_file_retunes_and_reports_it()
    {
        var root = TestModels.TempDirectory("select-fifo");
        var path = Path.Combine(root, "autotune", Template.Value.FileName);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        MakeFifo(path);
        var previous = Environment.GetEnvironmentVariable("ACCELSDK_CACHE_DIR");
        var logger = new CollectingLogger();
        using var runtime = new AccelRuntimeBuilder().AddOnnxRuntime().AddAutotune().UseLogger(logger).Build();
        Environment.SetEnvironmentVariable("ACCELSDK_CACHE_DIR", root);
        try
        {
            // WaitAsync throws TimeoutException if Select hangs on the FIFO.
            var select = runtime.SelectAsync(TestModels.Chain(), new SelectOptions { Autotune = true, Candidates = new[] { "ort-cpu" } });
            using (var session = await select.WaitAsync(HangGuard)) Assert.False(session.Selection!.FromTuningCache);
            using (var again = runtime.Select(TestModels.Chain(), new SelectOptions { Autotune = true, Candidates = new[] { "ort-cpu" } }))
            {
                Assert.True(again.Selection!.FromTuningCache);
            }
        }
        finally
        {
            Environment.SetEnvironmentVariable("ACCELSDK_CACHE_DIR", previous);
        }
        Assert.Contains(logger.Messages, w => w.Contains(path, StringComparison.Ordinal) && w.Contains("is a FIFO", StringComparison.Ordinal));
    }

    /// <summary>Tunes with a guard against hanging; <paramref name="before"/> runs just before (a FIFO must not exist earlier than needed).</summary>
    private static AutotuneResult Tune(Model model, string dir, Action? before = null)
    {
        before?.Invoke();
        var tune = Task.Run(() => Autotuner.Tune(model, Options(dir)));
        Assert.True(tune.Wait(HangGuard), "tuning hung reading the cache");
        return tune.Result;
    }

    private static string CopyOfTemplate(string what)
    {
        var dir = TestModels.TempDirectory(what);
        foreach (var file in Directory.GetFiles(Template.Value.Directory, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(dir, Path.GetRelativePath(Template.Value.Directory, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
        return dir;
    }

    /// <summary>The artefact the cached plan of the template loads (the index records it).</summary>
    private static string LiveArtefact(string dir)
    {
        var cache = TuningCache.Open(dir, Template.Value.Fingerprint);
        return Directory.GetFiles(dir, "*.ort", SearchOption.AllDirectories).First(f => cache.Find(Path.GetFileName(f)) is not null);
    }

    /// <summary>Edits the body, then writes the file with the body's hash recomputed, so only the validation can reject it.</summary>
    private static void RewriteBody(string path, Action<JsonObject> edit)
    {
        var root = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        var body = root["body"]!.AsObject();
        edit(body);
        var bodyText = body.ToJsonString();
        root.Remove("body");
        root.Remove("body_sha256");
        var head = root.ToJsonString();
        var hash = TuningCache.BodyHash(Encoding.UTF8.GetBytes(bodyText));
        File.WriteAllText(path, $"{head[..^1]},\"body_sha256\":\"{hash}\",\"body\":{bodyText}}}");
    }

    private static void ReplaceFirst(string path, string pattern, string replacement)
    {
        var text = File.ReadAllText(path);
        var edited = new Regex(pattern).Replace(text, replacement, 1);
        Assert.NotEqual(text, edited);
        File.WriteAllText(path, edited);
    }

    private static string FirstKey(JsonObject body, string section) => body[section]!.AsObject().First().Key;

    private static JsonObject FirstEntry(JsonObject body, string section) => body[section]!.AsObject().First().Value!.AsObject();

    /// <summary>Overwrites 4 KiB of the weights' bytes where they sit in the ORT-format file.</summary>
    private static byte[] OverwriteWeights(byte[] artefact, AccelTensor weights)
    {
        var raw = weights.Bytes.ToArray();
        var at = artefact.AsSpan().IndexOf(raw.AsSpan(0, 64));
        Assert.True(at >= 0, "the weights are not stored verbatim in the artefact");
        var copy = artefact.ToArray();
        MemoryMarshal.Cast<byte, float>(copy.AsSpan(at, 4096)).Fill(0.75f);
        return copy;
    }

    private static float[] RunOrtFormat(byte[] ortModel, AccelTensor input)
    {
        using var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_DISABLE_ALL };
        options.AddSessionConfigEntry("session.load_model_format", "ORT");
        using var session = new InferenceSession(ortModel, options);
        using var value = OrtValue.CreateTensorValueFromMemory(input.AsSpan<float>().ToArray(), input.ShapeArray);
        using var run = new RunOptions();
        using var outputs = session.Run(run, new[] { "x" }, new[] { value }, new[] { "y" });
        return outputs[0].GetTensorDataAsSpan<float>().ToArray();
    }

    private static float[] Output(AccelSession session, Dictionary<string, AccelTensor> inputs) => session.Run(inputs)[0].AsSpan<float>().ToArray();

    private static void MakeFifo(string path)
    {
        if (MkFifo(path, 0x180 /* 0600 */) != 0) throw new IOException($"mkfifo {path}: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
    }

    [LibraryImport("libc", EntryPoint = "mkfifo", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int MkFifo(string path, uint mode);
}
