using System.Diagnostics;
using System.Text.RegularExpressions;
using AccelSdk.Ir;

namespace AccelSdk.TfLite.Tests;

/// <summary>
/// Disposing a TFLite partition or interpreter while other threads are inside Run crashed 5 of 5 processes (the
/// interpreter was freed under the running call). Dispose now waits for the call in progress; later calls throw
/// <see cref="ObjectDisposedException"/>.
/// </summary>
public sealed partial class DisposeDuringRunTests
{
    [Fact]
    public async Task DisposeDuringRun_ThousandRounds_NoCrashAndOnlyObjectDisposed()
    {
        TestEnvironment.RequireRuntime();
        var host = Environment.ProcessPath ?? throw new InvalidOperationException("no host path");
        var psi = new ProcessStartInfo(host)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in new[] { "exec", typeof(DisposeStress).Assembly.Location, DisposeStress.Mode, TestEnvironment.Model("add.bin"), "1000" })
        {
            psi.ArgumentList.Add(argument);
        }
        using var process = Process.Start(psi)!;
        var errorText = process.StandardError.ReadToEndAsync();
        var outputText = process.StandardOutput.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail("the dispose-during-run stress did not finish in 3 minutes");
        }
        var output = await outputText;
        Assert.True(process.ExitCode == 0, $"exit code {process.ExitCode} (134/139: the process crashed): {output} {await errorText}");
        var summary = Summary().Match(output);
        Assert.True(summary.Success, output);
        Assert.Equal(1000, int.Parse(summary.Groups["rounds"].Value, System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(0, int.Parse(summary.Groups["unexpected"].Value, System.Globalization.CultureInfo.InvariantCulture));
        // The race has to have happened for the result to mean anything: Dispose while a run was in flight.
        Assert.True(int.Parse(summary.Groups["overlapped"].Value, System.Globalization.CultureInfo.InvariantCulture) > 0, output);
    }

    [Fact]
    public void Interpreter_AfterDispose_ThrowsObjectDisposed()
    {
        TestEnvironment.RequireRuntime();
        using var model = LiteModel.FromFile(TestEnvironment.Model("add.bin"));
        var interpreter = new LiteInterpreter(model);
        var input = AccelTensor.Zeros(ElementType.Float32, [1, 8, 8, 3]);
        Assert.Single(interpreter.Run(input));
        interpreter.Dispose();
        interpreter.Dispose(); // a second Dispose is harmless
        var error = Assert.Throws<ObjectDisposedException>(() => interpreter.Run(input));
        Assert.Contains("add.bin", error.Message, StringComparison.Ordinal);
        Assert.Throws<ObjectDisposedException>(() => interpreter.Inputs);
        Assert.Throws<ObjectDisposedException>(() => interpreter.SignatureKeys);
    }

    [Fact]
    public void Interpreter_FromDisposedModel_ThrowsObjectDisposed()
    {
        TestEnvironment.RequireRuntime();
        var model = LiteModel.FromFile(TestEnvironment.Model("add.bin"));
        model.Dispose();
        Assert.Throws<ObjectDisposedException>(() => new LiteInterpreter(model));
    }

    [Fact]
    public void Interpreter_OutlivesDisposedModel()
    {
        TestEnvironment.RequireRuntime();
        var model = LiteModel.FromFile(TestEnvironment.Model("add.bin"));
        using var interpreter = new LiteInterpreter(model);
        model.Dispose(); // TFLite needs only the model's bytes after creation, which the interpreter keeps alive
        var input = AccelTensor.Create(Enumerable.Range(0, 192).Select(i => (float)i).ToArray(), 1, 8, 8, 3);
        var output = interpreter.Run(input)[0];
        Assert.Equal(3f * 5, output.AsSpan<float>()[5]); // add.bin computes (x + x) + x
    }

    [GeneratedRegex(@"rounds=(?<rounds>\d+) overlapped=(?<overlapped>\d+) runs=\d+ disposed=\d+ unexpected=(?<unexpected>\d+)")]
    private static partial Regex Summary();
}
