using System.Globalization;
using AccelSdk.Backends;
using Microsoft.Extensions.Logging;
using Microsoft.ML.OnnxRuntime;

namespace AccelSdk.OnnxRuntime;

/// <summary>
/// Devices from ONNX Runtime's own device API: one AccelSdk device per (execution provider, hardware device) pair that
/// <see cref="OrtEnv.GetEpDevices"/> reports. Providers built as provider-bridge libraries with an EP factory (CUDA)
/// are registered first so that ORT enumerates their devices; a provider whose library cannot be registered is
/// reported unavailable with ORT's message. Only providers ORT's device discovery does not cover on Linux
/// (<see cref="ProbedProviders"/>) keep a start-up probe.
/// </summary>
public sealed partial class OrtBackend
{
    /// <summary>
    /// Prefix of the compile settings that are execution-provider options: <c>ort.ep.TARGET.OPTION</c>, where TARGET is
    /// a device id (<c>ort-cuda:1</c>), a provider name (<c>CUDAExecutionProvider</c>) or its short name (<c>cuda</c>).
    /// A device id wins over its provider's name. Pass them in <see cref="CompileOptions.Settings"/>
    /// (<c>SelectOptions.Compile</c>) or with the CLI's <c>--ep-option TARGET.OPTION=VALUE</c>.
    /// </summary>
    public const string ProviderOptionPrefix = "ort.ep.";

    /// <summary>The compile-settings key of one execution-provider option (see <see cref="ProviderOptionPrefix"/>).</summary>
    public static string ProviderOptionKey(string target, string option)
    {
        ArgumentException.ThrowIfNullOrEmpty(target);
        ArgumentException.ThrowIfNullOrEmpty(option);
        if (target.Contains('.', StringComparison.Ordinal)) throw new ArgumentException($"execution provider target '{target}' must not contain '.'", nameof(target));
        return ProviderOptionPrefix + target + "." + option;
    }

    /// <summary>Provider-bridge libraries that carry an EP factory, so that ORT's device discovery covers their provider once registered.</summary>
    private static readonly Dictionary<string, string> BridgeLibraries = new(StringComparer.Ordinal)
    {
        ["CUDAExecutionProvider"] = "libonnxruntime_providers_cuda.so",
    };

    /// <summary>
    /// Providers ORT's device discovery does not cover on Linux (their libraries have no EP factory), started by a probe
    /// through the provider-specific append call: TensorRT (one device per GPU the CUDA provider lists, else GPU 0),
    /// ROCm and oneDNN.
    /// </summary>
    internal static readonly IReadOnlySet<string> ProbedProviders = new HashSet<string>(StringComparer.Ordinal)
    {
        "TensorrtExecutionProvider", "ROCMExecutionProvider", "DnnlExecutionProvider",
    };

    private static readonly object RegistrationGate = new();

    /// <summary>Per provider, ORT's message when registering its library failed (registration is process-wide, done once).</summary>
    private static readonly Dictionary<string, string?> Registrations = new(StringComparer.Ordinal);

    /// <summary>How a device is added to a session: its EP device, or a probed provider's append call.</summary>
    /// <param name="Provider">The execution provider's name.</param>
    /// <param name="EpDevice">The EP device appended to sessions, or null for a probed provider.</param>
    /// <param name="Append">A probed provider's append call, or null.</param>
    /// <param name="MemoryDevice">The EP device whose memory holds the device's tensors (CUDA's for TensorRT), or null in host memory.</param>
    private sealed record ProviderTarget(string Provider, OrtEpDevice? EpDevice, Action<SessionOptions, IReadOnlyDictionary<string, string>>? Append, OrtEpDevice? MemoryDevice = null);

    private readonly Dictionary<string, ProviderTarget> _targets = new(StringComparer.Ordinal);

