using AccelSdk.Ir;
using AccelSdk.Onnx;

namespace AccelSdk.Optimize.Validation;

/// <summary>Writes an optimized model only after it passed <see cref="ModelValidator"/>, atomically.</summary>
public static class OptimizedModelWriter
{
    /// <summary>
    /// Validates <paramref name="optimized"/> against <paramref name="original"/>, then writes it to a temporary file in
    /// the folder of <paramref name="path"/> and renames it over <paramref name="path"/>. When validation or writing
    /// fails nothing is left behind and an existing file at <paramref name="path"/> is untouched.
    /// </summary>
    public static void Write(Model original, OptimizationResult optimized, string path, ValidationOptions? options = null)
    {
        ModelValidator.Validate(original, optimized, options);
        WriteAtomically(OnnxExporter.ToBytes(optimized.Model), path);
    }

    private static void WriteAtomically(byte[] bytes, string path)
    {
        var fullPath = Path.GetFullPath(path);
        var directory = Path.GetDirectoryName(fullPath)!;
        Directory.CreateDirectory(directory);
        var temp = Path.Combine(directory, $".{Path.GetFileName(fullPath)}.{Guid.NewGuid():N}.tmp");
        try
        {
            File.WriteAllBytes(temp, bytes);
            File.Move(temp, fullPath, overwrite: true);
        }
        catch (IOException e)
        {
            File.Delete(temp);
            throw new OptimizationException($"{path}: cannot write the optimized model: {e.Message}", e);
        }
        catch (UnauthorizedAccessException e)
        {
            File.Delete(temp);
            throw new OptimizationException($"{path}: cannot write the optimized model: {e.Message}", e);
        }
    }
}
