using AccelSdk.Backends;
using ILGPU;
using ILGPU.Runtime;
using Device = AccelSdk.Backends.Device;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;
using ILGPU.Runtime.OpenCL;
using Microsoft.Extensions.Logging;

namespace AccelSdk.Ilgpu.Runtime;

using Accelerator = ILGPU.Runtime.Accelerator;

/// <summary>
/// Finds the ILGPU accelerators of this machine: the CPU accelerator always, CUDA GPUs when the driver is there, and
/// OpenCL devices only when <c>ACCELSDK_ILGPU_OPENCL=1</c> (each in its own ILGPU context, so a failing OpenCL
/// runtime cannot disturb the others). A device ILGPU refuses is listed as unavailable with ILGPU's reason.
/// <c>ACCELSDK_ILGPU_OPENCL=pocl-compat</c> additionally applies <see cref="PoclCompatibility"/> to PoCL devices.
/// </summary>
internal static class DeviceDiscovery
{
    public const string OpenClOptIn = "ACCELSDK_ILGPU_OPENCL";

    public static List<(IlgpuDeviceSlot? Slot, Device Device)> Discover(List<Context> contexts, string? openClOptIn, ILogger logger)
    {
        var found = new List<(IlgpuDeviceSlot?, Device)>();
        found.Add(Cpu(contexts));
        found.AddRange(Cuda(contexts, logger));
        found.AddRange(OpenCl(contexts, openClOptIn));
        return found;
    }

    /// <summary>
    /// The CPU accelerator with one simulated multiprocessor per core and two threads per warp (the smallest warp ILGPU
    /// accepts): the kernels here use no barriers, so more simulated threads would only add context switches.
    /// </summary>
    private static (IlgpuDeviceSlot, Device) Cpu(List<Context> contexts)
    {
        var cpuDevice = new CPUDevice(2, 1, Math.Max(1, Environment.ProcessorCount));
        var context = Context.Create(b => b.CPU(cpuDevice).EnableAlgorithms().Optimize(OptimizationLevel.O2));
        contexts.Add(context);
        var device = new Device("ilgpu", "ilgpu-cpu", $"ILGPU CPU accelerator ({Environment.ProcessorCount} threads)", DeviceKind.Cpu, MemorySpace.BackendPrivate("ilgpu-cpu", hostAddressable: true))
        {
            Properties = new Dictionary<string, string>
            {
                ["ilgpu.version"] = IlgpuBackend.IlgpuVersion,
                ["accelerator"] = "CPU (simulator)",
                ["threads"] = cpuDevice.NumThreads.ToString(System.Globalization.CultureInfo.InvariantCulture),
            },
        };
        var slot = new IlgpuDeviceSlot(device, () => context.GetCPUDevice(0).CreateCPUAccelerator(context, CPUAcceleratorMode.Parallel));
        return (slot, device);
    }

    private static IEnumerable<(IlgpuDeviceSlot?, Device)> Cuda(List<Context> contexts, ILogger logger)
    {
        Context? context;
        try
        {
            context = Context.Create(b => b.Cuda().EnableAlgorithms().Optimize(OptimizationLevel.O2));
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            logger.LogWarning("{Warning}", $"ilgpu: CUDA could not be probed: {e.Message}");
            yield break;
        }
        contexts.Add(context);
        var cudaDevices = new List<CudaDevice>();
        foreach (var d in context.GetCudaDevices()) cudaDevices.Add(d);
        for (var i = 0; i < cudaDevices.Count; i++)
        {
            var cuda = cudaDevices[i];
            var id = $"ilgpu-cuda:{i}";
            var properties = new Dictionary<string, string>
            {
                ["ilgpu.version"] = IlgpuBackend.IlgpuVersion,
                ["accelerator"] = "CUDA",
                ["memory"] = cuda.MemorySize.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["architecture"] = cuda.Architecture?.ToString() ?? "unknown",
                ["driver"] = cuda.DriverVersion.ToString(),
            };
            if (cuda.Architecture is null || cuda.InstructionSet is null)
            {
                yield return (null, new Device("ilgpu", id, cuda.Name, DeviceKind.Gpu, MemorySpace.CudaDevice(cuda.DeviceId, id))
                {
                    IsAvailable = false,
                    UnavailableReason = "ILGPU 1.5.3 knows no PTX architecture/instruction set for this GPU and driver",
                    Properties = properties,
                });
                continue;
            }
            var device = new Device("ilgpu", id, cuda.Name, DeviceKind.Gpu, MemorySpace.CudaDevice(cuda.DeviceId, id)) { Properties = properties };
            var captured = cuda;
            yield return (new IlgpuDeviceSlot(device, () => captured.CreateCudaAccelerator(context)), device);
        }
    }

