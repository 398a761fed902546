using AccelSdk.Backends;
using AccelSdk.Ir;
using AccelSdk.TfLite.Import;

namespace AccelSdk.TfLite.Tests;

/// <summary>
/// Entry point of the child process of <see cref="DisposeDuringRunTests"/> (a native crash there must not take the test
/// host down): compiles a tiny model on <c>tflite-cpu</c> round after round while two threads run it without pause,
/// and disposes each partition while they are inside Run. Every run must either finish or throw
/// <see cref="ObjectDisposedException"/>. Prints one summary line; exit code 0 when nothing else happened.
/// </summary>
public static class DisposeStress
{
    public const string Mode = "dispose-during-run";

    public static int Main(string[] args)
    {
        if (args.Length != 3 || args[0] != Mode) return 2;
        var model = TfLiteImporter.Load(args[1]);
        var rounds = int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture);
        using var backend = new TfLiteBackend();
        var device = backend.Devices[0];
        if (!device.IsAvailable)
        {
            Console.WriteLine("tflite-cpu unavailable: " + device.UnavailableReason);
            return 3;
        }
        var input = backend.Upload(device, AccelTensor.Zeros(ElementType.Float32, [1, 8, 8, 3]));
        var stress = new Stress();
        var workers = Enumerable.Range(0, 2).Select(_ => new Thread(() => stress.RunUntilStopped(input))).ToArray();
        foreach (var worker in workers) worker.Start();
        long overlapped = 0;
        for (var round = 0; round < rounds; round++)
        {
            var partition = backend.Compile(device, model, new CompileOptions { IntraOpThreads = 1 });
            Volatile.Write(ref stress.Current, partition);
            // Dispose once a worker has entered Run on this partition (a run takes microseconds, so it is usually inside).
            var spin = new SpinWait();
            for (var k = 0; k < 1000 && !ReferenceEquals(Volatile.Read(ref stress.Entered), partition); k++) spin.SpinOnce(sleep1Threshold: -1);
            if (ReferenceEquals(Volatile.Read(ref stress.Entered), partition) && Interlocked.Read(ref stress.InFlight) > 0) overlapped++;
            partition.Dispose();
        }
        stress.Stop = true;
        foreach (var worker in workers) worker.Join();
        Console.WriteLine($"rounds={rounds} overlapped={overlapped} runs={stress.Runs} disposed={stress.Disposed} unexpected={stress.Unexpected}");
        if (stress.FirstUnexpected is not null) Console.WriteLine(stress.FirstUnexpected);
        return stress.Unexpected == 0 ? 0 : 1;
    }

    private sealed class Stress
    {
        public ICompiledPartition? Current;
        public ICompiledPartition? Entered;
        public long InFlight;
        public long Runs;
        public long Disposed;
        public long Unexpected;
        public volatile bool Stop;
        public string? FirstUnexpected;

        public void RunUntilStopped(DeviceTensor input)
        {
            while (!Stop)
            {
                var partition = Volatile.Read(ref Current);
                if (partition is null)
                {
                    Thread.Yield();
                    continue;
                }
                Interlocked.Increment(ref InFlight);
                Volatile.Write(ref Entered, partition);
                try
                {
                    partition.Run(new[] { input });
                    Interlocked.Increment(ref Runs);
                }
                catch (ObjectDisposedException)
                {
                    Interlocked.Increment(ref Disposed);
                    Interlocked.CompareExchange(ref Current, null, partition); // wait for the next round's partition
                }
                catch (Exception e)
                {
                    if (Interlocked.Increment(ref Unexpected) == 1) FirstUnexpected = e.ToString();
                }
                finally
                {
                    Interlocked.Decrement(ref InFlight);
                }
            }
        }
    }
}
