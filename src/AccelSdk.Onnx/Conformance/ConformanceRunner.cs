using System.Diagnostics;
using System.Globalization;
using AccelSdk.Backends;
using AccelSdk.Execution;
using AccelSdk.Ir;

namespace AccelSdk.Onnx.Conformance;

/// <summary>Outcome of one conformance case.</summary>
public enum CaseStatus
{
    /// <summary>Every output of every data set matched.</summary>
    Pass,
    /// <summary>The model ran but an output differed.</summary>
    Fail,
    /// <summary>Loading, planning, compiling or running raised an error.</summary>
    Error,
    /// <summary>Not run; the reason says why (for example non-tensor inputs).</summary>
    Skip,
    /// <summary>The backend does not claim every node of the case (its capability answer refused one); not a failure.</summary>
    NotClaimed,
}

/// <summary>One case's result.</summary>
/// <param name="Suite">Folder of the suite (<c>node</c>, <c>simple</c>, ...).</param>
/// <param name="Test">Case name (<c>test_abs</c>).</param>
/// <param name="Status">Outcome.</param>
/// <param name="Reason">Why it did not pass; empty on pass.</param>
/// <param name="Milliseconds">Wall time of the case.</param>
public sealed record CaseResult(string Suite, string Test, CaseStatus Status, string Reason, double Milliseconds)
{
    /// <summary><c>suite/test</c>.</summary>
    public string Key => $"{Suite}/{Test}";
}

/// <summary>A case expected not to pass on a backend, with the reason.</summary>
/// <param name="Key"><c>suite/test</c>.</param>
/// <param name="Reason">Why it is expected to fail.</param>
public sealed record ExpectedFailure(string Key, string Reason);

/// <summary>Summary of a conformance run.</summary>
public sealed class ConformanceReport
{
    internal ConformanceReport(IReadOnlyList<CaseResult> results, IReadOnlyDictionary<string, ExpectedFailure> expected)
    {
        Results = results;
        UnexpectedFailures = results.Where(r => r.Status is not (CaseStatus.Pass or CaseStatus.NotClaimed) && !expected.ContainsKey(r.Key)).ToArray();
        UnexpectedPasses = results.Where(r => r.Status == CaseStatus.Pass && expected.ContainsKey(r.Key)).ToArray();
    }

    /// <summary>Every case.</summary>
    public IReadOnlyList<CaseResult> Results { get; }

    /// <summary>Number of passing cases.</summary>
    public int Passed => Results.Count(r => r.Status == CaseStatus.Pass);

    /// <summary>Cases that did not pass and are not in the expected-failure list.</summary>
    public IReadOnlyList<CaseResult> UnexpectedFailures { get; }

    /// <summary>Cases in the expected-failure list that passed.</summary>
    public IReadOnlyList<CaseResult> UnexpectedPasses { get; }

    /// <summary>Count per status.</summary>
    public IReadOnlyDictionary<CaseStatus, int> Counts => Enum.GetValues<CaseStatus>().ToDictionary(s => s, s => Results.Count(r => r.Status == s));

    /// <summary>Writes <c>suite,test,status,reason</c> rows.</summary>
    public void WriteCsv(string path)
    {
        using var writer = new StreamWriter(path);
        writer.WriteLine("suite,test,status,reason");
        foreach (var r in Results)
        {
            writer.WriteLine($"{r.Suite},{r.Test},{r.Status.ToString().ToLowerInvariant()},{Csv(r.Reason)}");
        }
    }

    private static string Csv(string s) => s.Contains(',') || s.Contains('"') || s.Contains('\n')
        ? "\"" + s.Replace("\"", "\"\"").Replace("\n", " ") + "\""
        : s;
}

/// <summary>
/// Runs the ONNX backend test suite (the layout of Debian's <c>libonnx-testdata</c>: <c>DATA_ROOT/SUITE/CASE/model.onnx</c>
/// and <c>test_data_set_N/{input,output}_K.pb</c>) through AccelSdk on one device, comparing like numpy's
/// <c>assert_allclose(rtol=1e-3, atol=1e-5)</c>.
/// </summary>
public sealed class ConformanceRunner
{
    /// <summary>The suites run by default.</summary>
    public static readonly IReadOnlyList<string> DefaultSuites = new[] { "node", "pytorch-converted", "pytorch-operator", "simple" };

    private readonly IBackend _backend;
    private readonly Device _device;

    /// <summary>Runs on <paramref name="device"/> of <paramref name="backend"/>.</summary>
    public ConformanceRunner(IBackend backend, Device device)
    {
        _backend = backend;
        _device = device;
    }

    /// <summary>Relative tolerance.</summary>
    public double RelativeTolerance { get; init; } = 1e-3;

    /// <summary>Absolute tolerance.</summary>
    public double AbsoluteTolerance { get; init; } = 1e-5;

    /// <summary>Applied to each case's model before it runs (an opset upgrade, for instance); null runs the model as loaded.</summary>
    public Func<Model, Model>? ModelTransform { get; init; }