    /// <summary>The devices of <paramref name="providers"/> (what <see cref="OrtEnv.GetAvailableProviders"/> lists), in that order.</summary>
    internal Device[] DiscoverDevices(OrtEnv env, IReadOnlyList<string> providers)
    {
        var failures = RegisterBridgeLibraries(env, providers);
        var epDevices = env.GetEpDevices();
        var devices = new List<Device>();
        foreach (var provider in providers)
        {
            var own = epDevices.Where(d => d.EpName == provider).ToArray();
            if (own.Length > 0)
            {
                for (var i = 0; i < own.Length; i++) devices.Add(FromEpDevice(own[i], i, own.Length));
            }
            else if (failures.TryGetValue(provider, out var failure) && failure is not null)
            {
                devices.Add(Unavailable(provider, $"{provider} is listed by ONNX Runtime but its library failed to load: {FirstLine(failure)}"));
            }
            else if (ProbedProviders.Contains(provider))
            {
                devices.AddRange(ProbeProvider(provider, epDevices));
            }
            else
            {
                var why = BridgeLibraries.ContainsKey(provider)
                    ? $"{provider} is listed by ONNX Runtime, but ONNX Runtime's device discovery found no hardware device for it"
                    : $"{provider} is listed by ONNX Runtime, but ONNX Runtime's device discovery lists no device for it and AccelSdk has no start-up probe for it";
                devices.Add(Unavailable(provider, why));
            }
        }
        return devices.ToArray();
    }

    /// <summary>Registers the provider-bridge library of each listed provider ORT's device list does not cover yet; returns ORT's message per failure.</summary>
    private static Dictionary<string, string?> RegisterBridgeLibraries(OrtEnv env, IReadOnlyList<string> providers)
    {
        lock (RegistrationGate)
        {
            var listed = env.GetEpDevices().Select(d => d.EpName).ToHashSet(StringComparer.Ordinal);
            foreach (var provider in providers)
            {
                if (Registrations.ContainsKey(provider) || listed.Contains(provider) || !BridgeLibraries.TryGetValue(provider, out var library)) continue;
                try
                {
                    // A relative path is resolved next to libonnxruntime.so, where the package puts the bridge libraries.
                    env.RegisterExecutionProviderLibrary("accelsdk." + ShortName(provider), library);
                    Registrations[provider] = null;
                }
                catch (OnnxRuntimeException e)
                {
                    Registrations[provider] = e.Message;
                }
            }
            return new Dictionary<string, string?>(Registrations, StringComparer.Ordinal);
        }
    }

