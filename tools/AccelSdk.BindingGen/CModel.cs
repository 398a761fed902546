namespace AccelSdk.BindingGen;

/// <summary>A header could not be parsed or the options are inconsistent.</summary>
public sealed class GeneratorException(string message) : Exception(message);

internal sealed record CEnum(string Name, string UnderlyingType, List<(string Name, string Value, string? Doc)> Members, string? Doc, bool IsAnonymous);

internal sealed record CField(string Name, string Type, long OffsetBytes, int? FixedLength, string? Comment, string? Doc);

internal sealed class CStruct(string name)
{
    public string Name { get; } = name;
    public long Size { get; set; } = -1;
    public bool IsUnion { get; set; }
    public List<CField> Fields { get; } = new();
    public List<string> Notes { get; } = new();
    public string? Doc { get; set; }
    public bool IsDefined => Size >= 0;
}

internal sealed record CParam(string Name, string Type, string? Attribute);

internal sealed record CFunction(string Name, string ReturnType, string? ReturnAttribute, List<CParam> Params, string? Doc, string? SkipReason);
