using System.Collections.Concurrent;

namespace AccelSdk.Tests.Stress;

/// <summary>
/// Disposes an object that several threads are running, many times over (issue 15: Dispose during Run crashed ONNX
/// Runtime with SIGSEGV). Every run must either return a correct result or throw <see cref="ObjectDisposedException"/>;
/// anything else is collected and reported. A native crash would end the test host, which fails the test run.
/// </summary>
internal static class DisposeDuringRunStress
{
    /// <summary>What the rounds saw.</summary>
    /// <param name="Rounds">Rounds run.</param>
    /// <param name="CompletedRuns">Runs that returned a result (each checked by the caller's <c>run</c>).</param>
    /// <param name="RefusedRuns">Runs that threw <see cref="ObjectDisposedException"/>.</param>
    /// <param name="RoundsWithRefusal">Rounds in which at least one thread was refused: dispose overlapped running threads.</param>
    /// <param name="Failures">Any other exception, with its round.</param>
    public sealed record Outcome(int Rounds, long CompletedRuns, long RefusedRuns, int RoundsWithRefusal, IReadOnlyList<string> Failures);

    /// <summary>
    /// The session stress both backends' tests run: 1,000 rounds of 3 threads running a one-Relu session made by
    /// <paramref name="create"/>, each result checked; returns what the rounds saw.
    /// </summary>
    public static Outcome RunReluSessions(Func<AccelSdk.Execution.AccelSession> create)
    {
        var x = AccelSdk.Ir.AccelTensor.Create(new[] { -1f, 2f, -3f, 4f }, 1, 4);
        return Run(1000, 3, create, s =>
        {
            var y = s.Run(x)[0].ToArray<float>();
            if (y[1] != 2f || y[0] != 0f) throw new InvalidOperationException("wrong result " + string.Join(",", y));
        });
    }

    /// <summary>
    /// Each round: <paramref name="create"/> an object, start <paramref name="threads"/> threads that call
    /// <paramref name="run"/> on it in a loop, wait until each has completed one run, dispose it, join the threads.
    /// </summary>
    public static Outcome Run<T>(int rounds, int threads, Func<T> create, Action<T> run) where T : IDisposable
    {
        long completed = 0, refused = 0;
        var roundsWithRefusal = 0;
        var failures = new ConcurrentQueue<string>();
        for (var round = 0; round < rounds; round++)
        {
            var target = create();
            using var warmedUp = new CountdownEvent(threads);
            var refusedThisRound = 0;
            var workers = new Thread[threads];
            for (var t = 0; t < threads; t++)
            {
                var roundNumber = round;
                workers[t] = new Thread(() =>
                {
                    var signalled = false;
                    try
                    {
                        while (true)
                        {
                            run(target);
                            Interlocked.Increment(ref completed);
                            if (!signalled)
                            {
                                signalled = true;
                                warmedUp.Signal();
                            }
                        }
                    }
                    catch (ObjectDisposedException)
                    {
                        Interlocked.Increment(ref refused);
                        Interlocked.Exchange(ref refusedThisRound, 1);
                    }
                    catch (Exception e)
                    {
                        failures.Enqueue($"round {roundNumber}: {e.GetType().Name}: {e.Message}");
                    }
                    finally
                    {
                        if (!signalled) warmedUp.Signal();
                    }
                }) { IsBackground = true };
                workers[t].Start();
            }
            warmedUp.Wait();
            target.Dispose();
            foreach (var w in workers)
            {
                if (!w.Join(TimeSpan.FromSeconds(30))) failures.Enqueue($"round {round}: a run thread did not end within 30 s of Dispose");
            }
            roundsWithRefusal += refusedThisRound;
        }
        return new Outcome(rounds, completed, refused, roundsWithRefusal, failures.ToArray());
    }
}
