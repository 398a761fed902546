using System.CommandLine;
using System.Text.Json;
using AccelSdk.Backends;
using AccelSdk.Native;

namespace AccelSdk.Cli;

/// <summary><c>accelsdk devices [--json]</c>: the backends and devices of this machine, and what the probe sees.</summary>
internal static class DevicesCommand
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public static Command Create()
    {
        var json = CliOptions.Flag("--json", "print JSON instead of a table");
        var command = new Command("devices", "list the backends and devices of this machine") { json };
        command.SetAction(parse => List(parse.GetValue(json)));
        return command;
    }

    private static int List(bool json)
    {
        var host = new
        {
            os = System.Runtime.InteropServices.RuntimeInformation.OSDescription,
            architecture = System.Runtime.InteropServices.RuntimeInformation.OSArchitecture.ToString(),
            logical_cores = Environment.ProcessorCount,
            dotnet = Environment.Version.ToString(),
        };
        var devices = CliRuntime.Instance.Backends.SelectMany(b => b.Devices.Select(d => new
        {
            id = d.Id,
            backend = d.Backend,
            backend_version = b.Version,
            name = d.Name,
            kind = d.Kind.ToString().ToLowerInvariant(),
            memory_space = d.MemorySpace.Name,
            available = d.IsAvailable,
            unavailable_reason = d.UnavailableReason,
            properties = d.Properties,
        })).ToArray();
        var machine = DeviceProbe.Current;
        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(new
            {
                host,
                probe = machine is null ? null : new { fingerprint = machine.Fingerprint, cpu = machine.Cpu, opencl = machine.OpenCl, cuda = machine.Cuda },
                probe_unavailable_reason = DeviceProbe.UnavailableReason,
                devices,
            }, Json));
            return ExitCodes.Success;
        }
        Console.WriteLine($"host: {host.os}, {host.architecture}, {host.logical_cores} logical cores, .NET {host.dotnet}");
        PrintMachine(machine);
        Console.WriteLine($"{"DEVICE",-18} {"KIND",-6} {"AVAILABLE",-9} NAME");
        foreach (var d in devices)
        {
            Console.WriteLine($"{d.id,-18} {d.kind,-6} {(d.available ? "yes" : "no"),-9} {d.name} [{d.backend} {d.backend_version}]");
            if (!d.available) Console.WriteLine($"{"",-18} reason: {d.unavailable_reason}");
        }
        return ExitCodes.Success;
    }

    private static void PrintMachine(MachineProfile? machine)
    {
        if (machine is null)
        {
            Console.WriteLine($"probe: unavailable: {DeviceProbe.UnavailableReason}");
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
}
