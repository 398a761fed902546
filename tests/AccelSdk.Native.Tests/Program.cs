namespace AccelSdk.Native.Tests;

/// <summary>
/// Entry point of the test assembly when run as a child process (<c>--probe-child</c>): prints what the probe says
/// about its own availability, so a test can check a deployment without the shim.
/// </summary>
public static class Program
{
    /// <summary>Runs the child mode; anything else is a no-op (the test host does not call this).</summary>
    public static int Main(string[] args)
    {
        if (args is ["--probe-child"])
        {
            Console.WriteLine($"available={DeviceProbe.IsAvailable}");
            Console.WriteLine($"reason={DeviceProbe.UnavailableReason}");
            Console.WriteLine($"current-is-null={DeviceProbe.Current is null}");
        }
        return 0;
    }
}
