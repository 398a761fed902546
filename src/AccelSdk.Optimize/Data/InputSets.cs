using AccelSdk.Ir;
using AccelSdk.Onnx;

namespace AccelSdk.Optimize.Data;

/// <summary>How images become a model input: resize, layout and normalization.</summary>
public sealed record ImagePreprocessing
{
    /// <summary>Per-channel mean subtracted after scaling to [0,1] (ImageNet by default).</summary>
    public float[] Mean { get; init; } = { 0.485f, 0.456f, 0.406f };

    /// <summary>Per-channel standard deviation divided by (ImageNet by default).</summary>
    public float[] Std { get; init; } = { 0.229f, 0.224f, 0.225f };

    /// <summary>Height and width used when the model's input dimensions are symbolic.</summary>
    public int DefaultSize { get; init; } = 224;

    /// <summary>
    /// Four views of every image instead of one: the image, its left-right mirror, and both zoomed in to the central
    /// three quarters. More varied calibration data from the same photos (a least-squares refit of a deep layer sees
    /// few positions per image).
    /// </summary>
    public bool Augment { get; init; }
}

/// <summary>Builds model inputs from real data: images, sentences, or ONNX TensorProto files, checked against the model.</summary>
public static class InputSets
{
    /// <summary>
    /// One input set per image: center crop, bilinear resize to the model's float input, normalization. The input is
    /// NCHW, or NHWC (TensorFlow exports such as BlazeFace) when its last dimension is 3 and its second is not.
    /// </summary>
    public static List<Dictionary<string, AccelTensor>> FromImages(Model model, IEnumerable<string> files, ImagePreprocessing? preprocessing = null)
    {
        preprocessing ??= new ImagePreprocessing();
        var inputs = model.Graph.RequiredInputs.ToList();
        if (inputs.Count != 1 || inputs[0].TensorType is not { ElementType: ElementType.Float32, Shape.Rank: 4 } type)
        {
            throw new CalibrationDataException(model.Label, $"images need a model with one float32 NCHW input; it takes {string.Join(", ", inputs.Select(i => $"{i.Name} {i.Type}"))}");
        }
        var dims = type.Shape!.Dims;
        var channelsLast = dims[3].Value == 3 && dims[1].Value != 3;
        if (channelsLast) dims = new[] { dims[0], dims[3], dims[1], dims[2] };
        if (dims[1].Value is { } c && c != 3) throw new CalibrationDataException(model.Label, $"input '{inputs[0].Name}' has {c} channels; images give 3 (RGB)");
        var height = (int)(dims[2].Value ?? preprocessing.DefaultSize);
        var width = (int)(dims[3].Value ?? preprocessing.DefaultSize);
        var result = new List<Dictionary<string, AccelTensor>>();
        foreach (var file in files)
        {
            var image = PngDecoder.Load(file);
            foreach (var (zoom, mirror) in preprocessing.Augment ? AugmentedViews : new[] { (1.0, false) })
            {
                var tensor = ToTensor(image, height, width, preprocessing, zoom, mirror);
                result.Add(new Dictionary<string, AccelTensor>(StringComparer.Ordinal) { [inputs[0].Name] = channelsLast ? ToChannelsLast(tensor) : tensor });
            }
        }
        return result;
    }

    private static readonly (double Zoom, bool Mirror)[] AugmentedViews = { (1.0, false), (1.0, true), (0.75, false), (0.75, true) };

    /// <summary>Center-crops to the target aspect ratio, resizes bilinearly and normalizes to a [1,3,H,W] tensor.</summary>
    public static AccelTensor ToTensor(RgbImage image, int height, int width, ImagePreprocessing preprocessing) =>
        ToTensor(image, height, width, preprocessing, 1.0, mirror: false);

