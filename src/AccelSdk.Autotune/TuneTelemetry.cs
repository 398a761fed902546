using System.Diagnostics;
using AccelSdk.Diagnostics;

namespace AccelSdk.Autotune;

/// <summary>The <c>AccelSdk.Tune</c> activity of a direct <see cref="Autotuner"/> call.</summary>
internal static class AccelSdkTelemetryAccess
{
    public static Activity? StartTune(string modelLabel)
    {
        var activity = AccelSdkTelemetry.Source.StartActivity("AccelSdk.Tune");
        activity?.SetTag("accelsdk.model", modelLabel);
        return activity;
    }
}
