using System.Diagnostics;
using AccelSdk.BindingGen;

namespace AccelSdk.TfLite.Tests;

/// <summary>The binding generator: the committed TFLite bindings regenerate byte for byte, and its C mapping.</summary>
public sealed class BindingGeneratorTests
{
    [Fact]
    public async Task Committed_tflite_bindings_regenerate_byte_identically()
    {
        var script = Path.Combine(TestEnvironment.RepoRoot, "scripts", "generate-bindings.sh");
        var start = new ProcessStartInfo("bash", new[] { script, "--check" })
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = TestEnvironment.RepoRoot,
        };
        using var process = Process.Start(start)!;
        var stdoutTask = process.StandardOutput.ReadToEndAsync();
        var stderrTask = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await process.WaitForExitAsync(timeout.Token);
        var stdout = await stdoutTask;
        var stderr = await stderrTask;
        Assert.True(process.ExitCode == 0, $"generate-bindings.sh --check exited {process.ExitCode}:\n{stdout}\n{stderr}");
        Assert.Contains("is up to date", stdout);
    }

    [Fact]
    public void Generator_maps_enums_opaque_handles_layouts_and_functions()
    {
        var dir = Directory.CreateTempSubdirectory("bindinggen-");
        try
        {
            File.WriteAllText(Path.Combine(dir.FullName, "demo.h"), """
                #include <stdbool.h>
                #include <stddef.h>
                #include <stdint.h>
                /// How a demo ends.
                typedef enum { kDemoOk = 0, kDemoFailed = 7 } DemoStatus;
                typedef struct DemoHandle DemoHandle;
                typedef struct {
                  int32_t kind;
                  union { float f; int64_t i; } value;
                  union { void* p; double d; };
                  uint8_t bytes[3];
                } DemoValue;
                /// Opens a demo.
                DemoHandle* DemoOpen(const char* path, bool verbose, size_t* out_size);
                DemoStatus DemoVisit(DemoHandle* h, void (*callback)(void* user, const char* text), void* user);
                DemoValue DemoGet(const DemoHandle* h);
                int DemoLog(const char* format, ...);
                """);
            var output = Path.Combine(dir.FullName, "Demo.g.cs");
            var builtins = Directory.GetDirectories("/usr/lib/llvm-14/lib/clang").Select(d => Path.Combine(d, "include")).First();
            var args = new[]
            {
                "--header", "demo.h", "-I", dir.FullName, "--clang-arg", "-isystem", "--clang-arg", builtins,
                "--library", "demo", "--namespace", "Demo.Native", "--class", "DemoNative", "--output", output,
            };
            Assert.Equal(0, Cli.Run(args));
            var text = File.ReadAllText(output);
            Assert.Contains("internal enum DemoStatus : uint", text);
            Assert.Contains("kDemoFailed = 7,", text);
            Assert.Contains("internal partial struct DemoHandle", text);
            Assert.Contains("[StructLayout(LayoutKind.Explicit, Size = 32)]", text);
            Assert.Contains("[FieldOffset(8)] public DemoValue_value value;", text);
            Assert.Contains("[FieldOffset(16)] public void* p;", text);
            Assert.Contains("[FieldOffset(16)] public double d;", text);
            Assert.Contains("[FieldOffset(24)] public fixed byte bytes[3];", text);
            Assert.Contains("internal static partial DemoHandle* DemoOpen(string path, [MarshalAs(UnmanagedType.U1)] bool verbose, nuint* out_size);", text);
            Assert.Contains("delegate* unmanaged<void*, byte*, void>", text);
            Assert.Contains("internal static partial DemoValue DemoGet(DemoHandle* h);", text);
            Assert.Contains("DemoLog is not bound: variadic", text);
            Assert.Contains("/// <summary>Opens a demo.</summary>", text);
            Assert.DoesNotContain(dir.FullName, text);
            Assert.Equal(0, Cli.Run(args.Append("--check").ToArray()));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void Headers_that_do_not_compile_are_reported_with_clangs_diagnostics()
    {
        var dir = Directory.CreateTempSubdirectory("bindinggen-");
        try
        {
            File.WriteAllText(Path.Combine(dir.FullName, "bad.h"), "int broken(;\n");
            var error = new StringWriter();
            var saved = Console.Error;
            Console.SetError(error);
            int code;
            try
            {
                code = Cli.Run(new[] { "--header", "bad.h", "-I", dir.FullName, "--library", "x", "--namespace", "X", "--output", Path.Combine(dir.FullName, "x.g.cs") });
            }
            finally
            {
                Console.SetError(saved);
            }
            Assert.Equal(2, code);
            Assert.Contains("bad.h", error.ToString());
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