    /// <summary>As <see cref="ToTensor(RgbImage, int, int, ImagePreprocessing)"/>, keeping the central <paramref name="zoom"/> of the crop, optionally mirrored left-right.</summary>
    private static AccelTensor ToTensor(RgbImage image, int height, int width, ImagePreprocessing preprocessing, double zoom, bool mirror)
    {
        var targetAspect = (double)width / height;
        double cropW = image.Width, cropH = image.Height;
        if (cropW / cropH > targetAspect) cropW = cropH * targetAspect; else cropH = cropW / targetAspect;
        (cropW, cropH) = (cropW * zoom, cropH * zoom);
        var x0 = (image.Width - cropW) / 2;
        var y0 = (image.Height - cropH) / 2;
        var tensor = AccelTensor.Zeros(ElementType.Float32, new long[] { 1, 3, height, width });
        var data = tensor.AsSpan<float>();
        for (var y = 0; y < height; y++)
        {
            var sy = Math.Clamp(y0 + (y + 0.5) * cropH / height - 0.5, 0, image.Height - 1);
            var iy = (int)sy;
            var fy = sy - iy;
            var iy1 = Math.Min(iy + 1, image.Height - 1);
            for (var x = 0; x < width; x++)
            {
                var sx = Math.Clamp(x0 + (x + 0.5) * cropW / width - 0.5, 0, image.Width - 1);
                var ix = (int)sx;
                var fx = sx - ix;
                var ix1 = Math.Min(ix + 1, image.Width - 1);
                for (var ch = 0; ch < 3; ch++)
                {
                    double Pixel(int px, int py) => image.Rgb[((long)py * image.Width + px) * 3 + ch];
                    var v = (1 - fy) * ((1 - fx) * Pixel(ix, iy) + fx * Pixel(ix1, iy)) + fy * ((1 - fx) * Pixel(ix, iy1) + fx * Pixel(ix1, iy1));
                    data[(ch * height + y) * width + (mirror ? width - 1 - x : x)] = (float)((v / 255.0 - preprocessing.Mean[ch]) / preprocessing.Std[ch]);
                }
            }
        }
        return tensor;
    }

    private static AccelTensor ToChannelsLast(AccelTensor nchw)
    {
        var (height, width) = ((int)nchw.Shape[2], (int)nchw.Shape[3]);
        var result = AccelTensor.Zeros(ElementType.Float32, new long[] { 1, height, width, 3 });
        var src = nchw.AsSpan<float>();
        var dst = result.AsSpan<float>();
        for (var ch = 0; ch < 3; ch++)
            for (var p = 0; p < height * width; p++) dst[p * 3 + ch] = src[ch * height * width + p];
        return result;
    }

    /// <summary>
    /// One input set per sentence for a BERT-style model: <c>input_ids</c>, <c>attention_mask</c> and
    /// <c>token_type_ids</c> (whichever the model takes) of shape [1, tokens].
    /// </summary>
    public static List<Dictionary<string, AccelTensor>> FromSentences(Model model, IEnumerable<string> sentences, WordPieceTokenizer tokenizer, int maxLength = 128)
    {
        var inputs = model.Graph.RequiredInputs.ToList();
        var known = new[] { "input_ids", "attention_mask", "token_type_ids" };
        var unknown = inputs.FirstOrDefault(i => !known.Contains(i.Name));
        if (unknown is not null || inputs.All(i => i.Name != "input_ids"))
        {
            throw new CalibrationDataException(model.Label, $"sentences need a model with inputs input_ids[, attention_mask, token_type_ids]; it takes {string.Join(", ", inputs.Select(i => i.Name))}");
        }
        var result = new List<Dictionary<string, AccelTensor>>();
        foreach (var sentence in sentences)
        {
            if (string.IsNullOrWhiteSpace(sentence)) continue;
            var ids = tokenizer.Encode(sentence, maxLength);
            var set = new Dictionary<string, AccelTensor>(StringComparer.Ordinal);
            foreach (var input in inputs)
            {
                var values = input.Name switch
                {
                    "input_ids" => ids,
                    "attention_mask" => Enumerable.Repeat(1L, ids.Length).ToArray(),
                    _ => new long[ids.Length],
                };
                set[input.Name] = AccelTensor.Create(values, 1, ids.Length);
            }
            result.Add(set);
        }
        return result;
    }