    private Device FromEpDevice(OrtEpDevice epDevice, int ordinal, int count)
    {
        var provider = epDevice.EpName;
        var hardware = epDevice.HardwareDevice;
        var epOptions = epDevice.EpOptions.Entries;
        var index = epOptions.TryGetValue("device_id", out var deviceId) ? deviceId : ordinal.ToString(CultureInfo.InvariantCulture);
        var isCpuProvider = provider == "CPUExecutionProvider";
        var id = isCpuProvider && count == 1 ? "ort-cpu" : isCpuProvider ? $"ort-cpu:{index}" : $"ort-{ShortName(provider)}:{index}";
        var kind = hardware.Type switch
        {
            OrtHardwareDeviceType.CPU => DeviceKind.Cpu,
            OrtHardwareDeviceType.GPU => DeviceKind.Gpu,
            _ => DeviceKind.Accelerator,
        };
        var properties = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["execution_provider"] = provider,
            ["ort_version"] = Version,
            ["ep_vendor"] = epDevice.EpVendor,
            ["hardware_type"] = hardware.Type.ToString(),
            ["hardware_vendor"] = hardware.Vendor,
            ["hardware_vendor_id"] = hardware.VendorId.ToString(CultureInfo.InvariantCulture),
            ["hardware_device_id"] = hardware.DeviceId.ToString(CultureInfo.InvariantCulture),
            ["discovered_by"] = "OrtEnv.GetEpDevices",
        };
        if (isCpuProvider) properties["logical_cores"] = Environment.ProcessorCount.ToString(CultureInfo.InvariantCulture);
        properties[Fp16ArithmeticProperty] = Fp16ArithmeticOf(kind);
        foreach (var (key, value) in hardware.Metadata.Entries) properties["hardware." + key] = value;
        foreach (var (key, value) in epOptions) properties["ep_option." + key] = value;
        var name = isCpuProvider
            ? "ONNX Runtime CPU execution provider"
            : $"ONNX Runtime {ShortName(provider)} execution provider ({hardware.Vendor} {hardware.Type.ToString().ToLowerInvariant()} {index})";
        var space = SpaceOf(provider, int.TryParse(index, System.Globalization.NumberStyles.None, CultureInfo.InvariantCulture, out var gpu) ? gpu : 0);
        _targets[id] = new ProviderTarget(provider, epDevice, null, space.IsHost ? null : epDevice);
        return new Device(Name, id, name, kind, space) { Properties = properties };
    }

    /// <summary>The start-up probe of a provider ORT's discovery does not cover: it is appended to a throw-away SessionOptions.</summary>
    private IEnumerable<Device> ProbeProvider(string provider, IReadOnlyList<OrtEpDevice> epDevices)
    {
        switch (provider)
        {
            case "TensorrtExecutionProvider":
                // One device per GPU the CUDA provider found (TensorRT runs what it cannot take on CUDA), else GPU 0.
                var cudaDevices = epDevices.Where(d => d.EpName == "CUDAExecutionProvider").ToArray();
                var gpus = cudaDevices.Length > 0 ? cudaDevices.Select(d => (int?)GpuIndex(d)).ToArray() : new int?[] { null };
                foreach (var (gpu, cuda) in gpus.Select((g, i) => (g ?? 0, cudaDevices.ElementAtOrDefault(i))))
                {
                    yield return Probe($"ort-tensorrt:{gpu}", $"ONNX Runtime TensorRT execution provider (GPU {gpu})", DeviceKind.Gpu, provider, cuda, (o, opts) =>
                    {
                        using var trt = new OrtTensorRTProviderOptions();
                        trt.UpdateOptions(new Dictionary<string, string>(opts) { ["device_id"] = gpu.ToString(CultureInfo.InvariantCulture) });
                        o.AppendExecutionProvider_Tensorrt(trt);
                        // The legacy call, like TensorRT's: not mixed with the EP-device API in one SessionOptions.
                        o.AppendExecutionProvider_CUDA(gpu);
                    });
                }
                break;
            case "ROCMExecutionProvider":
                yield return Probe("ort-rocm:0", "ONNX Runtime ROCm execution provider (GPU 0)", DeviceKind.Gpu, provider, null, (o, opts) => o.AppendExecutionProvider_ROCm(0), acceptsOptions: false);
                break;
            case "DnnlExecutionProvider":
                yield return Probe("ort-dnnl", "ONNX Runtime oneDNN execution provider", DeviceKind.Cpu, provider, null, (o, opts) => o.AppendExecutionProvider_Dnnl(0), acceptsOptions: false);
                break;
        }
    }

    private static int GpuIndex(OrtEpDevice cuda) =>
        cuda.EpOptions.Entries.TryGetValue("device_id", out var text) && int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var id) ? id : 0;

    /// <summary>
    /// A probed device: <paramref name="append"/> is tried once on a throw-away SessionOptions. Its tensors live in the
    /// memory of <paramref name="memoryDevice"/> (TensorRT: its GPU's CUDA EP device), or in host memory when null.
    /// </summary>
    private Device Probe(string id, string name, DeviceKind kind, string provider, OrtEpDevice? memoryDevice, Action<SessionOptions, IReadOnlyDictionary<string, string>> append, bool acceptsOptions = true)
    {
        var properties = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["execution_provider"] = provider,
            ["ort_version"] = Version,
            ["discovered_by"] = "start-up probe",
            [Fp16ArithmeticProperty] = Fp16ArithmeticOf(kind),
        };
        Action<SessionOptions, IReadOnlyDictionary<string, string>> checkedAppend = acceptsOptions ? append : (o, opts) =>
        {
            if (opts.Count > 0) throw new BackendException(BackendName, $"{id}: AccelSdk passes no options to {provider} (given: {string.Join(", ", opts.Keys)})");
            append(o, opts);
        };
        try
        {
            using var options = new SessionOptions();
            checkedAppend(options, new Dictionary<string, string>());
            var space = memoryDevice is null ? MemorySpace.Host : SpaceOf(provider, GpuIndex(memoryDevice));
            _targets[id] = new ProviderTarget(provider, null, checkedAppend, memoryDevice);
            return new Device(Name, id, name, kind, space) { Properties = properties };
        }
        catch (Exception e) when (e is OnnxRuntimeException or EntryPointNotFoundException or DllNotFoundException)
        {
            var reason = $"{provider} is listed by ONNX Runtime but failed to start: {FirstLine(e.Message)}";
            _logger.LogWarning("{Warning}", $"{id} unavailable, falling back to the CPU: {reason}");
            return new Device(Name, id, name, kind) { IsAvailable = false, UnavailableReason = reason, Properties = properties };
        }
    }

    private Device Unavailable(string provider, string reason)
    {
        var id = "ort-" + ShortName(provider);
        _logger.LogWarning("{Warning}", $"{id} unavailable: {reason}");
        var kind = provider switch
        {
            "CUDAExecutionProvider" or "TensorrtExecutionProvider" or "ROCMExecutionProvider" or "MIGraphXExecutionProvider" => DeviceKind.Gpu,
            "CPUExecutionProvider" or "DnnlExecutionProvider" => DeviceKind.Cpu,
            _ => DeviceKind.Accelerator,
        };
        return new Device(Name, id, $"ONNX Runtime {provider}", kind)
        {
            IsAvailable = false,
            UnavailableReason = reason,
            Properties = new Dictionary<string, string> { ["execution_provider"] = provider, ["ort_version"] = Version },
        };
    }

    /// <summary><c>CUDAExecutionProvider</c> -> <c>cuda</c>.</summary>
    internal static string ShortName(string provider) =>
        provider.Replace("ExecutionProvider", "", StringComparison.Ordinal).ToLowerInvariant();

    /// <summary>Adds <paramref name="device"/>'s provider to <paramref name="so"/> with the provider options the settings give it.</summary>
    private void AppendProvider(SessionOptions so, Device device, IReadOnlyDictionary<string, string> settings)
    {
        if (!_targets.TryGetValue(device.Id, out var target)) throw new BackendException(Name, $"device {device.Id} cannot be used: {device.UnavailableReason}");
        var epOptions = ProviderOptions(device, target.Provider, settings);
        if (target.Append is not null)
        {
            target.Append(so, epOptions);
        }
        else if (target.Provider != "CPUExecutionProvider" || epOptions.Count > 0)
        {
            // The CPU provider is ORT's default; it is appended explicitly only to pass it options.
            so.AppendExecutionProvider(OrtEnv.Instance(), [target.EpDevice!], epOptions);
        }
    }

    /// <summary>The <c>ort.ep.TARGET.OPTION</c> settings that apply to <paramref name="device"/>: by provider name, then by device id.</summary>
    internal static Dictionary<string, string> ProviderOptions(Device device, string provider, IReadOnlyDictionary<string, string> settings)
    {
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var target in new[] { provider, ShortName(provider), device.Id })
        {
            var prefix = ProviderOptionPrefix + target + ".";
            foreach (var (key, value) in settings)
            {
                if (key.StartsWith(prefix, StringComparison.Ordinal) && key.Length > prefix.Length) options[key[prefix.Length..]] = value;
            }
        }
        return options;
    }
}
