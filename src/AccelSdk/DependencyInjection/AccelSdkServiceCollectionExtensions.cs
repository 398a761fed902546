using AccelSdk;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers AccelSdk with <see cref="IServiceCollection"/>.</summary>
public static class AccelSdkServiceCollectionExtensions
{
    /// <summary>
    /// Registers a singleton <see cref="AccelRuntime"/> configured by <paramref name="configure"/>
    /// (<c>services.AddAccelSdk(b =&gt; b.AddOnnxRuntime().AddIlgpu())</c>); it logs through the container's
    /// <see cref="ILoggerFactory"/> when one is registered, and the container disposes it.
    /// </summary>
    public static IServiceCollection AddAccelSdk(this IServiceCollection services, Action<AccelRuntimeBuilder> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        services.TryAddSingleton(provider =>
        {
            var builder = new AccelRuntimeBuilder();
            if (provider.GetService<ILoggerFactory>() is { } loggerFactory) builder.UseLoggerFactory(loggerFactory);
            configure(builder);
            return builder.Build();
        });
        return services;
    }
}
