using System.Globalization;
using System.Text.Json;
using AccelSdk;
using AccelSdk.Backends;
using AccelSdk.Cli;
using AccelSdk.Diagnostics;
using AccelSdk.Execution;
using AccelSdk.Ir;
using AccelSdk.Onnx;
using AccelSdk.Onnx.Conformance;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
AccelSdkDiagnostics.Warning += message => Console.Error.WriteLine("accelsdk: warning: " + message);
return Cli.Execute(args);

namespace AccelSdk.Cli
{
    internal static class Cli
    {
        private const string Usage = """
            usage: accelsdk <command> [options]
              devices [--json]                               list backends and devices of this machine
              select MODEL [--json] [--policy P] [--input F.pb ...]
                                                             measure MODEL on every device; P = latency|throughput|cpu|gpu
              run MODEL [--backend NAME] [--input F.pb ...] [--output-dir DIR]
                                                             run once; inputs/outputs as ONNX TensorProto files
              convert MODEL OUT.onnx                         write MODEL (.tflite or .onnx) as an ONNX model plain ONNX Runtime runs
              conformance DATA_ROOT --backend NAME [--csv FILE] [--expected FILE] [--suite S ...] [--filter TEXT]
                                                             run the ONNX backend test suite through AccelSdk
            """ + "\n" + AutotuneCommand.Usage + "\n" + OptimizeCommands.Usage;

        private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

        public static int Execute(string[] args)
        {
            if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
            {
                Console.WriteLine(Usage);
                return args.Length == 0 ? 2 : 0;
            }
            try
            {
                var command = args[0];
                var rest = args.Skip(1);
                return command switch
                {
                    "devices" => Devices(new CommandLine(rest, new HashSet<string> { "json" })),
                    "select" => Select(new CommandLine(rest, new HashSet<string> { "json" })),
                    "run" => Run(new CommandLine(rest, new HashSet<string>())),
                    "conformance" => Conformance(new CommandLine(rest, new HashSet<string>())),
                    "convert" => Convert(new CommandLine(rest, new HashSet<string>())),
                    "autotune" => AutotuneCommand.Run(new CommandLine(rest, new HashSet<string> { "no-cache", "retune" }), ParsePolicy),
                    "quantize" => OptimizeCommands.Quantize(new CommandLine(rest, OptimizeCommands.QuantizeFlags)),
                    "prune" => OptimizeCommands.Prune(new CommandLine(rest, OptimizeCommands.PruneFlags)),
                    _ => throw new UsageException($"unknown command '{command}'"),
                };
            }
            catch (UsageException e)
            {
                Console.Error.WriteLine($"accelsdk: error: {e.Message}");
                Console.Error.WriteLine(Usage);
                return 2;
            }
            catch (AccelSdkException e)
            {
                Console.Error.WriteLine($"accelsdk: error: {e.Message.ReplaceLineEndings(" ")}");
                return 1;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine($"accelsdk: error: {e.Message.ReplaceLineEndings(" ")}");
                return 1;
            }
        }

        private static int Devices(CommandLine cl)
        {
            var json = cl.Flag("json");
            cl.RejectUnknown();
            var backends = BackendRegistry.All;
            var host = new
            {
                os = System.Runtime.InteropServices.RuntimeInformation.OSDescription,
                architecture = System.Runtime.InteropServices.RuntimeInformation.OSArchitecture.ToString(),
                logical_cores = Environment.ProcessorCount,
                dotnet = Environment.Version.ToString(),
            };
            var devices = backends.SelectMany(b => b.Devices.Select(d => new
            {
                id = d.Id,
                backend = d.Backend,
                backend_version = b.Version,
                name = d.Name,
                kind = d.Kind.ToString().ToLowerInvariant(),
                memory_space = d.MemorySpace,
                available = d.IsAvailable,
                unavailable_reason = d.UnavailableReason,
                properties = d.Properties,
            })).ToArray();
            var machine = AccelSdk.Native.DeviceProbe.Current;
            if (json)
            {
                Console.WriteLine(JsonSerializer.Serialize(new
                {
                    host,
                    probe = machine is null ? null : new { fingerprint = machine.Fingerprint, cpu = machine.Cpu, opencl = machine.OpenCl, cuda = machine.Cuda },
                    probe_unavailable_reason = AccelSdk.Native.DeviceProbe.UnavailableReason,
                    devices,
                }, Json));
                return 0;
            }
            Console.WriteLine($"host: {host.os}, {host.architecture}, {host.logical_cores} logical cores, .NET {host.dotnet}");
            PrintMachine(machine);
            Console.WriteLine($"{"DEVICE",-18} {"KIND",-6} {"AVAILABLE",-9} NAME");
            foreach (var d in devices)
            {
                Console.WriteLine($"{d.id,-18} {d.kind,-6} {(d.available ? "yes" : "no"),-9} {d.name} [{d.backend} {d.backend_version}]");
                if (!d.available) Console.WriteLine($"{"",-18} reason: {d.unavailable_reason}");
            }
            return 0;
        }

