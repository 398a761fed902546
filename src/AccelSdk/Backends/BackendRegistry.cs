using AccelSdk.Diagnostics;

namespace AccelSdk.Backends;

/// <summary>The backends of this process: one instance per registered provider, created on first use and kept.</summary>
public static class BackendRegistry
{
    private static readonly object Gate = new();
    private static List<IBackend>? _backends;

    /// <summary>Every backend that could be created. A provider that throws is skipped with a warning.</summary>
    public static IReadOnlyList<IBackend> All
    {
        get
        {
            lock (Gate)
            {
                if (_backends is not null) return _backends;
                var created = new List<IBackend>();
                foreach (var provider in ExtensionRegistry.BackendProviders)
                {
                    try
                    {
                        created.Add(provider.Create());
                    }
                    catch (Exception e) when (e is not OutOfMemoryException)
                    {
                        AccelSdkDiagnostics.Warn($"backend '{provider.Name}' could not start and is excluded: {e.Message}");
                    }
                }
                AppDomain.CurrentDomain.ProcessExit += (_, _) =>
                {
                    foreach (var b in created) b.Dispose();
                };
                return _backends = created;
            }
        }
    }

    /// <summary>Every device of every backend, unavailable ones included.</summary>
    public static IReadOnlyList<Device> AllDevices => All.SelectMany(b => b.Devices).ToArray();

    /// <summary>The backend called <paramref name="name"/>, or null.</summary>
    public static IBackend? Find(string name) =>
        All.FirstOrDefault(b => string.Equals(b.Name, name, StringComparison.OrdinalIgnoreCase));

    /// <summary>The backend that owns <paramref name="device"/>.</summary>
    public static IBackend OwnerOf(Device device) =>
        Find(device.Backend) ?? throw new AccelSdkException($"no backend '{device.Backend}' is registered for device {device.Id}");

    /// <summary>
    /// Resolves a command-line style name: a device id (<c>ort-cpu</c>, <c>ilgpu-cpu</c>) or a backend name
    /// (<c>ort</c>: its first available device).
    /// </summary>
    public static (IBackend Backend, Device Device) Resolve(string nameOrDeviceId)
    {
        foreach (var backend in All)
        {
            var device = backend.Devices.FirstOrDefault(d => string.Equals(d.Id, nameOrDeviceId, StringComparison.OrdinalIgnoreCase));
            if (device is not null)
            {
                if (!device.IsAvailable) throw new AccelSdkException($"device {device.Id} is unavailable: {device.UnavailableReason}");
                return (backend, device);
            }
        }
        var named = Find(nameOrDeviceId);
        if (named is not null)
        {
            var device = named.Devices.FirstOrDefault(d => d.IsAvailable)
                ?? throw new AccelSdkException($"backend '{named.Name}' has no available device: " +
                    string.Join("; ", named.Devices.Select(d => $"{d.Id}: {d.UnavailableReason}")));
            return (named, device);
        }
        var known = string.Join(", ", All.Select(b => b.Name).Concat(AllDevices.Select(d => d.Id)).Distinct());
        throw new AccelSdkException($"unknown backend or device '{nameOrDeviceId}' (known: {known})");
    }
}
