using System.CommandLine;
using System.Globalization;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using AccelSdk.Cluster.Client;
using AccelSdk.Cluster.Hosting;
using AccelSdk.Ir;
using AccelSdk.Onnx;

namespace AccelSdk.Cli;

/// <summary>
/// <c>accelsdk node</c> (run a cluster node in the foreground), <c>accelsdk cluster status</c> and
/// <c>accelsdk cluster run MODEL</c> (AccelSdk.Cluster, on Microsoft Orleans).
/// </summary>
internal static class ClusterCommands
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    /// <summary>How long a client command waits to connect (a refused client would retry forever).</summary>
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(20);

    public static Command CreateNode()
    {
        var cluster = ClusterOption();
        var name = CliOptions.TextOption("--name", "N", "the node name, unique in the cluster (default: the host name)");
        var port = Port("--port", ClusterConnection.DefaultPrimarySiloPort, "silo-to-silo port");
        var gatewayPort = Port("--gateway-port", ClusterConnection.DefaultGatewayPort, "port clients connect to");
        var tlsCert = TlsOption();
        var store = CliOptions.PathOption("--store", "DIR", PathKind.OutputDirectory, "where models are stored by digest (default $TMPDIR/accelsdk-node-NAME)");
        var devices = CliOptions.TextsOption("--device", "ID|BACKEND", "offer only this device or backend to the cluster (default: every available device)");
        var address = AddressOption();
        var threads = ThreadsOption();
        var command = new Command("node", "run a cluster node (an Orleans silo hosting this machine's devices) until stopped")
        {
            cluster, name, port, gatewayPort, tlsCert, store, devices, address, threads,
        };
        command.SetAction(parse =>
        {
            var nodeName = parse.GetValue(name) ?? Environment.MachineName;
            using var certificate = LoadCertificate(parse.GetValue(tlsCert));
            var options = new NodeOptions
            {
                Name = nodeName,
                Cluster = parse.GetRequiredValue(cluster),
                SiloPort = parse.GetValue(port),
                GatewayPort = parse.GetValue(gatewayPort),
                Certificate = certificate,
                StoreDirectory = parse.GetValue(store) ?? Path.Combine(Path.GetTempPath(), "accelsdk-node-" + nodeName),
                Devices = parse.GetValue(devices) is { Length: > 0 } offered ? offered : null,
                Address = parse.GetValue(address) ?? System.Net.IPAddress.Loopback,
                IntraOpThreads = parse.GetValue(threads),
            };
            ClusterNode.RunAsync(options, line => Console.WriteLine("accelsdk: " + line), CancellationToken.None).GetAwaiter().GetResult();
            return ExitCodes.Success;
        });
        return command;
    }

    public static Command CreateCluster()
    {
        var command = new Command("cluster", "talk to a running cluster: status, run");
        command.Add(CreateStatus());
        command.Add(CreateRun());
        command.Add(CreateAutotune());
        return command;
    }

    private static Command CreateStatus()
    {
        var (cluster, gateway, tlsCert) = (ClusterOption(), Port("--gateway-port", ClusterConnection.DefaultGatewayPort, "localhost clustering: the gateway port of a node"), TlsOption());
        var json = CliOptions.Flag("--json", "print JSON instead of a table");
        var command = new Command("status", "list the cluster's nodes and their devices") { cluster, gateway, tlsCert, json };
        command.SetAction(parse => WithCluster(parse.GetRequiredValue(cluster), parse.GetValue(gateway), parse.GetValue(tlsCert), async client =>
        {
            var nodes = await client.GetNodesAsync();
            if (parse.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(nodes, Json));
                return ExitCodes.Success;
            }
            Console.WriteLine($"{nodes.Count} node(s)");
            foreach (var n in nodes)
            {
                Console.WriteLine($"{n.Name}: process {n.ProcessId}, {n.ProcessorCount} cores, {n.AvailableMemoryBytes >> 20} MiB available, fingerprint {n.MachineFingerprint ?? "(no probe)"}, " +
                                  $"{n.StoredModels.Count} model(s) stored");
                if (n.UnavailableReason is { } reason) Console.WriteLine("  UNAVAILABLE: " + reason);
                Console.WriteLine("  runtimes: " + string.Join(", ", n.BackendVersions.Select(kv => $"{kv.Key} {kv.Value}")));
                foreach (var d in n.Devices)
                    Console.WriteLine($"  {d.Id,-18} {d.Kind.ToLowerInvariant(),-6} {(d.IsAvailable ? "yes" : "no"),-3} {d.Name}{(d.IsAvailable ? "" : ": " + d.UnavailableReason)}");
            }
            return ExitCodes.Success;
        }));
        return command;
    }

    private static Command CreateRun()
    {
        var model = CliOptions.PathArgument("MODEL", PathKind.ExistingFile, "the model (.onnx or .tflite)");
        var (cluster, gateway, tlsCert) = (ClusterOption(), Port("--gateway-port", ClusterConnection.DefaultGatewayPort, "localhost clustering: the gateway port of a node"), TlsOption());
        var policy = CliOptions.Choice("--policy", SelectCommand.Policies, SelectionPolicy.LowestLatency, "latency: the best node; throughput: data parallel when it measures faster");
        var inputs = CliOptions.PathsOption("--input", "F.pb", PathKind.ExistingFile, "an input as an ONNX TensorProto file; without any, fixed-seed inputs");
        var outputDir = CliOptions.PathOption("--output-dir", "DIR", PathKind.OutputDirectory, "write output_0.pb, output_1.pb, ... here");
        var nodes = CliOptions.TextsOption("--node", "N", "use only this node");
        var backend = CliOptions.TextsOption("--backend", "NAME|DEVICE", "devices or backends the nodes may use");
        var autotune = CliOptions.Flag("--autotune", "each node places the model layer by layer over its devices, reusing a plan a node of the same fingerprint tuned");
        var split = CliOptions.Flag("--split", "latency policy: also measure the model cut over two nodes (links and per-layer profiles measured), kept when faster");
        var command = new Command("run", "place MODEL on the cluster by measurement and run it once")
        {
            model, cluster, gateway, tlsCert, policy, inputs, outputDir, nodes, backend, autotune, split,
        };
        command.SetAction(parse => WithCluster(parse.GetRequiredValue(cluster), parse.GetValue(gateway), parse.GetValue(tlsCert), async client =>
        {
            var path = parse.GetRequiredValue(model);
            var given = CommandInputs.ReadOrNull(Model.Load(path), parse.GetValue(inputs) ?? []);
            var options = new ClusterSelectOptions
            {
                Policy = parse.GetValue(policy),
                Nodes = parse.GetValue(nodes) is { Length: > 0 } n ? n : null,
                Candidates = parse.GetValue(backend) is { Length: > 0 } b ? b : null,
                SampleInputs = given,
                Autotune = parse.GetValue(autotune),
                ConsiderSplits = parse.GetValue(split),
            };
            var progress = new Progress<ClusterProgress>(p => Console.Error.WriteLine($"accelsdk: {p.Stage}{(p.Node is null ? "" : " " + p.Node)}: {p.Message}"));
            await using var session = await client.SelectAsync(path, options, progress);
            var outputs = await session.RunAsync(given ?? LocalInputs(path));
            Console.WriteLine($"{Path.GetFileName(path)} on node {outputs.Node} ({session.Selection.Placement})");
            var outDir = parse.GetValue(outputDir);
            if (outDir is not null) Directory.CreateDirectory(outDir);
            for (var i = 0; i < outputs.Count; i++)
            {
                var t = outputs[i];
                Console.WriteLine($"  output_{i} {outputs.Names[i]}: {t.ElementType.ShortName()}{TensorShape.Format(t.Shape)} {Preview(t)}");
                if (outDir is not null) OnnxTensors.WriteFile(t, Path.Combine(outDir, $"output_{i}.pb"));
            }
            return ExitCodes.Success;
        }));
        return command;
    }

    private static Command CreateAutotune()
    {
        var model = CliOptions.PathArgument("MODEL", PathKind.ExistingFile, "the model (.onnx or .tflite)");
        var (cluster, gateway, tlsCert) = (ClusterOption(), Port("--gateway-port", ClusterConnection.DefaultGatewayPort, "localhost clustering: the gateway port of a node"), TlsOption());
        var report = CliOptions.PathOption("--report", "DIR", PathKind.OutputDirectory, "write report.json and report.html here", required: true);
        var nodes = CliOptions.TextsOption("--node", "N", "use only this node");
        var backend = CliOptions.TextsOption("--backend", "NAME|DEVICE", "devices or backends the nodes may use");
        var noSplit = CliOptions.Flag("--no-split", "do not measure links or splits: whole-model placements only");
        var command = new Command("autotune", "autotune MODEL on every node (reusing the fleet's plans), measure links and splits, keep the fastest placement and report it")
        {
            model, cluster, gateway, tlsCert, report, nodes, backend, noSplit,
        };
        command.SetAction(parse => WithCluster(parse.GetRequiredValue(cluster), parse.GetValue(gateway), parse.GetValue(tlsCert), async client =>
        {
            var path = parse.GetRequiredValue(model);
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var lines = new List<string>();
            var progress = new SynchronousProgress<ClusterProgress>(p =>
            {
                var line = $"{clock.Elapsed.TotalSeconds,6:F1}s {p.Stage}{(p.Node is null ? "" : " " + p.Node)}: {p.Message}";
                lines.Add(line);
                Console.Error.WriteLine("accelsdk: " + line);
            });
            var options = new ClusterSelectOptions
            {
                Nodes = parse.GetValue(nodes) is { Length: > 0 } n ? n : null,
                Candidates = parse.GetValue(backend) is { Length: > 0 } b ? b : null,
                Autotune = true,
                ConsiderSplits = !parse.GetValue(noSplit),
            };
            await using var session = await client.SelectAsync(path, options, progress);
            var (json, html) = Cluster.Reporting.ClusterReport.Write(parse.GetRequiredValue(report)!, path, session.Selection, await client.GetNodesAsync(), lines);
            var selection = session.Selection;
            Console.WriteLine($"{Path.GetFileName(path)}: {selection.Placement} ({string.Join(", ", selection.Weights.Where(w => w.Value > 0).Select(w => w.Key))})" +
                (selection.KeptMeasuredMs is { } ms ? $", measured {ms:F1} ms, predicted {selection.KeptPredictedMs:F1} ms" : ""));
            foreach (var m in selection.Nodes)
                Console.WriteLine($"  {m.Node}: {m.Device ?? m.Error}, plan: {Cluster.Reporting.ClusterReport.DescribeTuning(m.TuningSource)}");
            Console.WriteLine($"report: {json}");
            Console.WriteLine($"report: {html}");
            return ExitCodes.Success;
        }));
        return command;
    }

    /// <summary>Reports on the calling thread, in order (Progress&lt;T&gt; posts to the thread pool).</summary>
    private sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
    {
        private readonly object _gate = new();

        public void Report(T value)
        {
            lock (_gate) report(value);
        }
    }

    private static IReadOnlyDictionary<string, AccelTensor> LocalInputs(string path) => Execution.SampleInputs.Random(Model.Load(path));

    private static int WithCluster(ClusterConnection cluster, int gatewayPort, string? tlsCert, Func<AccelCluster, Task<int>> action)
    {
        using var certificate = LoadCertificate(tlsCert);
        return RunAsync().GetAwaiter().GetResult();

        async Task<int> RunAsync()
        {
            AccelCluster client;
            using (var connect = new CancellationTokenSource(ConnectTimeout))
            {
                try
                {
                    client = await AccelCluster.ConnectAsync(new AccelClusterOptions { Cluster = cluster, GatewayPort = gatewayPort, Certificate = certificate }, connect.Token);
                }
                catch (OperationCanceledException)
                {
                    throw new AccelSdkException($"could not connect to the cluster at {cluster} within {ConnectTimeout.TotalSeconds:0} s " +
                        "(no node running there, or the cluster uses TLS and --tls-cert is missing or another certificate)");
                }
            }
            await using (client) return await action(client);
        }
    }

    private static X509Certificate2? LoadCertificate(string? path) =>
        path is null ? null : ClusterSecurity.Load(path, Environment.GetEnvironmentVariable("ACCELSDK_CLUSTER_CERT_PASSWORD"));

    private static Option<ClusterConnection> ClusterOption() => new("--cluster")
    {
        Description = "membership: localhost[:PRIMARY_SILO_PORT] (one machine) or redis:HOST:PORT (several processes or machines)",
        HelpName = "CONNECTION",
        DefaultValueFactory = _ => ClusterConnection.Localhost,
        CustomParser = result =>
        {
            try
            {
                return ClusterConnection.Parse(result.Tokens[0].Value);
            }
            catch (Exception e) when (e is ArgumentException or StackExchange.Redis.RedisException)
            {
                result.AddError("--cluster " + e.Message);
                return ClusterConnection.Localhost;
            }
        },
    };

    private static Option<System.Net.IPAddress?> AddressOption() => new("--address")
    {
        Description = "redis clustering: the address the node listens on and advertises (default 127.0.0.1)",
        HelpName = "IP",
        CustomParser = result =>
        {
            var text = result.Tokens[0].Value;
            if (System.Net.IPAddress.TryParse(text, out var ip)) return ip;
            result.AddError($"--address '{text}' is not an IP address");
            return null;
        },
    };

    private static Option<int?> ThreadsOption() => new("--threads")
    {
        Description = "threads per operator in every session of the node (default: the cores this process may run on, e.g. under taskset; 0: each backend decides)",
        HelpName = "N",
        CustomParser = result =>
        {
            var text = result.Tokens[0].Value;
            if (int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n >= 0) return n;
            result.AddError($"--threads '{text}' is not a whole number of 0 or more");
            return null;
        },
    };

    private static Option<string?> TlsOption() => CliOptions.PathOption("--tls-cert", "F", PathKind.ExistingFile,
        "the cluster certificate (PKCS#12 with its private key; password in $ACCELSDK_CLUSTER_CERT_PASSWORD): TLS, and only peers with it are accepted");

    private static Option<int> Port(string name, int defaultValue, string description) => new(name)
    {
        Description = $"{description} (default {defaultValue})",
        HelpName = "PORT",
        DefaultValueFactory = _ => defaultValue,
        CustomParser = result =>
        {
            var text = result.Tokens[0].Value;
            if (int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n is > 0 and < 65536) return n;
            result.AddError($"{name} '{text}' is not a port number (1-65535)");
            return defaultValue;
        },
    };

    private static string Preview(AccelTensor t)
    {
        if (t.ElementCount == 0) return "(empty)";
        var n = (int)Math.Min(5, t.ElementCount);
        return "[" + string.Join(", ", Enumerable.Range(0, n).Select(i => t.GetAsDouble(i).ToString("G6", CultureInfo.InvariantCulture))) + (t.ElementCount > n ? ", ..." : "") + "]";
    }
}
