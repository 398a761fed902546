using System.CommandLine;
using System.CommandLine.Help;
using AccelSdk.TestSupport;

namespace AccelSdk.Cli.Tests;

/// <summary>
/// The parser's contract: every verb has <c>--help</c>, and every option and argument of every verb answers a bad value
/// with exactly one error line and a documented non-zero exit code (2 for the command line, 1 for what only the run finds).
/// </summary>
[Collection("console")]
public sealed class CommandLineTests : IDisposable
{
    /// <summary>A bad value for one symbol: which symbol ("verb --option" or "verb ARGUMENT"), the command line, a
    /// fragment the error line must contain, and the exit code. Placeholders: {model} a small ONNX model, {file} an
    /// existing file, {dir} an existing directory, {missing} a path that does not exist, {out} a path to write.</summary>
    public static readonly TheoryData<string, string, string, int> BadValues = new()
    {
        { "devices --json", "devices --json yes", "unexpected argument 'yes'", 2 },
        { "select MODEL", "select {missing}", "MODEL '{missing}' does not exist", 2 },
        { "select --json", "select {model} --json maybe", "unexpected argument 'maybe'", 2 },
        { "select --policy", "select {model} --policy fastest", "--policy 'fastest' is not one of latency, throughput, cpu, gpu", 2 },
        { "select --input", "select {model} --input {dir}", "--input '{dir}' is a directory, not a file", 2 },
        { "run MODEL", "run {dir}", "MODEL '{dir}' is a directory, not a file", 2 },
        { "run --backend", "run {model} --backend", "option --backend needs a value", 2 },
        { "run --backend", "run {model} --backend tpu", "unknown backend or device 'tpu'", 1 },
        { "run --input", "run {model} --input {missing}", "--input '{missing}' does not exist", 2 },
        { "run --output-dir", "run {model} --output-dir {file}", "--output-dir '{file}' is a file, not a directory", 2 },
        { "run --cache", "run {model} --cache {file}", "--cache '{file}' is a file, not a directory", 2 },
        { "run --ep-option", "run {model} --ep-option ort-cpu", "--ep-option takes TARGET.OPTION=VALUE (for example ort-cuda:0.gpu_mem_limit=2147483648), not 'ort-cpu'", 2 },
        { "run --ep-option", "run {model} --ep-option tpu.x=1", "--ep-option names 'tpu', which is no ONNX Runtime device or provider of this machine", 1 },
        { "run --ep-option", "run {model} --ep-option ort-cpu=1", "--ep-option takes TARGET.OPTION=VALUE (for example ort-cuda:0.gpu_mem_limit=2147483648), not 'ort-cpu=1'", 2 },
        { "select --ep-option", "select {model} --ep-option cuda9.x=1", "--ep-option names 'cuda9'", 1 },
        { "run --variant", "run {model} --variant xnnpack", "--variant needs --backend (the device whose variant it is)", 2 },
        { "run --variant", "run {model} --backend ort-cpu --variant xnnpack", "--variant xnnpack: ort-cpu has no compile variants", 1 },
        { "convert MODEL", "convert {missing} {out}", "MODEL '{missing}' does not exist", 2 },
        { "convert OUT.onnx", "convert {model} {dir}", "OUT.onnx '{dir}' is a directory", 2 },
        { "convert OUT.onnx", "convert {model} {model}", "OUT.onnx is the input model", 2 },
        { "conformance DATA_ROOT", "conformance {file} --backend ort", "DATA_ROOT '{file}' is a file, not a directory", 2 },
        { "conformance --backend", "conformance {dir}", "option '--backend' is required", 2 },
        { "conformance --csv", "conformance {dir} --backend ort --csv {dir}", "--csv '{dir}' is a directory", 2 },
        { "conformance --expected", "conformance {dir} --backend ort --expected {missing}", "--expected '{missing}' does not exist", 2 },
        { "conformance --suite", "conformance {dir} --backend ort --suite", "option --suite needs a value", 2 },
        { "conformance --filter", "conformance {dir} --backend ort --filter", "option --filter needs a value", 2 },
        { "autotune MODEL", "autotune {missing} --report {out}", "MODEL '{missing}' does not exist", 2 },
        { "autotune --report", "autotune {model}", "option '--report' is required", 2 },
        { "autotune --report", "autotune {model} --report {file}", "--report '{file}' is a file, not a directory", 2 },
        { "autotune --input", "autotune {model} --report {out} --input {dir}", "--input '{dir}' is a directory, not a file", 2 },
        { "autotune --policy", "autotune {model} --report {out} --policy 7", "--policy '7' is not one of", 2 },
        { "autotune --device", "autotune {model} --report {out} --device", "option --device needs a value", 2 },
        { "autotune --pin", "autotune {model} --report {out} --pin relu", "--pin takes NODE_OR_OP=DEVICE, not 'relu'", 2 },
        { "autotune --ep-option", "autotune {model} --report {out} --ep-option =1", "--ep-option takes TARGET.OPTION=VALUE (for example ort-cuda:0.gpu_mem_limit=2147483648), not '=1'", 2 },
        { "autotune --pin", "autotune {model} --report {out} --pin =ort-cpu", "--pin takes NODE_OR_OP=DEVICE, not '=ort-cpu'", 2 },
        { "autotune --memory-limit", "autotune {model} --report {out} --memory-limit ort-cpu=12X", "--memory-limit takes DEVICE=BYTES", 2 },
        { "autotune --memory-limit", "autotune {model} --report {out} --memory-limit ort-cpu=0", "not 'ort-cpu=0'", 2 },
        { "autotune --memory-limit", "autotune {model} --report {out} --memory-limit ort-cpu=99999999999G", "not 'ort-cpu=99999999999G'", 2 },
        { "autotune --memory-limit", "autotune {model} --report {out} --memory-limit ort-cpu", "not 'ort-cpu'", 2 },
        { "autotune --memory-limit", "autotune {model} --report {out} --memory-limit tpu=1G", "--memory-limit names 'tpu', which is no device or backend of this machine", 1 },
        { "autotune --cache", "autotune {model} --report {out} --cache {file}", "--cache '{file}' is a file, not a directory", 2 },
        { "autotune --no-cache", "autotune {model} --report {out} --no-cache please", "unexpected argument 'please'", 2 },
        { "autotune --retune", "autotune {model} --report {out} --retune=often", "unexpected argument 'often'", 2 },
        { "autotune --overlap", "autotune {model} --report {out} --overlap sometimes", "--overlap 'sometimes' is not one of processors, devices, none", 2 },
        { "autotune --max-cosine-drop", "autotune {model} --report {out} --max-cosine-drop lots --calibration {dir}", "--max-cosine-drop 'lots' is not a number", 2 },
        { "autotune --max-cosine-drop", "autotune {model} --report {out} --max-cosine-drop 0.01", "--max-cosine-drop and --min-top1 need --calibration DIR", 2 },
        { "autotune --max-cosine-drop", "autotune {model} --report {out} --max-cosine-drop 3 --calibration {dir}", "--max-cosine-drop 3 is outside [0, 2]", 2 },
        { "autotune --min-top1", "autotune {model} --report {out} --min-top1 1.5 --calibration {dir}", "--min-top1 1.5 is outside [0, 1]", 2 },
        { "autotune --calibration", "autotune {model} --report {out} --calibration {dir}", "--calibration applies with --max-cosine-drop or --min-top1 only", 2 },
        { "autotune --calibration", "autotune {model} --report {out} --min-top1 0.9 --calibration {missing}", "--calibration '{missing}' does not exist", 2 },
        { "quantize MODEL", "quantize {dir} --mode dynamic --out {out}", "MODEL '{dir}' is a directory, not a file", 2 },
        { "quantize --mode", "quantize {model} --mode int4 --out {out}", "--mode 'int4' is not one of dynamic, static, fp16, mixed", 2 },
        { "quantize --max-cosine-drop", "quantize {model} --mode mixed --calibration {dir} --out {out}", "--mode mixed needs an accuracy budget: --max-cosine-drop X or --min-top1 Y", 2 },
        { "quantize --max-cosine-drop", "quantize {model} --mode dynamic --out {out} --max-cosine-drop 0.01", "--max-cosine-drop and --min-top1 apply to --mode mixed only", 2 },
        { "quantize --min-top1", "quantize {model} --mode mixed --calibration {dir} --out {out} --min-top1 much", "--min-top1 'much' is not a number", 2 },
        { "quantize --calibration", "quantize {model} --mode mixed --max-cosine-drop 0.01 --out {out}", "--mode mixed needs --calibration DIR", 2 },
        { "quantize --mode", "quantize {model} --out {out}", "option '--mode' is required", 2 },
        { "quantize --out", "quantize {model} --mode dynamic --out {model}", "is the input model", 2 },
        { "quantize --out", "quantize {model} --mode dynamic --out {dir}", "--out '{dir}' is a directory", 2 },
        { "quantize --calibration", "quantize {model} --mode static --calibration {missing} --out {out}", "--calibration '{missing}' does not exist", 2 },
        { "quantize --calibration", "quantize {model} --mode static --out {out}", "--mode static needs --calibration DIR", 2 },
        { "quantize --eval", "quantize {model} --mode dynamic --out {out} --eval {file}", "--eval '{file}' is a file, not a directory", 2 },
        { "quantize --report", "quantize {model} --mode dynamic --out {out} --report {file}", "--report '{file}' is a file, not a directory", 2 },
        { "quantize --calibrator", "quantize {model} --mode static --calibration {dir} --out {out} --calibrator median", "--calibrator 'median' is not one of minmax, percentile, entropy", 2 },
        { "quantize --percentile", "quantize {model} --mode static --calibration {dir} --out {out} --calibrator percentile --percentile abc", "--percentile 'abc' is not a number", 2 },
        { "quantize --percentile", "quantize {model} --mode static --calibration {dir} --out {out} --calibrator percentile --percentile NaN", "--percentile 'NaN' is not a number", 2 },
        { "quantize --per-tensor", "quantize {model} --mode dynamic --out {out} --per-tensor no", "unexpected argument 'no'", 2 },
        { "quantize --quantize-conv", "quantize {model} --mode dynamic --out {out} --quantize-conv=1", "unexpected argument '1'", 2 },
        { "quantize --exclude-node", "quantize {model} --mode dynamic --out {out} --exclude-node", "option --exclude-node needs a value", 2 },
        { "quantize --exclude-op", "quantize {model} --mode dynamic --out {out} --exclude-op", "option --exclude-op needs a value", 2 },
        { "quantize --block-op", "quantize {model} --mode fp16 --out {out} --block-op", "option --block-op needs a value", 2 },
        { "quantize --runs", "quantize {model} --mode dynamic --out {out} --runs abc", "--runs 'abc' is not a positive whole number", 2 },
        { "quantize --runs", "quantize {model} --mode dynamic --out {out} --runs 99999999999", "--runs '99999999999' is not a positive whole number", 2 },
        { "prune MODEL", "prune {missing} --sparsity 0.5 --out {out}", "MODEL '{missing}' does not exist", 2 },
        { "prune --sparsity", "prune {model} --sparsity half --out {out}", "--sparsity 'half' is not a number", 2 },
        { "prune --sparsity", "prune {model} --out {out}", "option '--sparsity' is required", 2 },
        { "prune --sparsity", "prune {model} --sparsity 1.5 --out {out}", "sparsity: 1.5 is outside [0, 1)", 1 },
        { "prune --out", "prune {model} --sparsity 0.5", "option '--out' is required", 2 },
        { "prune --structured", "prune {model} --sparsity 0.5 --out {out} --structured yes", "unexpected argument 'yes'", 2 },
        { "prune --global", "prune {model} --sparsity 0.5 --out {out} --global=yes", "unexpected argument 'yes'", 2 },
        { "prune --eval", "prune {model} --sparsity 0.5 --out {out} --eval {missing}", "--eval '{missing}' does not exist", 2 },
        { "prune --report", "prune {model} --sparsity 0.5 --out {out} --report {file}", "--report '{file}' is a file, not a directory", 2 },
        { "prune --runs", "prune {model} --sparsity 0.5 --out {out} --runs -3", "--runs '-3' is not a positive whole number", 2 },
        { "prune --calibration", "prune {model} --sparsity 0.5 --out {out} --calibration {dir}", "--calibration applies to --structured pruning only", 2 },
        { "prune --calibration", "prune {model} --sparsity 0.5 --out {out} --structured --calibration {missing}", "--calibration '{missing}' does not exist", 2 },
        { "prune --channel-multiple", "prune {model} --sparsity 0.5 --out {out} --structured --channel-multiple 0", "--channel-multiple '0' is not a positive whole number", 2 },
        { "prune --exclude-node", "prune {model} --sparsity 0.5 --out {out} --structured --exclude-node", "option --exclude-node needs a value", 2 },
        { "prune --ridge", "prune {model} --sparsity 0.5 --out {out} --structured --calibration {dir} --ridge lots", "--ridge 'lots' is not a number", 2 },
        { "prune --ridge", "prune {model} --sparsity 0.5 --out {out} --structured --ridge 0.1", "--ridge needs --calibration DIR", 2 },
        { "prune --global", "prune {model} --sparsity 0.5 --out {out} --structured --global", "--global applies to unstructured pruning only", 2 },
        { "prune --head-sparsity", "prune {model} --sparsity 0.5 --out {out} --head-sparsity 0.25", "--head-sparsity applies to --structured pruning only", 2 },
        { "prune --head-sparsity", "prune {model} --sparsity 0.5 --out {out} --structured --head-sparsity many", "--head-sparsity 'many' is not a number", 2 },
        { "prune --head-sparsity", "prune {model} --sparsity 0.5 --out {out} --structured --head-sparsity 1.5", "head sparsity: 1.5 is outside [0, 1)", 1 },
        { "node --cluster", "node --cluster mysql:db", "--cluster 'mysql:db' is neither localhost[:PORT] nor redis:HOST:PORT", 2 },
        { "node --cluster", "node --cluster redis:", "--cluster 'redis:' needs HOST:PORT after it", 2 },
        { "node --name", "node --name", "option --name needs a value", 2 },
        { "node --port", "node --port 70000", "--port '70000' is not a port number (1-65535)", 2 },
        { "node --gateway-port", "node --gateway-port 0", "--gateway-port '0' is not a port number (1-65535)", 2 },
        { "node --tls-cert", "node --tls-cert {missing}", "--tls-cert '{missing}' does not exist", 2 },
        { "node --store", "node --store {file}", "--store '{file}' is a file, not a directory", 2 },
        { "node --device", "node --device", "option --device needs a value", 2 },
        { "node --address", "node --address not-an-ip", "--address 'not-an-ip' is not an IP address", 2 },
        { "node --threads", "node --threads -1", "--threads '-1' is not a whole number of 0 or more", 2 },
    };

