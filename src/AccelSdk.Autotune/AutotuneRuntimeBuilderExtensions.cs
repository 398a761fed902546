using AccelSdk.Autotune;

namespace AccelSdk;

/// <summary>Adds the autotuner to an <see cref="AccelRuntimeBuilder"/>.</summary>
public static class AutotuneRuntimeBuilderExtensions
{
    /// <summary>The plan tuner behind <see cref="SelectOptions.Autotune"/> (<see cref="AutotunePlanTuner"/>, caching in the default directory).</summary>
    public static AccelRuntimeBuilder AddAutotune(this AccelRuntimeBuilder builder) => builder.UsePlanTuner(new AutotunePlanTuner());
}