    private static string? ProbeOpenCl(Context context, CLDevice device)
    {
        try
        {
            using var accelerator = device.CreateCLAccelerator(context);
            var kernel = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>>(ProbeKernel);
            using var buffer = accelerator.Allocate1D<float>(4);
            kernel(4, buffer.View);
            accelerator.Synchronize();
            var values = buffer.GetAsArray1D();
            return values[3] == 3f ? null : $"ILGPU's probe kernel computed {values[3]} instead of 3 on this device";
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return $"ILGPU refused the device: {e.GetType().Name}: {e.Message.ReplaceLineEndings(" ")}";
        }
    }

    private static void ProbeKernel(Index1D i, ArrayView<float> data) => data[i] = i;

    private static IEnumerable<(IlgpuDeviceSlot?, Device)> OpenCl(List<Context> contexts, string? optIn)
    {
        if (optIn != "1" && optIn != PoclCompatibility.OptInValue) yield break;
        var poclCompat = optIn == PoclCompatibility.OptInValue;
        var result = new List<(IlgpuDeviceSlot?, Device)>();
        try
        {
            // ILGPU lists only devices it accepts; all other OpenCL devices are reported with its acceptance rule.
            var context = Context.Create(b => b.OpenCL(_ => true).EnableAlgorithms().Optimize(OptimizationLevel.O2));
            contexts.Add(context);
            var accepted = context.GetCLDevices();
            for (var i = 0; i < accepted.Count; i++)
            {
                var cl = accepted[i];
                var id = $"ilgpu-opencl:{i}";
                var properties = new Dictionary<string, string>
                {
                    ["ilgpu.version"] = IlgpuBackend.IlgpuVersion,
                    ["accelerator"] = "OpenCL",
                    ["platform"] = cl.PlatformName,
                    ["opencl.c"] = cl.CVersion.ToString(),
                };
                var kind = cl.DeviceType == CLDeviceType.CL_DEVICE_TYPE_GPU ? DeviceKind.Gpu : cl.DeviceType == CLDeviceType.CL_DEVICE_TYPE_CPU ? DeviceKind.Cpu : DeviceKind.Accelerator;
                var name = $"{cl.Name} ({cl.PlatformName})";
                // ILGPU lists some devices it cannot use (e.g. OpenCL C 1.2 without the generic address space): only a
                // device on which ILGPU creates an accelerator and compiles a kernel is offered; the others keep ILGPU's words.
                string? refusal = null;
                if (PoclCompatibility.Applies(cl))
                {
                    if (poclCompat)
                    {
                        refusal = PoclCompatibility.Enable(cl);
                        properties[PoclCompatibility.PropertyName] = PoclCompatibility.Description;
                    }
                }
                refusal ??= ProbeOpenCl(context, cl);
                if (refusal is not null && PoclCompatibility.Applies(cl) && !poclCompat)
                {
                    refusal += $" ({OpenClOptIn}={PoclCompatibility.OptInValue} enables AccelSdk's isolated PoCL workaround)";
                }
                if (refusal is not null)
                {
                    result.Add((null, new Device("ilgpu", id, name, kind, MemorySpace.OpenCl(id)) { IsAvailable = false, UnavailableReason = refusal, Properties = properties }));
                    continue;
                }
                var device = new Device("ilgpu", id, name, kind, MemorySpace.OpenCl(id)) { Properties = properties };
                var captured = cl;
                result.Add((new IlgpuDeviceSlot(device, () => captured.CreateCLAccelerator(context)), device));
            }
            if (accepted.Count == 0)
            {
                result.Add((null, new Device("ilgpu", "ilgpu-opencl:0", "OpenCL", DeviceKind.Accelerator, MemorySpace.OpenCl("ilgpu-opencl:0"))
                {
                    IsAvailable = false,
                    UnavailableReason = "ILGPU found no usable OpenCL device: it needs libOpenCL.so (package ocl-icd-opencl-dev) and " +
                        "a device with OpenCL C 2.0 and the generic address space (PoCL 3.1 in Debian 12 offers OpenCL C 1.2, which ILGPU filters out)",
                }));
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            result.Add((null, new Device("ilgpu", "ilgpu-opencl:0", "OpenCL", DeviceKind.Accelerator, MemorySpace.OpenCl("ilgpu-opencl:0"))
            {
                IsAvailable = false,
                UnavailableReason = $"ILGPU could not open OpenCL: {e.Message}",
            }));
        }
        foreach (var r in result) yield return r;
    }
}