        private static void PrintMachine(AccelSdk.Native.MachineProfile? machine)
        {
            if (machine is null)
            {
                Console.WriteLine($"probe: unavailable: {AccelSdk.Native.DeviceProbe.UnavailableReason}");
                return;
            }
            var cpu = machine.Cpu;
            static string Size(long bytes) => bytes >= 1 << 20 ? $"{bytes >> 20} MiB" : bytes > 0 ? $"{bytes >> 10} KiB" : "?";
            Console.WriteLine($"cpu: {cpu.Vendor} {cpu.Model} ({cpu.Architecture}), {cpu.PhysicalCores} physical / {cpu.LogicalCores} logical cores, " +
                              $"{cpu.Packages} package(s), {cpu.NumaNodes} NUMA node(s)");
            Console.WriteLine($"caches: L1d {Size(cpu.Caches.L1DataBytes)}, L1i {Size(cpu.Caches.L1InstructionBytes)}, " +
                              $"L2 {Size(cpu.Caches.L2Bytes)} x{cpu.Caches.L2Instances}, L3 {Size(cpu.Caches.L3Bytes)} x{cpu.Caches.L3Instances}");
            Console.WriteLine($"isa: {string.Join(' ', cpu.FeatureNames)}");
            foreach (var api in new[] { machine.OpenCl, machine.Cuda })
            {
                Console.WriteLine($"{api.Api}: {(api.IsAvailable ? "" : "unavailable: ")}{api.Message}");
                foreach (var d in api.Devices)
                {
                    Console.WriteLine($"  [{d.PlatformIndex}.{d.DeviceIndex}] {d.Name} ({d.Type.ToString().ToLowerInvariant()}, {d.Platform}, {d.Version}), " +
                                      $"{d.ComputeUnits} compute units, {d.MaxClockMhz} MHz, {d.GlobalMemoryBytes >> 20} MiB, driver {d.DriverVersion}");
                }
            }
            Console.WriteLine($"fingerprint: {machine.Fingerprint}");
        }

        private static int Select(CommandLine cl)
        {
            var path = cl.Positional(0, "MODEL");
            var json = cl.Flag("json");
            var policy = ParsePolicy(cl.Option("policy"));
            var inputFiles = cl.Options("input");
            cl.RejectUnknown();
            var model = Model.Load(path);
            var options = new SelectOptions
            {
                Policy = policy,
                SampleInputs = inputFiles.Count > 0 ? OnnxTensors.ReadInputs(model, inputFiles) : null,
            };
            using var session = Accelerator.Select(model, options);
            var report = session.Selection!;
            if (json)
            {
                Console.WriteLine(JsonSerializer.Serialize(new
                {
                    model = path,
                    policy = report.Policy.ToString(),
                    chosen = report.Chosen.Id,
                    candidates = report.Candidates.Select(c => new
                    {
                        device = c.Device.Id,
                        median_ms = c.MedianMs,
                        throughput_per_s = c.ThroughputPerSecond,
                        compile_ms = c.CompileMs,
                        error = c.Error,
                    }),
                }, Json));
                return 0;
            }
            Console.WriteLine($"{model.Label}: policy {report.Policy}, {report.Candidates.Count} candidate(s)");
            foreach (var c in report.Candidates)
            {
                var measured = c.MedianMs is { } ms ? $"median {ms:F3} ms, compile {c.CompileMs:F1} ms" + (c.ThroughputPerSecond is { } t ? $", {t:F1}/s" : "") : "not run: " + c.Error;
                Console.WriteLine($"  {(c.Device == report.Chosen ? "*" : " ")} {c.Device.Id,-18} {measured}");
            }
            Console.WriteLine($"selected: {report.Chosen.Id}");
            return 0;
        }

