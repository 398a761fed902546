using AccelSdk.Ir;
using AccelSdk.Optimize.Data;

namespace AccelSdk.Optimize.Tests;

public sealed class DataTests
{
    [Fact]
    public void WordPiece_matches_bert_uncased_ids()
    {
        var tokenizer = WordPieceTokenizer.Load(TestData.VocabPath);
        var vocab = File.ReadAllLines(TestData.VocabPath);
        var ids = tokenizer.Encode("Hello, WORLD! Tokenization");
        var tokens = ids.Select(i => vocab[i]).ToArray();
        Assert.Equal(new[] { "[CLS]", "hello", ",", "world", "!", "token", "##ization", "[SEP]" }, tokens);
        Assert.Equal("cafe", vocab[tokenizer.Encode("Café")[1]]);
    }

    [Fact]
    public void Png_decoder_reads_color_gray_and_rgba_images_of_scikit_image()
    {
        var folder = TestData.ImageFolder("evaluation");
        var chelsea = PngDecoder.Load(Path.Combine(folder, "chelsea.png"));
        Assert.Equal((451, 300), (chelsea.Width, chelsea.Height));
        Assert.Contains(Enumerable.Range(0, 1000), p => chelsea.Rgb[p * 3] != chelsea.Rgb[p * 3 + 2]);
        var moon = PngDecoder.Load(Path.Combine(folder, "moon.png"));
        Assert.All(Enumerable.Range(0, moon.Width * moon.Height), p => Assert.True(moon.Rgb[p * 3] == moon.Rgb[p * 3 + 1] && moon.Rgb[p * 3] == moon.Rgb[p * 3 + 2]));
        Assert.True(moon.Rgb.Max() > moon.Rgb.Min());
        var logo = PngDecoder.Load(Path.Combine(folder, "logo.png"));
        Assert.Equal(500 * 500 * 3, logo.Rgb.Length);
    }

    [Fact]
    public void Augmented_images_give_four_views_each_the_plain_one_its_mirror_and_a_zoomed_pair()
    {
        var model = TestData.ResNet18;
        var folder = TestData.ImageFolder("calibration");
        var files = new[] { Path.Combine(folder, "astronaut.png"), Path.Combine(folder, "coffee.png") };
        var plain = InputSets.FromImages(model, files);
        var views = InputSets.FromImages(model, files, new ImagePreprocessing { Augment = true });
        Assert.Equal(8, views.Count);
        float[] Pixels(Dictionary<string, AccelTensor> set) => set.Values.Single().ToArray<float>();
        for (var image = 0; image < 2; image++)
        {
            var (original, mirror, zoomed, zoomedMirror) = (Pixels(views[4 * image]), Pixels(views[4 * image + 1]), Pixels(views[4 * image + 2]), Pixels(views[4 * image + 3]));
            Assert.Equal(Pixels(plain[image]), original);
            Assert.Equal(Mirrored(original), mirror);
            Assert.Equal(Mirrored(zoomed), zoomedMirror);
            Assert.True(original.Zip(zoomed).Average(p => Math.Abs(p.First - p.Second)) > 0.05, "the zoomed view equals the plain one");
        }

        static float[] Mirrored(float[] nchw)
        {
            var result = new float[nchw.Length];
            for (var i = 0; i < nchw.Length; i++) result[i - i % 224 + 223 - i % 224] = nchw[i];
            return result;
        }
    }

    [Fact]
    public void Images_become_normalized_NCHW_inputs_of_the_model_shape()
    {
        var inputs = TestData.Images(TestData.ResNet18, "calibration");
        Assert.Equal(8, inputs.Count);
        var tensor = inputs[0].Values.Single();
        Assert.Equal(new long[] { 1, 3, 224, 224 }, tensor.ShapeArray);
        var values = tensor.AsSpan<float>().ToArray();
        Assert.InRange(values.Min(), -2.2f, 0f);
        Assert.InRange(values.Max(), 0f, 2.7f);
    }
}