    private readonly string _dir = Directory.CreateTempSubdirectory("accelsdk-cli-args-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string SmallModel => Path.Combine(RepoPaths.OnnxCase("node", "test_relu"), "model.onnx");

    private static IEnumerable<Command> Verbs => Cli.BuildCommands().Subcommands;

    [Theory]
    [InlineData("devices")]
    [InlineData("select")]
    [InlineData("run")]
    [InlineData("convert")]
    [InlineData("conformance")]
    [InlineData("autotune")]
    [InlineData("quantize")]
    [InlineData("prune")]
    [InlineData("node")]
    [InlineData("cluster")]
    public void Every_verb_answers_help_with_its_usage_and_every_option(string verb)
    {
        foreach (var help in new[] { "--help", "-h" })
        {
            var (code, output, error) = CliRunner.Run(verb, help);
            Assert.Equal(0, code);
            Assert.Equal("", error);
            Assert.Contains($"accelsdk {verb}", output, StringComparison.Ordinal);
            Assert.Contains("Usage:", output, StringComparison.Ordinal);
            foreach (var option in Verbs.Single(c => c.Name == verb).Options) Assert.Contains(option.Name, output, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void The_top_level_help_lists_every_verb_and_the_exit_codes()
    {
        var (code, output, error) = CliRunner.Run("--help");
        Assert.Equal(0, code);
        Assert.Equal("", error);
        Assert.All(Verbs, verb => Assert.Contains(verb.Name, output, StringComparison.Ordinal));
        Assert.Contains("2 the command line is wrong", output, StringComparison.Ordinal);

        (code, output, _) = CliRunner.Run();
        Assert.Equal(2, code);
        Assert.Contains("Usage:", output, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(BadValues))]
    public void A_bad_value_gives_one_error_line_and_a_documented_exit_code(string symbol, string commandLine, string expected, int expectedCode)
    {
        Assert.False(string.IsNullOrEmpty(symbol));
        var output = Path.Combine(_dir, "out", "result.onnx");
        var (code, stdout, error) = CliRunner.Run(commandLine.Split(' ').Select(Fill).ToArray());
        Assert.True(code == expectedCode, $"exit {code}, expected {expectedCode}: {error}");
        var line = Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("accelsdk: error: ", line, StringComparison.Ordinal);
        Assert.Contains(Fill(expected), line, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled", line, StringComparison.Ordinal);
        Assert.Equal("", stdout);
        Assert.False(File.Exists(output), "nothing is written on a bad argument");
    }

    [Fact]
    public void The_bad_value_table_covers_every_option_and_argument_of_every_verb()
    {
        var covered = BadValues.Select(row => (string)row[0]).ToHashSet(StringComparer.Ordinal);
        var symbols = Verbs.SelectMany(verb => verb.Options.Where(o => o is not HelpOption).Select(o => $"{verb.Name} {o.Name}")
            .Concat(verb.Arguments.Select(a => $"{verb.Name} {a.Name}"))).ToList();
        Assert.Contains("run --backend", symbols);
        Assert.Contains("convert OUT.onnx", symbols);
        var uncovered = symbols.Where(s => !covered.Contains(s)).ToList();
        Assert.True(uncovered.Count == 0, "no bad-value case for: " + string.Join(", ", uncovered));
        var stale = covered.Where(s => !symbols.Contains(s)).ToList();
        Assert.True(stale.Count == 0, "cases for symbols that do not exist: " + string.Join(", ", stale));
    }

    [Fact]
    public void An_exception_escaping_a_command_is_one_line_whatever_its_type()
    {
        var (code, line) = Cli.ErrorLine(new NullReferenceException("first line\nsecond line"));
        Assert.Equal(3, code);
        Assert.Equal("accelsdk: error: internal error (System.NullReferenceException): first line second line (a bug in AccelSdk: please report this line)", line);

        var typed = new ModelLoadException("m.onnx", "truncated protobuf");
        (code, line) = Cli.ErrorLine(typed);
        Assert.Equal(1, code);
        Assert.Equal("accelsdk: error: " + typed.Message, line);

        (code, _) = Cli.ErrorLine(new OutOfMemoryException());
        Assert.Equal(1, code);
    }

    [Fact]
    public void A_malformed_tensor_file_is_one_line_and_exit_1()
    {
        var tensor = Path.Combine(_dir, "bad.pb");
        File.WriteAllBytes(tensor, [0x08, 0x03, 0x10, 0x63]); // dims: [3], data_type: 99 (undefined)
        var (code, stdout, error) = CliRunner.Run("run", SmallModel, "--backend", "ort-cpu", "--input", tensor);
        Assert.Equal(1, code);
        Assert.Equal("", stdout);
        var line = Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("bad.pb", line, StringComparison.Ordinal);
        Assert.Contains("data_type 99", line, StringComparison.Ordinal);
    }

    private string Fill(string text)
    {
        var file = Path.Combine(_dir, "existing.txt");
        if (!File.Exists(file)) File.WriteAllText(file, "not a model");
        return text.Replace("{model}", SmallModel, StringComparison.Ordinal)
            .Replace("{file}", file, StringComparison.Ordinal)
            .Replace("{dir}", _dir, StringComparison.Ordinal)
            .Replace("{missing}", Path.Combine(_dir, "missing", "nothing.onnx"), StringComparison.Ordinal)
            .Replace("{out}", Path.Combine(_dir, "out", "result.onnx"), StringComparison.Ordinal);
    }
}
