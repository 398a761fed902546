using AccelSdk.Ir;
using Op = AccelSdk.TfLite.Native.TfLiteBuiltinOperator;

namespace AccelSdk.TfLite.Import;

/// <summary>
/// TFLite resource variables (streaming models' state) as explicit graph state: each variable becomes a graph input,
/// READ_VARIABLE reads the variable's current value, ASSIGN_VARIABLE replaces it, and the value after the last assign
/// becomes a graph output. The value CALL_ONCE's init subgraph assigns is kept as an initializer "&lt;input&gt;:initial"
/// (not as a default of the input: ONNX Runtime freezes inputs that have initializers into constants unless asked
/// otherwise). <see cref="TfLiteImporter.StateVariables"/> lists them; <see cref="StatefulSession"/> feeds each output
/// back as the next run's input, which is what TFLite's interpreter does with its resource map.
/// </summary>
internal sealed partial class ImportContext
{
    private sealed class Variable(string input, Ir.ValueType type)
    {
        public string Input { get; } = input;

        public Ir.ValueType Type { get; } = type;

        public string Current { get; set; } = input;

        public bool Assigned { get; set; }

        public string? Initial { get; set; }
    }

    private readonly Dictionary<int, string> _resourceKeys = new();
    private readonly Dictionary<string, AccelTensor> _initialValues = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Variable> _variables = new(StringComparer.Ordinal);
    private readonly List<string> _variableOrder = new();
    private string? _stateMetadata;

    private bool TryConvertVariableOp(Op code, int[] i, int[] o, FbTable options)
    {
        switch (code)
        {
            case Op.kTfLiteBuiltinVarHandle:
                _resourceKeys[o[0]] = VariableKey(options, _names[o[0]]);
                return true;
            case Op.kTfLiteBuiltinCallOnce:
                return ReadInitialValues(options.IsNull ? -1 : options.GetInt(0));
            case Op.kTfLiteBuiltinReadVariable:
            {
                if (!_resourceKeys.TryGetValue(i[0], out var key)) return false;
                var variable = DeclareVariable(key, o[0]);
                AddNode("Identity", new[] { variable.Current }, new[] { _names[o[0]] });
                return true;
            }
            case Op.kTfLiteBuiltinAssignVariable:
            {
                if (!_resourceKeys.TryGetValue(i[0], out var key)) return false;
                var variable = DeclareVariable(key, i[1]);
                variable.Current = Raw(i[1]);
                variable.Assigned = true;
                return true;
            }
            default: return false;
        }
    }

    /// <summary>VarHandleOptions: container (0), shared_name (1); TFLite identifies a variable by both.</summary>
    private static string VariableKey(FbTable options, string fallback)
    {
        if (options.IsNull) return fallback;
        var container = options.GetString(0) ?? "";
        var shared = options.GetString(1);
        if (string.IsNullOrEmpty(shared)) return fallback;
        return container.Length == 0 ? shared : container + "/" + shared;
    }

    private Variable DeclareVariable(string key, int typedLike)
    {
        if (_variables.TryGetValue(key, out var existing)) return existing;
        var type = DeclaredType(typedLike);
        var variable = new Variable(Unique(key), type);
        _variables[key] = variable;
        _variableOrder.Add(key);
        _graph.Inputs.Add(new ValueInfo(variable.Input, type));
        if (_initialValues.TryGetValue(key, out var initial))
        {
            if (type is not TensorType declared || declared.ElementType != initial.ElementType || declared.Shape is null ||
                !declared.Shape.Accepts(initial.Shape))
            {
                throw new ModelLoadException(_path, $"variable '{key}': CALL_ONCE initializes it with {initial.ElementType.ShortName()}{TensorShape.Format(initial.Shape)}, the model uses it as {type}");
            }
            variable.Initial = Unique(variable.Input + ":initial");
            _graph.Initializers.Add(initial.WithName(variable.Initial));
        }
        return variable;
    }