    /// <summary>Reads an expected-failure list: one <c>suite/test&lt;TAB&gt;reason</c> per line; '#' starts a comment.</summary>
    public static IReadOnlyDictionary<string, ExpectedFailure> ReadExpectedFailures(string path)
    {
        var result = new Dictionary<string, ExpectedFailure>(StringComparer.Ordinal);
        foreach (var raw in File.ReadLines(path))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#')) continue;
            var parts = line.Split('\t', 2);
            if (parts.Length < 2 || parts[1].Trim().Length == 0)
            {
                throw new FormatException($"{path}: line '{line}' needs 'suite/test<TAB>reason'");
            }
            result[parts[0].Trim()] = new ExpectedFailure(parts[0].Trim(), parts[1].Trim());
        }
        return result;
    }

    /// <summary>Runs every case under <paramref name="dataRoot"/> in <paramref name="suites"/>, optionally filtered by a substring.</summary>
    public ConformanceReport Run(string dataRoot, IReadOnlyDictionary<string, ExpectedFailure>? expected = null,
        IEnumerable<string>? suites = null, string? filter = null, Action<CaseResult>? progress = null)
    {
        if (!Directory.Exists(dataRoot)) throw new AccelSdkException($"{dataRoot}: conformance data folder not found (install Debian's libonnx-testdata)");
        var results = new List<CaseResult>();
        foreach (var suite in suites ?? DefaultSuites)
        {
            var suiteDir = Path.Combine(dataRoot, suite);
            if (!Directory.Exists(suiteDir)) throw new AccelSdkException($"{suiteDir}: suite folder not found");
            foreach (var caseDir in Directory.GetDirectories(suiteDir).OrderBy(d => d, StringComparer.Ordinal))
            {
                var name = Path.GetFileName(caseDir);
                if (filter is not null && !name.Contains(filter, StringComparison.Ordinal)) continue;
                var result = RunCase(suite, caseDir);
                results.Add(result);
                progress?.Invoke(result);
            }
        }
        return new ConformanceReport(results, expected ?? new Dictionary<string, ExpectedFailure>());
    }

    /// <summary>Runs one case folder.</summary>
    public CaseResult RunCase(string suite, string caseDir)
    {
        var name = Path.GetFileName(caseDir);
        var watch = Stopwatch.StartNew();
        CaseResult Result(CaseStatus status, string reason) => new(suite, name, status, reason, watch.Elapsed.TotalMilliseconds);
        Model model;
        try
        {
            model = OnnxImporter.Load(Path.Combine(caseDir, "model.onnx"));
        }
        catch (ModelLoadException e)
        {
            return Result(CaseStatus.Error, "load: " + e.Problem);
        }
        if (model.Graph.FirstNonTensorInputOrOutput() is { } nonTensor)
        {
            return Result(CaseStatus.Skip, $"non-tensor I/O: '{nonTensor.Name}' is {nonTensor.Type}; AccelSdk sessions exchange dense tensors only");
        }
        try
        {
            if (ModelTransform is not null) model = ModelTransform(model);
            using var session = new AccelSession(GraphPartitioner.WholeModel(model, _backend, _device));
            var dataSets = Directory.GetDirectories(caseDir, "test_data_set_*").OrderBy(d => d, StringComparer.Ordinal).ToArray();
            if (dataSets.Length == 0) return Result(CaseStatus.Error, "no test_data_set_* folder");
            foreach (var dataSet in dataSets)
            {
                var inputs = OnnxTensors.ReadInputs(model, Directory.GetFiles(dataSet, "input_*.pb").OrderBy(f => Index(f)).ToArray());
                var outputs = session.Run(inputs);
                var expectedFiles = Directory.GetFiles(dataSet, "output_*.pb").OrderBy(f => Index(f)).ToArray();
                if (expectedFiles.Length != outputs.Count)
                {
                    return Result(CaseStatus.Fail, $"{Path.GetFileName(dataSet)}: {outputs.Count} outputs but {expectedFiles.Length} expected");
                }
                for (var i = 0; i < expectedFiles.Length; i++)
                {
                    var expectedTensor = OnnxTensors.AsDeclared(OnnxTensors.ReadFile(expectedFiles[i]), outputs[i].ElementType);
                    var problem = TensorComparison.Compare(outputs[i], expectedTensor, RelativeTolerance, AbsoluteTolerance);
                    if (problem is not null)
                    {
                        return Result(CaseStatus.Fail, $"{Path.GetFileName(dataSet)} output_{i} ({outputs.Names[i]}): {problem}");
                    }
                }
            }
            return Result(CaseStatus.Pass, "");
        }
        catch (UnsupportedOperatorException e)
        {
            return Result(CaseStatus.NotClaimed, e.Message.ReplaceLineEndings(" "));
        }
        catch (AccelSdkException e)
        {
            return Result(CaseStatus.Error, e.Message.ReplaceLineEndings(" "));
        }
    }

    private static int Index(string file)
    {
        var stem = Path.GetFileNameWithoutExtension(file);
        return int.Parse(stem[(stem.LastIndexOf('_') + 1)..], CultureInfo.InvariantCulture);
    }
}
