using System.Buffers.Binary;
using System.Diagnostics;
using AccelSdk.Backends;
using AccelSdk.Execution;
using AccelSdk.Ir;

namespace AccelSdk.TfLite.Tests;

/// <summary>
/// openWakeWord's pipeline on whole clips: 16 kHz samples -> melspectrogram (scaled x/10 + 2) -> one 96-d embedding
/// per 8 mel frames over 76-frame windows -> the wake-word model over the last 16 embeddings; the clip's score is the
/// highest window score. Each model runs in an AccelSession on the given device.
/// </summary>
internal sealed class WakeWordPipeline : IDisposable
{
    private readonly AccelSession _melspectrogram;
    private readonly AccelSession _embedding;
    private readonly AccelSession _wakeWord;

    public WakeWordPipeline(string melspectrogram, string embedding, string wakeWord, string deviceId)
    {
        var (backend, device) = AccelRuntime.Default.Resolve(deviceId);
        _melspectrogram = Open(melspectrogram, backend, device);
        _embedding = Open(embedding, backend, device);
        _wakeWord = Open(wakeWord, backend, device);
    }

    private static AccelSession Open(string path, IBackend backend, Device device) =>
        new(GraphPartitioner.WholeModel(Model.Load(path), backend, device));

    public float Score(float[] samples)
    {
        var mel = _melspectrogram.Run(AccelTensor.Create(samples, 1, samples.Length))[0];
        var melShape = mel.ShapeArray; // [1, 1, frames, 32]
        var frames = (int)melShape[^2];
        var spec = mel.ToArray<float>().Select(v => v / 10f + 2f).ToArray();
        var embeddings = new List<float[]>();
        for (var start = 0; start + 76 <= frames; start += 8)
        {
            var window = spec.AsSpan(start * 32, 76 * 32).ToArray();
            embeddings.Add(_embedding.Run(AccelTensor.Create(window, 1, 76, 32, 1))[0].ToArray<float>());
        }
        var best = 0f;
        for (var end = 16; end <= embeddings.Count; end++)
        {
            var features = embeddings.Skip(end - 16).Take(16).SelectMany(e => e).ToArray();
            best = Math.Max(best, _wakeWord.Run(AccelTensor.Create(features, 1, 16, 96))[0].ToArray<float>()[0]);
        }
        return best;
    }

    public void Dispose()
    {
        _melspectrogram.Dispose();
        _embedding.Dispose();
        _wakeWord.Dispose();
    }

    /// <summary>Speaks <paramref name="text"/> with espeak-ng, resamples to 16 kHz mono with sox, pads with quiet noise.</summary>
    public static float[] Speak(string text, string workDir)
    {
        var raw = Path.Combine(workDir, "speech.wav");
        var resampled = Path.Combine(workDir, "speech16k.wav");
        Run("espeak-ng", "-w", raw, text);
        Run("sox", raw, "-r", "16000", "-c", "1", "-b", "16", resampled);
        var speech = ReadWav16(resampled);
        var random = new Random(5);
        float Noise() => (float)(random.NextDouble() * 20 - 10);
        var lead = Enumerable.Range(0, 16000 * 2).Select(_ => Noise());
        var tail = Enumerable.Range(0, 16000 / 2).Select(_ => Noise());
        return lead.Concat(speech.Select(s => s + Noise())).Concat(tail).ToArray();
    }

    private static void Run(string tool, params string[] args)
    {
        var start = new ProcessStartInfo(tool, args) { RedirectStandardError = true, RedirectStandardOutput = true };
        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException($"{tool} is not installed: run scripts/setup-tflite.sh", e);
        }
        using (process)
        {
            var error = process.StandardError.ReadToEnd();
            process.WaitForExit();
            if (process.ExitCode != 0) throw new InvalidOperationException($"{tool} {string.Join(" ", args)} exited {process.ExitCode}: {error}");
        }
    }

    /// <summary>The samples of a 16-bit PCM mono WAV file, as float values in int16 units (openWakeWord's input scale).</summary>
    private static float[] ReadWav16(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var position = 12;
        while (position + 8 <= bytes.Length)
        {
            var id = System.Text.Encoding.ASCII.GetString(bytes, position, 4);
            var size = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(position + 4));
            if (id == "data")
            {
                var count = Math.Min(size, bytes.Length - position - 8) / 2;
                var samples = new float[count];
                for (var i = 0; i < count; i++) samples[i] = BinaryPrimitives.ReadInt16LittleEndian(bytes.AsSpan(position + 8 + 2 * i));
                return samples;
            }
            position += 8 + size + (size & 1);
        }
        throw new InvalidDataException($"{path} has no data chunk");
    }
}