    /// <summary>
    /// Reads CALL_ONCE's init subgraph: only VAR_HANDLE and ASSIGN_VARIABLE of constants are understood (what TFLite's
    /// converter emits for variable initial values); anything else keeps CALL_ONCE a TFLite op.
    /// </summary>
    private bool ReadInitialValues(int subgraphIndex)
    {
        var subgraphs = _root.GetTables(ModelFields.Subgraphs);
        if (subgraphIndex <= 0 || subgraphIndex >= subgraphs.Length) return false;
        var init = subgraphs[subgraphIndex];
        var tensors = init.GetTables(SubGraphFields.Tensors);
        var codes = _root.GetTables(ModelFields.OperatorCodes);
        var keys = new Dictionary<int, string>();
        var values = new Dictionary<string, AccelTensor>(StringComparer.Ordinal);
        foreach (var op in init.GetTables(SubGraphFields.Operators))
        {
            var codeIndex = (int)op.GetUInt(OperatorFields.OpcodeIndex);
            if ((uint)codeIndex >= (uint)codes.Length) return false;
            var code = (Op)Math.Max(codes[codeIndex].GetByte(OperatorCodeFields.DeprecatedBuiltinCode), codes[codeIndex].GetInt(OperatorCodeFields.BuiltinCode));
            var inputs = op.GetInts(OperatorFields.Inputs);
            var outputs = op.GetInts(OperatorFields.Outputs);
            if (inputs.Concat(outputs).Any(t => (uint)t >= (uint)tensors.Length)) return false;
            if (code == Op.kTfLiteBuiltinVarHandle && outputs.Length == 1)
            {
                keys[outputs[0]] = VariableKey(op.GetUnion(OperatorFields.BuiltinOptions), tensors[outputs[0]].GetString(TensorFields.Name) ?? $"variable_{outputs[0]}");
            }
            else if (code == Op.kTfLiteBuiltinAssignVariable && inputs.Length == 2 && keys.TryGetValue(inputs[0], out var key))
            {
                var value = InitSubgraphConstant(tensors[inputs[1]]);
                if (value is null) return false;
                values[key] = value;
            }
            else return false;
        }
        foreach (var (key, value) in values) _initialValues[key] = value;
        return true;
    }

    private AccelTensor? InitSubgraphConstant(FbTable tensor)
    {
        var type = ToElementType((SchemaTensorType)tensor.GetByte(TensorFields.Type), -1);
        if (type is ElementType.Undefined or ElementType.String || tensor.Has(TensorFields.Sparsity)) return null;
        var index = (int)tensor.GetUInt(TensorFields.Buffer);
        if (index <= 0 || index >= _buffers.Length) return null;
        var buffer = _buffers[index];
        var offset = buffer.GetULong(BufferFields.Offset);
        var bytes = offset > 1 ? _root.Slice(offset, buffer.GetULong(BufferFields.Size)) : buffer.GetVectorBytes(BufferFields.Data, 1);
        var shape = tensor.GetInts(TensorFields.Shape).Select(d => (long)d).ToArray();
        if (bytes.Length != AccelTensor.CountElements(shape) * type.SizeInBytes()) return null;
        return AccelTensor.FromBytes(type, shape, bytes);
    }

    /// <summary>
    /// After the last operator: each assigned variable's final value becomes a graph output; every variable is listed in
    /// the metadata (a variable the model only reads has no output: its value stays the initial one).
    /// </summary>
    private void FinishVariables()
    {
        var lines = new List<string>();
        foreach (var key in _variableOrder)
        {
            var variable = _variables[key];
            var output = "";
            if (variable.Assigned)
            {
                output = Unique(variable.Input + ":next");
                _graph.Nodes.Add(new Node("Identity", new[] { variable.Current }, new[] { output }, Unique($"variable/{key}/next")));
                _graph.Outputs.Add(new ValueInfo(output, variable.Type));
            }
            lines.Add(variable.Input + "\t" + output + "\t" + (variable.Initial ?? ""));
        }
        if (lines.Count > 0) _stateMetadata = string.Join("\n", lines);
    }
}
