// AccelSdk build script (Cake.Tool, a local dotnet tool): dotnet tool restore && dotnet cake --target=<Target>
// Targets: Setup, Native, CrossBuild, TfLiteNative, TfLiteCross, Bindings, Build, Test, Bench, Pack, PackageTest, Demo. Each works alone;
// dependencies run first. Cake add-ins are not served by this project's registry, so cmake and ctest are run with
// the built-in process aliases.

using System.Diagnostics;
using Architecture = System.Runtime.InteropServices.Architecture;
using RuntimeInformation = System.Runtime.InteropServices.RuntimeInformation;
using System.Text.RegularExpressions;

var target = Argument("target", "Test");
var configuration = Argument("configuration", "Release");
// --native-configs=Release,Debug (default both): which CMake build types the Native target builds and tests.
var nativeConfigs = Argument("native-configs", "Release,Debug").Split(',', StringSplitOptions.RemoveEmptyEntries);
// --model=path: the model the Demo target selects a device for and runs.
var demoModel = Argument("model", ".models/resnet18/ResNet18.onnx");
// --setup=false: Test skips the Setup target (system packages, test data and models already in place).
var runSetup = Argument("setup", true);
// --tflite-native=false: Test and Pack skip building the TFLite C library (scripts/build-tflite.sh); the TFLite tests
// then run on the forky fallback under the patched host.
var buildTfLiteNative = Argument("tflite-native", true);
// --tflite-arm64=false: TfLiteCross (Pack and Test) skips the linux-arm64 cross-build of the TFLite library (the package
// then carries no arm64 TFLite and the qemu test leaves tflite-cpu out).
var buildTfLiteArm64 = Argument("tflite-arm64", true);

var root = MakeAbsolute(Directory("."));
var artifacts = root.Combine("artifacts");
var nativeBuildRoot = artifacts.Combine("native/build");
// cmake --install prefix: shims land in artifacts/native/runtimes/<rid>/native, the layout AccelSdk.Native packs.
var nativeInstall = artifacts.Combine("native");
var packagesDir = artifacts.Combine("packages");
var solution = root.CombineWithFilePath("AccelSdk.sln");
var hostRid = RuntimeInformation.OSArchitecture switch
{
    Architecture.X64 => "linux-x64",
    Architecture.Arm64 => "linux-arm64",
    var other => throw new Exception($"no AccelSdk native build for {other}"),
};

// ---------------------------------------------------------------------------------------------------------------
// Helpers

void Run(string tool, string arguments, DirectoryPath workingDirectory = null, IDictionary<string, string> environment = null)
{
    Information($"> {tool} {arguments}");
    var settings = new ProcessSettings
    {
        Arguments = arguments,
        WorkingDirectory = workingDirectory ?? root,
        EnvironmentVariables = environment ?? new Dictionary<string, string>(),
    };
    var exitCode = StartProcess(tool, settings);
    if (exitCode != 0) throw new Exception($"'{tool} {arguments}' failed with exit code {exitCode}");
}

