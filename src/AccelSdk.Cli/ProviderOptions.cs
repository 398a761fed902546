using System.CommandLine;
using AccelSdk.Backends;
using AccelSdk.OnnxRuntime;

namespace AccelSdk.Cli;

/// <summary>
/// <c>--ep-option TARGET.OPTION=VALUE</c>: an ONNX Runtime execution-provider option for the ORT devices TARGET names
/// (a device id such as <c>ort-cuda:1</c>, a provider name such as <c>CUDAExecutionProvider</c>, or its short name
/// <c>cuda</c>), passed as the compile setting <c>ort.ep.TARGET.OPTION</c>.
/// </summary>
internal static class ProviderOptions
{
    public static Option<Dictionary<string, string>> Option()
    {
        var option = CliOptions.Assignments("--ep-option", "TARGET.OPTION=VALUE",
            "an ONNX Runtime execution-provider option; TARGET is an ort device id (ort-cuda:1), a provider name (CUDAExecutionProvider) or its short name (cuda)");
        option.Validators.Add(result =>
        {
            foreach (var token in result.Tokens)
            {
                var key = token.Value.Split('=', 2)[0];
                var dot = key.IndexOf('.', StringComparison.Ordinal);
                if (dot <= 0 || dot == key.Length - 1)
                {
                    result.AddError($"--ep-option takes TARGET.OPTION=VALUE (for example ort-cuda:0.gpu_mem_limit=2147483648), not '{token.Value}'");
                    return;
                }
            }
        });
        return option;
    }

    /// <summary>The compile options carrying <paramref name="given"/>; a target that names no ORT device or provider of this machine is an error.</summary>
    public static CompileOptions Compile(IReadOnlyDictionary<string, string> given)
    {
        if (given.Count == 0) return new CompileOptions();
        var known = KnownTargets();
        var settings = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in given)
        {
            var dot = key.IndexOf('.', StringComparison.Ordinal);
            var target = key[..dot];
            if (!known.Contains(target))
            {
                throw new AccelSdkException($"--ep-option names '{target}', which is no ONNX Runtime device or provider of this machine ({string.Join(", ", known.Order(StringComparer.Ordinal))})");
            }
            settings[OrtBackend.ProviderOptionKey(target, key[(dot + 1)..])] = value;
        }
        return new CompileOptions { Settings = settings };
    }

    private static HashSet<string> KnownTargets()
    {
        var devices = CliRuntime.Instance.Backends.Where(b => b.Name == OrtBackend.BackendName).SelectMany(b => b.Devices).ToArray();
        var known = new HashSet<string>(StringComparer.Ordinal);
        foreach (var device in devices)
        {
            known.Add(device.Id);
            if (device.Properties.TryGetValue("execution_provider", out var provider))
            {
                known.Add(provider);
                known.Add(provider.Replace("ExecutionProvider", "", StringComparison.Ordinal).ToLowerInvariant());
            }
        }
        return known;
    }
}