    /// <summary>
    /// Reads a folder of samples: PNG images, ONNX TensorProto files (<c>*.pb</c>, one sample each for a one-input
    /// model, or <c>input_N.pb</c> inside one subfolder per sample), and text files of one sentence per line (with a
    /// <c>vocab.txt</c> in the folder or given). Every sample is checked against the model's inputs.
    /// </summary>
    public static List<Dictionary<string, AccelTensor>> FromDirectory(Model model, string directory, string? vocabPath = null, ImagePreprocessing? preprocessing = null)
    {
        if (!Directory.Exists(directory)) throw new CalibrationDataException(directory, "folder not found");
        var files = Directory.EnumerateFiles(directory).Order(StringComparer.Ordinal).ToList();
        var result = new List<Dictionary<string, AccelTensor>>();
        var images = files.Where(f => f.EndsWith(".png", StringComparison.OrdinalIgnoreCase)).ToList();
        if (images.Count > 0) result.AddRange(FromImages(model, images, preprocessing));
        var texts = files.Where(f => f.EndsWith(".txt", StringComparison.OrdinalIgnoreCase) && Path.GetFileName(f) != "vocab.txt").ToList();
        if (texts.Count > 0)
        {
            vocabPath ??= new[] { Path.Combine(directory, "vocab.txt"), model.SourcePath is { } p ? Path.Combine(Path.GetDirectoryName(Path.GetFullPath(p))!, "vocab.txt") : "" }
                .FirstOrDefault(File.Exists)
                ?? throw new CalibrationDataException(directory, "holds sentence files but no vocab.txt (put one in the folder or next to the model)");
            var tokenizer = WordPieceTokenizer.Load(vocabPath);
            result.AddRange(FromSentences(model, texts.SelectMany(File.ReadLines), tokenizer));
        }
        var required = model.Graph.RequiredInputs.ToList();
        foreach (var pb in files.Where(f => f.EndsWith(".pb", StringComparison.OrdinalIgnoreCase)))
        {
            if (required.Count != 1) throw new CalibrationDataException(pb, $"{model.Label} takes {required.Count} inputs; give one subfolder per sample with input_0.pb ... input_{required.Count - 1}.pb");
            result.Add(new Dictionary<string, AccelTensor>(StringComparer.Ordinal) { [required[0].Name] = ReadTensor(pb) });
        }
        foreach (var sub in Directory.EnumerateDirectories(directory).Order(StringComparer.Ordinal))
        {
            var set = new Dictionary<string, AccelTensor>(StringComparer.Ordinal);
            for (var i = 0; i < required.Count; i++)
            {
                var path = Path.Combine(sub, $"input_{i}.pb");
                if (File.Exists(path)) set[required[i].Name] = ReadTensor(path);
            }
            if (set.Count == required.Count) result.Add(set);
            else if (set.Count > 0) throw new CalibrationDataException(sub, $"holds {set.Count} of the {required.Count} inputs {model.Label} takes");
        }
        if (result.Count == 0)
        {
            throw new CalibrationDataException(directory, "holds no usable samples (PNG images, *.pb tensors, or *.txt sentences with a vocab.txt)");
        }
        foreach (var set in result) Validate(model, set, directory);
        return result;
    }

    /// <summary>Checks that one sample set matches the model's inputs in names, dtypes and shapes.</summary>
    public static void Validate(Model model, IReadOnlyDictionary<string, AccelTensor> set, string source)
    {
        foreach (var input in model.Graph.RequiredInputs)
        {
            if (!set.TryGetValue(input.Name, out var tensor)) throw new CalibrationDataException(source, $"a sample lacks input '{input.Name}' of {model.Label}");
            if (input.TensorType is not { } type) continue;
            if (tensor.ElementType != type.ElementType)
            {
                throw new CalibrationDataException(source, $"input '{input.Name}' of {model.Label} is {type.ElementType.ShortName()}, a sample gives {tensor.ElementType.ShortName()}");
            }
            if (type.Shape is { } shape && !shape.Accepts(tensor.Shape))
            {
                throw new CalibrationDataException(source, $"input '{input.Name}' of {model.Label} has shape {shape}, a sample has {TensorShape.Format(tensor.Shape)}");
            }
        }
    }

    private static AccelTensor ReadTensor(string path)
    {
        try
        {
            return OnnxTensors.ReadFile(path);
        }
        catch (Exception e) when (e is not CalibrationDataException and not OutOfMemoryException)
        {
            throw new CalibrationDataException(path, $"not a readable ONNX TensorProto: {e.Message}");
        }
    }
}
