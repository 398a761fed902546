using System.Buffers.Binary;
using System.IO.Compression;

namespace AccelSdk.Optimize.Data;

/// <summary>An 8-bit RGB image in row-major, interleaved order.</summary>
/// <param name="Width">Width in pixels.</param>
/// <param name="Height">Height in pixels.</param>
/// <param name="Rgb">Width x Height x 3 bytes.</param>
public sealed record RgbImage(int Width, int Height, byte[] Rgb);

/// <summary>
/// Reads PNG files: 8-bit grayscale, gray+alpha, RGB and RGBA, palette, non-interlaced — what sample-image sets use.
/// Other variants are refused with a <see cref="CalibrationDataException"/> naming the file.
/// </summary>
public static class PngDecoder
{
    private static readonly byte[] Signature = { 137, 80, 78, 71, 13, 10, 26, 10 };

    /// <summary>Decodes <paramref name="path"/> to RGB (alpha dropped, gray replicated).</summary>
    public static RgbImage Load(string path)
    {
        var bytes = File.ReadAllBytes(path);
        try
        {
            return Decode(bytes, path);
        }
        catch (Exception e) when (e is InvalidDataException or ArgumentOutOfRangeException or IndexOutOfRangeException or EndOfStreamException)
        {
            throw new CalibrationDataException(path, $"not a readable PNG: {e.Message}");
        }
    }

    private static RgbImage Decode(byte[] bytes, string path)
    {
        if (bytes.Length < 8 || !bytes.AsSpan(0, 8).SequenceEqual(Signature)) throw new CalibrationDataException(path, "not a PNG file (bad signature)");
        int width = 0, height = 0, bitDepth = 0, colorType = 0, interlace = 0;
        byte[]? palette = null;
        using var idat = new MemoryStream();
        var pos = 8;
        while (pos + 8 <= bytes.Length)
        {
            var length = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(pos));
            var type = System.Text.Encoding.ASCII.GetString(bytes, pos + 4, 4);
            if (length < 0 || pos + 12 + length > bytes.Length) throw new CalibrationDataException(path, $"PNG chunk {type} is truncated");
            var data = bytes.AsSpan(pos + 8, length);
            switch (type)
            {
                case "IHDR":
                    width = BinaryPrimitives.ReadInt32BigEndian(data);
                    height = BinaryPrimitives.ReadInt32BigEndian(data[4..]);
                    (bitDepth, colorType, interlace) = (data[8], data[9], data[12]);
                    break;
                case "PLTE":
                    palette = data.ToArray();
                    break;
                case "IDAT":
                    idat.Write(data);
                    break;
            }
            pos += 12 + length;
            if (type == "IEND") break;
        }
        if (width <= 0 || height <= 0) throw new CalibrationDataException(path, "PNG has no valid IHDR");
        if (bitDepth != 8 || interlace != 0) throw new CalibrationDataException(path, $"PNG with bit depth {bitDepth}{(interlace != 0 ? ", interlaced" : "")} is not supported (8-bit, non-interlaced only)");
        var channels = colorType switch
        {
            0 => 1,
            2 => 3,
            3 => 1,
            4 => 2,
            6 => 4,
            _ => throw new CalibrationDataException(path, $"PNG color type {colorType} is not supported"),
        };
        if (colorType == 3 && palette is null) throw new CalibrationDataException(path, "palette PNG without PLTE chunk");
        var stride = width * channels;
        var raw = new byte[(long)height * stride];
        idat.Position = 0;
        using (var z = new ZLibStream(idat, CompressionMode.Decompress))
        {
            var previous = new byte[stride];
            var line = new byte[stride];
            var filter = new byte[1];
            for (var y = 0; y < height; y++)
            {
                z.ReadExactly(filter);
                z.ReadExactly(line);
                Unfilter(filter[0], line, previous, channels, path);
                line.CopyTo(raw, (long)y * stride);
                (previous, line) = (line, previous);
            }
        }
        var rgb = new byte[(long)width * height * 3];
        for (long p = 0; p < (long)width * height; p++)
        {
            var s = p * channels;
            switch (colorType)
            {
                case 0 or 4:
                    rgb[p * 3] = rgb[p * 3 + 1] = rgb[p * 3 + 2] = raw[s];
                    break;
                case 3:
                    var index = raw[s] * 3;
                    if (index + 2 >= palette!.Length) throw new CalibrationDataException(path, "palette index out of range");
                    (rgb[p * 3], rgb[p * 3 + 1], rgb[p * 3 + 2]) = (palette[index], palette[index + 1], palette[index + 2]);
                    break;
                default:
                    (rgb[p * 3], rgb[p * 3 + 1], rgb[p * 3 + 2]) = (raw[s], raw[s + 1], raw[s + 2]);
                    break;
            }
        }
        return new RgbImage(width, height, rgb);
    }

    private static void Unfilter(byte filter, byte[] line, byte[] previous, int bpp, string path)
    {
        switch (filter)
        {
            case 0:
                return;
            case 1:
                for (var i = bpp; i < line.Length; i++) line[i] += line[i - bpp];
                return;
            case 2:
                for (var i = 0; i < line.Length; i++) line[i] += previous[i];
                return;
            case 3:
                for (var i = 0; i < line.Length; i++) line[i] += (byte)(((i >= bpp ? line[i - bpp] : 0) + previous[i]) / 2);
                return;
            case 4:
                for (var i = 0; i < line.Length; i++)
                {
                    int a = i >= bpp ? line[i - bpp] : 0, b = previous[i], c = i >= bpp ? previous[i - bpp] : 0;
                    int p = a + b - c, pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
                    line[i] += (byte)(pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
                }
                return;
            default:
                throw new CalibrationDataException(path, $"unknown PNG row filter {filter}");
        }
    }
}
