namespace AccelSdk.Tests;

/// <summary>Entry point of the child process of <see cref="ExtensionDiscoveryTests"/>: loads a model through discovery.</summary>
public static class DropInProbe
{
    public static int Main()
    {
        var path = Environment.GetEnvironmentVariable("ACCELSDK_DROPIN_PROBE");
        if (path is null) return 2;
        Console.WriteLine("formats: " + string.Join(",", AccelRuntime.Default.ModelFormats.Select(f => f.Name)));
        var model = Ir.Model.Load(path);
        Console.WriteLine($"nodes: {model.Graph.Nodes.Count} ({string.Join(",", model.Graph.Nodes.Select(n => n.OpType))})");
        return 0;
    }
}
