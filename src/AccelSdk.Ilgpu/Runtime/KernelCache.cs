using System.Collections.Concurrent;
using System.Diagnostics;
using ILGPU.Runtime;

namespace AccelSdk.Ilgpu.Runtime;

using Accelerator = ILGPU.Runtime.Accelerator;

/// <summary>One compiled kernel and what compiling it cost.</summary>
/// <param name="Name">Kernel name (method and type arguments).</param>
/// <param name="CompileTime">Time ILGPU took to translate and load it for this accelerator.</param>
public sealed record KernelCompileRecord(string Name, TimeSpan CompileTime);

/// <summary>
/// Kernels compiled for one accelerator, each once: ILGPU translates a kernel on first load, which costs
/// tens to hundreds of milliseconds, so every partition on the accelerator shares the loaded delegates.
/// </summary>
internal sealed class KernelCache
{
    private readonly Accelerator _accelerator;
    private readonly ConcurrentDictionary<string, Lazy<(Delegate Kernel, TimeSpan Time)>> _kernels = new();

    public KernelCache(Accelerator accelerator) => _accelerator = accelerator;

    /// <summary>The kernel called <paramref name="name"/>, loading it with <paramref name="load"/> the first time.</summary>
    public TDelegate Get<TDelegate>(string name, Func<Accelerator, TDelegate> load) where TDelegate : Delegate
    {
        var lazy = _kernels.GetOrAdd(name, _ => new Lazy<(Delegate, TimeSpan)>(() =>
        {
            var watch = Stopwatch.StartNew();
            var kernel = load(_accelerator);
            return (kernel, watch.Elapsed);
        }));
        return (TDelegate)lazy.Value.Kernel;
    }

    /// <summary>Every kernel loaded so far with its compile time.</summary>
    public IReadOnlyList<KernelCompileRecord> Compiled =>
        _kernels.Where(kv => kv.Value.IsValueCreated).Select(kv => new KernelCompileRecord(kv.Key, kv.Value.Value.Time)).OrderBy(r => r.Name).ToArray();

    /// <summary>Sum of all compile times so far.</summary>
    public TimeSpan TotalCompileTime => TimeSpan.FromTicks(Compiled.Sum(r => r.CompileTime.Ticks));
}
