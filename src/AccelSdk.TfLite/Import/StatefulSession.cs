using AccelSdk.Execution;
using AccelSdk.Ir;

namespace AccelSdk.TfLite.Import;

/// <summary>
/// Runs a streaming model imported from a <c>.tflite</c> with resource variables on any backend, holding its state as
/// TFLite's interpreter does: each run feeds the state the previous run left (the CALL_ONCE values at first and after
/// <see cref="Reset"/>) and keeps the new state. The imported graph itself is stateless: its state travels through the
/// input/output pairs of <see cref="TfLiteImporter.StateVariables"/>.
/// </summary>
public sealed class StatefulSession : IDisposable
{
    private readonly AccelSession _session;
    private readonly TfLiteImporter.StateVariable[] _state;
    private readonly Dictionary<string, AccelTensor> _current = new(StringComparer.Ordinal);
    private readonly string[] _inputs;
    private readonly string[] _outputs;

    /// <summary>Wraps (and owns) <paramref name="session"/>.</summary>
    public StatefulSession(AccelSession session)
    {
        _session = session;
        _state = TfLiteImporter.StateVariables(session.Model).ToArray();
        var stateInputs = _state.Select(s => s.Input).ToHashSet(StringComparer.Ordinal);
        var stateOutputs = _state.Select(s => s.Output).Where(o => o.Length > 0).ToHashSet(StringComparer.Ordinal);
        _inputs = session.Inputs.Select(i => i.Name).Where(n => !stateInputs.Contains(n)).ToArray();
        _outputs = session.OutputNames.Where(n => !stateOutputs.Contains(n)).ToArray();
    }

    /// <summary>The model's own inputs (state excluded), in the order <see cref="Run"/> takes them.</summary>
    public IReadOnlyList<string> InputNames => _inputs;

    /// <summary>The model's own outputs (state excluded), in the order <see cref="Run"/> returns them.</summary>
    public IReadOnlyList<string> OutputNames => _outputs;

    /// <summary>The state variables' graph inputs and outputs.</summary>
    public IReadOnlyList<TfLiteImporter.StateVariable> StateVariables => _state;

    /// <summary>Runs one step with the model's own inputs; returns its own outputs and keeps the new state.</summary>
    public AccelTensor[] Run(params AccelTensor[] inputs)
    {
        if (inputs.Length != _inputs.Length)
        {
            throw new InputMismatchException(inputs.Length < _inputs.Length ? _inputs[inputs.Length] : $"#{inputs.Length}",
                $"{_session.Model.Label} takes {_inputs.Length} input(s) besides its state ({string.Join(", ", _inputs)}), {inputs.Length} given");
        }
        if (_current.Count == 0)
        {
            foreach (var variable in _state)
            {
                _current[variable.Input] = variable.Initial
                    ?? throw new InputMismatchException(variable.Input, $"{_session.Model.Label}: variable read before the model assigns it an initial value");
            }
        }
        var named = new Dictionary<string, AccelTensor>(_current, StringComparer.Ordinal);
        for (var i = 0; i < inputs.Length; i++) named[_inputs[i]] = inputs[i];
        var result = _session.Run(named);
        foreach (var variable in _state.Where(v => v.Output.Length > 0)) _current[variable.Input] = result[variable.Output];
        return _outputs.Select(name => result[name]).ToArray();
    }

    /// <summary>Forgets the state: the next run starts from the initial values again.</summary>
    public void Reset() => _current.Clear();

    /// <summary>Disposes the wrapped session.</summary>
    public void Dispose() => _session.Dispose();
}