        private static int Run(CommandLine cl)
        {
            var path = cl.Positional(0, "MODEL");
            var backendName = cl.Option("backend");
            var inputFiles = cl.Options("input");
            var outputDir = cl.Option("output-dir");
            cl.RejectUnknown();
            var model = Model.Load(path);
            var inputs = inputFiles.Count > 0 ? OnnxTensors.ReadInputs(model, inputFiles) : SampleInputs.Random(model);
            AccelSession session;
            if (backendName is null)
            {
                session = Accelerator.Select(model, new SelectOptions { SampleInputs = inputs, MeasuredRuns = 3, WarmupRuns = 1 });
            }
            else
            {
                var (backend, device) = BackendRegistry.Resolve(backendName);
                session = new AccelSession(GraphPartitioner.WholeModel(model, backend, device));
            }
            using (session)
            {
                var outputs = session.Run(inputs);
                Console.WriteLine($"{model.Label} on {string.Join("+", session.Plan.Devices.Select(d => d.Id))}");
                if (outputDir is not null) Directory.CreateDirectory(outputDir);
                for (var i = 0; i < outputs.Count; i++)
                {
                    Console.WriteLine($"  output_{i} {outputs.Names[i]}: {outputs[i].ElementType.ShortName()}{TensorShape.Format(outputs[i].Shape)} {Preview(outputs[i])}");
                    if (outputDir is not null) OnnxTensors.WriteFile(outputs[i], Path.Combine(outputDir, $"output_{i}.pb"));
                }
            }
            return 0;
        }

        private static int Conformance(CommandLine cl)
        {
            var root = cl.Positional(0, "DATA_ROOT");
            var backendName = cl.Option("backend") ?? throw new UsageException("conformance needs --backend NAME");
            var csv = cl.Option("csv");
            var expectedPath = cl.Option("expected");
            var suites = cl.Options("suite");
            var filter = cl.Option("filter");
            cl.RejectUnknown();
            var (backend, device) = BackendRegistry.Resolve(backendName);
            var expected = expectedPath is null ? null : ConformanceRunner.ReadExpectedFailures(expectedPath);
            var runner = new ConformanceRunner(backend, device);
            var done = 0;
            var report = runner.Run(root, expected, suites.Count > 0 ? suites : null, filter, r =>
            {
                if (++done % 100 == 0) Console.Error.WriteLine($"accelsdk: {done} cases...");
            });
            if (csv is not null) report.WriteCsv(csv);
            var counts = report.Counts;
            Console.WriteLine($"conformance on {device.Id}: {report.Results.Count} cases: {counts[CaseStatus.Pass]} pass, {counts[CaseStatus.Fail]} fail, {counts[CaseStatus.Error]} error, {counts[CaseStatus.Skip]} skip, {counts[CaseStatus.NotClaimed]} not claimed");
            if (expected is not null)
            {
                foreach (var r in report.UnexpectedFailures) Console.WriteLine($"  UNEXPECTED {r.Status.ToString().ToLowerInvariant()}: {r.Key}: {r.Reason}");
                foreach (var r in report.UnexpectedPasses) Console.WriteLine($"  unexpected pass (remove from {expectedPath}): {r.Key}");
                if (report.UnexpectedFailures.Count > 0)
                {
                    Console.Error.WriteLine($"accelsdk: error: {report.UnexpectedFailures.Count} case(s) failed that the expected-failure list does not name");
                    return 1;
                }
            }
            return 0;
        }

        private static int Convert(CommandLine cl)
        {
            var input = cl.Positional(0, "MODEL");
            var output = cl.Positional(1, "OUT.onnx");
            cl.RejectUnknown();
            var bytes = input.EndsWith(".tflite", StringComparison.OrdinalIgnoreCase)
                ? AccelSdk.TfLite.Import.TfLiteConverter.ToOnnxBytes(input)
                : OnnxExporter.ToBytes(Model.Load(input));
            File.WriteAllBytes(output, bytes);
            Console.WriteLine($"{Path.GetFileName(input)} -> {output} ({bytes.Length} bytes)");
            return 0;
        }

        private static SelectionPolicy ParsePolicy(string? value) => value?.ToLowerInvariant() switch
        {
            null or "latency" => SelectionPolicy.LowestLatency,
            "throughput" => SelectionPolicy.HighestThroughput,
            "cpu" => SelectionPolicy.PreferCpu,
            "gpu" => SelectionPolicy.PreferGpu,
            _ => throw new UsageException($"unknown policy '{value}' (latency, throughput, cpu, gpu)"),
        };

        private static string Preview(Tensor t)
        {
            if (t.ElementCount == 0) return "(empty)";
            var n = (int)Math.Min(5, t.ElementCount);
            var values = t.IsString ? t.Strings.Take(n).Select(s => $"\"{s}\"") : Enumerable.Range(0, n).Select(i => t.GetAsDouble(i).ToString("G6", CultureInfo.InvariantCulture));
            return "[" + string.Join(", ", values) + (t.ElementCount > n ? ", ..." : "") + "]";
        }
    }
}