string FindOnPath(string name)
{
    foreach (var dir in (EnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
    {
        var candidate = System.IO.Path.Combine(dir, name);
        if (System.IO.File.Exists(candidate)) return candidate;
    }
    return null;
}

// Stops at the first missing tool with the Debian package that provides it, instead of a compiler error later.
void RequireTools(params (string Tool, string Package)[] tools)
{
    var missing = tools.Where(t => FindOnPath(t.Tool) is null).ToList();
    if (missing.Count == 0) return;
    throw new Exception(
        $"missing build tools: {string.Join(", ", missing.Select(m => m.Tool))}. " +
        $"Install them with: apt-get install -y {string.Join(" ", missing.Select(m => m.Package).Distinct())} " +
        "(or run: dotnet cake --target=Setup)");
}

string CMakeGenerator() => FindOnPath("ninja") is not null ? "-G Ninja" : "-G \"Unix Makefiles\"";

DirectoryPath NativeBuildDir(string rid, string config) => nativeBuildRoot.Combine($"{rid}-{config}");

void BuildNative(string rid, string config, bool install, string toolchain = null)
{
    var buildDir = NativeBuildDir(rid, config);
    var toolchainArg = toolchain is null ? "" : $" -DCMAKE_TOOLCHAIN_FILE=\"{root.CombineWithFilePath(toolchain)}\"";
    // A build folder keeps the generator it was configured with (dotnet build configures the host Release one too).
    var generator = FileExists(buildDir.CombineWithFilePath("CMakeCache.txt")) ? "" : CMakeGenerator();
    Run("cmake", $"-S \"{root.Combine("native")}\" -B \"{buildDir}\" {generator} -DCMAKE_BUILD_TYPE={config}" +
        $" -DCMAKE_INSTALL_PREFIX=\"{nativeInstall}\"{toolchainArg}");
    Run("cmake", $"--build \"{buildDir}\" --parallel {Environment.ProcessorCount}");
    if (install) Run("cmake", $"--install \"{buildDir}\"");
}

void CTest(string rid, string config) =>
    Run("ctest", $"--test-dir \"{NativeBuildDir(rid, config)}\" --output-on-failure --no-tests=error");

// Totals over every suite the Test target runs, for one closing line CI can read.
var testsPassed = 0;
var testsFailed = 0;
var failedSuites = new List<string>();
var dotnetTestLine = new Regex(@"^\s*(Passed|Failed)!\s+-\s+Failed:\s+(\d+),\s+Passed:\s+(\d+)");
var ctestLine = new Regex(@"tests passed, (\d+) tests failed out of (\d+)");
var plainLine = new Regex(@"^(\w+: )?(\d+) passed, (\d+) failed");

// Runs one test suite, echoing its output and adding its counts; a failure is recorded and the next suite still runs.
void RunSuite(string name, string tool, string arguments, DirectoryPath workingDirectory = null)
{
    Information($"> {tool} {arguments}");
    var counted = false;
    var exitCode = StartProcess(tool, new ProcessSettings
    {
        Arguments = arguments,
        WorkingDirectory = workingDirectory ?? root,
        RedirectStandardOutput = true,
        RedirectedStandardOutputHandler = line =>
        {
            if (line is null) return line;
            Console.WriteLine(line);
            if (dotnetTestLine.Match(line) is { Success: true } d)
            {
                testsFailed += int.Parse(d.Groups[2].Value);
                testsPassed += int.Parse(d.Groups[3].Value);
                counted = true;
            }
            else if (ctestLine.Match(line) is { Success: true } c)
            {
                var failed = int.Parse(c.Groups[1].Value);
                testsFailed += failed;
                testsPassed += int.Parse(c.Groups[2].Value) - failed;
                counted = true;
            }
            else if (plainLine.Match(line) is { Success: true } p)
            {
                testsPassed += int.Parse(p.Groups[2].Value);
                testsFailed += int.Parse(p.Groups[3].Value);
                counted = true;
            }
            return line;
        },
    }, out _);
    if (exitCode != 0)
    {
        failedSuites.Add($"{name} (exit code {exitCode})");
        if (!counted) testsFailed++;
    }
    else if (!counted)
    {
        testsPassed++;
    }
}

// Test projects under tests/ that AccelSdk.sln does not list yet are tested one by one, so none is skipped silently.
IEnumerable<FilePath> TestProjectsOutsideSolution()
{
    var listed = System.IO.File.ReadAllText(solution.FullPath).Replace('\\', '/');
    return GetFiles("./tests/*/*.csproj")
        .Where(p => !listed.Contains(root.GetRelativePath(p).FullPath, StringComparison.OrdinalIgnoreCase));
}

// The TFLite C library scripts/build-tflite.sh builds against Debian 12's libraries (the TfLiteNative target).
var tfliteNative = artifacts.CombineWithFilePath($"tflite/{hostRid}/libtensorflowlite_c.so");

// The TFLite tests run on the ordinary host when the TFLite library built here is there (it is copied beside the test
// assembly). Otherwise they fall back to Debian forky's TFLite, which needs a newer glibc than the system's: vstest
// starts them with the dotnet muxer scripts/setup-tflite.sh patched onto the forky loader (PATH and DOTNET_HOST_PATH
// are ignored by vstest). They live outside AccelSdk.sln so that the solution's plain `dotnet test` never needs either.
string TestHostArguments(FilePath project)
{
    if (project.GetFilenameWithoutExtension().FullPath != "AccelSdk.TfLite.Tests") return "";
    if (FileExists(tfliteNative)) return "";
    Warning($"{tfliteNative} is absent: the TFLite tests run on the forky fallback under the patched host");
    var host = root.CombineWithFilePath(".tflite-runtime/dotnet");
    if (!FileExists(host)) throw new Exception($"{host} is missing: run dotnet cake --target=Setup (scripts/setup-tflite.sh makes it)");
    return $" -- RunConfiguration.DotNetHostPath=\"{host}\"";
}

void PackageTest()
{
    var model = MakeAbsolute(File(demoModel));
    if (!FileExists(model)) throw new Exception($"{model} is missing: run dotnet cake --target=Setup (it fetches the models)");
    var core = GetFiles($"{packagesDir}/AccelSdk.[0-9]*.nupkg").Single();
    var version = core.GetFilenameWithoutExtension().FullPath.Substring("AccelSdk.".Length);

    // Outside the repository, so none of its Directory.Build.props / central package versions apply.
    var work = new DirectoryPath(System.IO.Path.Combine(System.IO.Path.GetTempPath(), "accelsdk-package-test"));
    EnsureDirectoryExists(work);
    CleanDirectory(work);
    CopyDirectory(root.Combine("tests/packaging/consumer"), work.Combine("consumer"));
    System.IO.File.WriteAllText(work.CombineWithFilePath("nuget.config").FullPath,
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<configuration>\n  <packageSources>\n" +
        $"    <add key=\"accelsdk-local\" value=\"{packagesDir.FullPath}\" />\n  </packageSources>\n</configuration>\n");

    // The global packages folder caches by version: drop earlier builds of these packages so this run's are used.
    var globalPackages = EnvironmentVariable("NUGET_PACKAGES") ?? System.IO.Path.Combine(EnvironmentVariable("HOME"), ".nuget/packages");
    foreach (var package in GetFiles($"{packagesDir}/*.nupkg"))
    {
        var id = package.GetFilenameWithoutExtension().FullPath;
        id = id.Substring(0, id.Length - version.Length - 1).ToLowerInvariant();
        var cached = System.IO.Path.Combine(globalPackages, id, version);
        if (System.IO.Directory.Exists(cached)) System.IO.Directory.Delete(cached, recursive: true);
    }

    // With the TFLite library in the package, the consumer also runs a .tflite model on tflite-cpu in this ordinary host.
    var tfliteModel = root.CombineWithFilePath(".models/tflite/face_detection_short_range.tflite");
    var withTfLite = FileExists(tfliteNative) && FileExists(tfliteModel);
    if (!withTfLite) Warning($"no TFLite library built ({tfliteNative}) or no {tfliteModel}: the package test leaves tflite-cpu out");
    var failedBefore = failedSuites.Count;
    RunSuite("package consumer", "dotnet", $"run -c Release --project \"{work.Combine("consumer")}\" -p:AccelSdkVersion={version} -- \"{model}\"" + (withTfLite ? $" \"{tfliteModel}\"" : ""), work);
    if (failedSuites.Count > failedBefore) throw new Exception("the package consumer failed");

    var tools = work.Combine("tools");
    Run("dotnet", $"tool install AccelSdk.Cli --version {version} --tool-path \"{tools}\" --add-source \"{packagesDir}\"", work);
    var exitCode = StartProcess(tools.CombineWithFilePath("accelsdk"), new ProcessSettings
    {
        Arguments = "devices",
        WorkingDirectory = work,
        RedirectStandardOutput = true,
    }, out var lines);
    var output = lines.ToList();
    foreach (var line in output) Information(line);
    if (exitCode != 0 || !output.Any(l => l.StartsWith("isa: ")) || !output.Any(l => l.StartsWith("ort-cpu")))
        throw new Exception("the installed accelsdk tool did not list the probe's facts and the ort-cpu device");
    if (withTfLite && !output.Any(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries) is ["tflite-cpu", _, "yes", ..]))
        throw new Exception("the installed accelsdk tool does not list tflite-cpu as available in the ordinary host");
    Information("packaging: the installed accelsdk tool lists the probe's facts and ort-cpu" + (withTfLite ? " and tflite-cpu available" : ""));
    testsPassed++;
}

// ---------------------------------------------------------------------------------------------------------------
// Targets

Task("Setup")
    .Description("System packages, test data and models: scripts/setup.sh (which runs every scripts/setup-*.sh), or those alone.")
    .Does(() =>
{
    if (!runSetup)
    {
        Information("--setup=false: skipped");
        return;
    }
    var main = root.CombineWithFilePath("scripts/setup.sh");
    var scripts = FileExists(main)
        ? new List<FilePath> { main }
        : GetFiles("./scripts/setup-*.sh").OrderBy(s => s.FullPath, StringComparer.Ordinal).ToList();
    if (scripts.Count == 0) Warning("no scripts/setup*.sh found");
    foreach (var script in scripts) Run("bash", $"\"{script}\"");
});

Task("NativePrerequisites")
    .Description("Checks cmake, ctest and a C/C++ compiler are installed.")
    .Does(() => RequireTools(("cmake", "cmake"), ("ctest", "cmake"), ("cc", "gcc"), ("c++", "g++"), ("readelf", "binutils")));

Task("OrtPackage")
    .Description("Restores the Microsoft.ML.OnnxRuntime NuGet package whose C API headers the custom-op library compiles against.")
    .Does(() =>
{
    var project = root.CombineWithFilePath("src/AccelSdk.OnnxRuntime/AccelSdk.OnnxRuntime.csproj");
    if (FileExists(project)) Run("dotnet", $"restore \"{project}\" -nologo");
    else Warning("src/AccelSdk.OnnxRuntime is absent: the ORT custom-op library is not built");
});

Task("Native")
    .Description("Configures, builds and installs native/ for the host RID (Release and Debug).")
    .IsDependentOn("NativePrerequisites")
    .IsDependentOn("OrtPackage")
    .Does(() =>
{
    foreach (var config in nativeConfigs)
        BuildNative(hostRid, config, install: config == "Release");
    Information($"native shims installed under {nativeInstall.Combine($"runtimes/{hostRid}/native")}");
});

Task("CrossBuild")
    .Description("Cross-builds native/ for linux-arm64 (Release) and installs it beside the host build.")
    .IsDependentOn("OrtPackage")
    .Does(() =>
{
    if (hostRid == "linux-arm64")
    {
        Information("host is linux-arm64: the Native target already builds it");
        return;
    }
    RequireTools(("cmake", "cmake"), ("aarch64-linux-gnu-gcc", "gcc-aarch64-linux-gnu"), ("aarch64-linux-gnu-g++", "g++-aarch64-linux-gnu"));
    BuildNative("linux-arm64", "Release", install: true, toolchain: "cmake/toolchains/linux-arm64.cmake");
});

void BuildTfLite(string rid)
{
    var watch = Stopwatch.StartNew();
    Run("bash", $"\"{root.CombineWithFilePath("scripts/build-tflite.sh")}\" {rid}");
    Information($"TFLite library {rid}: {watch.Elapsed.TotalSeconds:F0} s");
}

Task("TfLiteNative")
    .Description("Builds the TFLite 2.14.1 C library from Debian's source against Debian 12's libraries (scripts/build-tflite.sh) into artifacts/tflite/<rid>; a no-op when its inputs are unchanged.")
    .Does(() =>
{
    if (!buildTfLiteNative)
    {
        Information("--tflite-native=false: skipped");
        return;
    }
    if (hostRid != "linux-x64")
    {
        Warning($"the TFLite library is built for linux-x64 only; {hostRid} uses the forky fallback");
        return;
    }
    BuildTfLite(hostRid);
});

// Pack and Test only (not Build or Demo): a cold cross-build takes as long as the host's (about 11 min idle, 26 loaded).
Task("TfLiteCross")
    .Description("Cross-builds the TFLite C library for linux-arm64 (scripts/build-tflite.sh linux-arm64) into artifacts/tflite/linux-arm64; a no-op when its inputs are unchanged.")
    .Does(() =>
{
    if (!buildTfLiteNative || !buildTfLiteArm64)
    {
        Information("--tflite-native=false or --tflite-arm64=false: skipped");
        return;
    }
    if (hostRid != "linux-x64")
    {
        Warning($"the TFLite cross-build runs on linux-x64 hosts only, not {hostRid}");
        return;
    }
    BuildTfLite("linux-arm64");
});

Task("Bindings")
    .Description("Regenerates P/Invoke bindings with tools/AccelSdk.BindingGen: every scripts/generate-bindings*.sh.")
    .Does(() =>
{
    var scripts = GetFiles("./scripts/generate-bindings*.sh").OrderBy(s => s.FullPath, StringComparer.Ordinal).ToList();
    if (scripts.Count == 0) Warning("no scripts/generate-bindings*.sh: bindings not regenerated");
    foreach (var script in scripts) Run("bash", $"\"{script}\"");
});

Task("BindingsUpToDate")
    .Description("Fails when Bindings changed a committed *.g.cs file: generated code must be committed current.")
    .IsDependentOn("Bindings")
    .Does(() =>
{
    if (!DirectoryExists(root.Combine(".git")) && !FileExists(root.CombineWithFilePath(".git")))
    {
        Warning("not a git checkout: cannot check that the bindings are up to date");
        return;
    }
    var exitCode = StartProcess("git", new ProcessSettings
    {
        Arguments = "status --porcelain -- \"*.g.cs\"",
        WorkingDirectory = root,
        RedirectStandardOutput = true,
    }, out var changed);
    var lines = changed.Where(l => !string.IsNullOrWhiteSpace(l)).ToList();
    if (exitCode != 0) throw new Exception("git status failed");
    if (lines.Count > 0)
        throw new Exception("generated bindings differ from the committed ones; commit them:\n" + string.Join("\n", lines));
});

Task("Build")
    .Description("dotnet build AccelSdk.sln (plus test projects the solution does not list yet).")
    .IsDependentOn("Native")
    .IsDependentOn("TfLiteNative")
    .IsDependentOn("Bindings")
    .Does(() =>
{
    Run("dotnet", $"build \"{solution}\" -c {configuration} -nologo");
    foreach (var project in TestProjectsOutsideSolution())
    {
        Warning($"{root.GetRelativePath(project)} is not in AccelSdk.sln; building it separately");
        Run("dotnet", $"build \"{project}\" -c {configuration} -nologo");
    }
});

Task("Test")
    .Description("Setup + Native + CrossBuild + Build + Pack, then every suite: CTest (host Release/Debug, arm64 under qemu), dotnet test, the GPU-flavour check, the local-feed package test.")
    .IsDependentOn("Setup")
    .IsDependentOn("Native")
    .IsDependentOn("CrossBuild")
    .IsDependentOn("TfLiteCross")
    .IsDependentOn("BindingsUpToDate")
    .IsDependentOn("Build")
    .IsDependentOn("Pack")
    .Does(() =>
{
    foreach (var config in nativeConfigs)
        RunSuite($"ctest {hostRid}-{config}", "ctest", $"--test-dir \"{NativeBuildDir(hostRid, config)}\" --output-on-failure --no-tests=error");
    if (hostRid == "linux-x64")
    {
        if (FindOnPath("qemu-aarch64") is null) Warning("qemu-user is not installed: the arm64 build is compiled and linked but its tests do not run");
        else RunSuite("ctest linux-arm64-Release", "ctest", $"--test-dir \"{NativeBuildDir("linux-arm64", "Release")}\" --output-on-failure --no-tests=error");
    }
    RunSuite("dotnet test AccelSdk.sln", "dotnet", $"test \"{solution}\" -c {configuration} --no-build -nologo");
    // The CLI published for linux-arm64 under qemu-user against the x64 build's outputs (see the README's install story).
    if (hostRid == "linux-x64" && FindOnPath("qemu-aarch64") is not null)
        RunSuite("linux-arm64 CLI under qemu", "bash", $"\"{root.CombineWithFilePath("scripts/test-arm64-qemu.sh")}\"");
    foreach (var project in TestProjectsOutsideSolution())
        RunSuite($"dotnet test {project.GetFilename()}", "dotnet", $"test \"{project}\" -c {configuration} --no-build -nologo{TestHostArguments(project)}");
    var gpuFlavour = root.CombineWithFilePath("scripts/check-gpu-flavour.sh");
    if (FileExists(gpuFlavour)) RunSuite("GPU flavour", "bash", $"\"{gpuFlavour}\"");
    try
    {
        PackageTest();
    }
    catch (Exception e)
    {
        Error(e.Message);
        failedSuites.Add("package test");
        testsFailed++;
    }
    // Plain text (no colours) so CI's reader of closing lines sees it as is.
    Console.WriteLine($"tests: {testsPassed} passed, {testsFailed} failed");
    if (failedSuites.Count > 0) throw new Exception("failed: " + string.Join(", ", failedSuites));
});

Task("Bench")
    .Description("Runs every bench/ project with BenchmarkDotNet's short job, in process.")
    .IsDependentOn("Native")
    .Does(() =>
{
    var projects = GetFiles("./bench/*/*.csproj").ToList();
    if (projects.Count == 0) Warning("no bench/*/*.csproj project yet");
    foreach (var project in projects)
        // In-process: BenchmarkDotNet's generated per-benchmark project rebuilds the whole solution, which overran
        // its 2-minute build timeout on a loaded 2-core machine.
        Run("dotnet", $"run -c Release --project \"{project}\" -- --job short --inProcess --filter \"*\" --artifacts \"{artifacts.Combine("bench")}\"");
});

Task("Pack")
    .Description("NuGet packages of every src/ project into artifacts/packages, native shims and TFLite libraries for linux-x64 and linux-arm64 included.")
    .IsDependentOn("Native")
    .IsDependentOn("CrossBuild")
    .IsDependentOn("TfLiteNative")
    .IsDependentOn("TfLiteCross")
    .IsDependentOn("Bindings")
    .Does(() =>
{
    CleanDirectory(packagesDir);
    // The SDK's built-in SourceLink adds the repository commit (and URL, for a hosted remote) to every package.
    var packArgs = $"-c Release -o \"{packagesDir}\" -nologo -p:ContinuousIntegrationBuild=true -p:IncludeSymbols=true -p:SymbolPackageFormat=snupkg";
    Run("dotnet", $"pack \"{solution}\" {packArgs}");
    // Projects not in the solution yet are packed alone so the packages are complete.
    var listed = System.IO.File.ReadAllText(solution.FullPath).Replace('\\', '/');
    foreach (var project in GetFiles("./src/*/*.csproj").Where(p => !listed.Contains(root.GetRelativePath(p).FullPath, StringComparison.OrdinalIgnoreCase)))
        Run("dotnet", $"pack \"{project}\" {packArgs}");
    foreach (var package in GetFiles($"{packagesDir}/*.nupkg")) Information($"packed {package.GetFilename()}");
});

Task("PackageTest")
    .Description("What an integrator does: installs the packages from artifacts/packages into a fresh console app and the CLI tool, and runs a model.")
    .IsDependentOn("Pack")
    .Does(() => PackageTest());

Task("Demo")
    .Description("The main job: accelsdk devices, autotune ResNet18 with a report (artifacts/autotune/report.html), select + run it (--model=PATH for another model).")
    .IsDependentOn("Setup")
    .IsDependentOn("Build")
    .Does(() =>
{
    var cliDll = root.CombineWithFilePath($"src/AccelSdk.Cli/bin/{configuration}/net10.0/AccelSdk.Cli.dll");
    if (!FileExists(cliDll)) throw new Exception($"{cliDll} is missing: the Build target did not build the CLI");
    var model = MakeAbsolute(File(demoModel));
    if (!FileExists(model)) throw new Exception($"{model} is missing: run dotnet cake --target=Setup (it fetches the models)");
    // The ordinary host when the TFLite library built here is beside the CLI (Build depends on TfLiteNative); otherwise
    // the host scripts/setup-tflite.sh patches onto Debian forky's loader, so the TFLite runtime takes part either way.
    var patchedHost = root.CombineWithFilePath(".tflite-runtime/dotnet");
    var host = !FileExists(tfliteNative) && FileExists(patchedHost) ? patchedHost.FullPath : "dotnet";
    void Cli(string arguments) => Run(host, $"\"{cliDll}\" {arguments}");
    Cli("devices");
    Cli($"autotune \"{model}\" --report \"{artifacts.Combine("autotune")}\"");
    Information($"autotune report: {artifacts.CombineWithFilePath("autotune/report.html")} (and report.json)");
    // A .tflite model too: the autotuner measures the TFLite runtime against the imported model on every other backend.
    var tfliteModel = root.CombineWithFilePath(".models/tflite/face_detection_short_range.tflite");
    if (FileExists(tfliteModel)) Cli($"autotune \"{tfliteModel}\" --report \"{artifacts.Combine("autotune-tflite")}\"");
    Cli($"select \"{model}\"");
    Cli($"run \"{model}\" --output-dir \"{artifacts.Combine("demo")}\"");
    Information($"outputs written to {artifacts.Combine("demo")}");
});

RunTarget(target);
