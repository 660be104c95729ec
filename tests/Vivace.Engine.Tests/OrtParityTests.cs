using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Vivace.Tests;
using Vivace.Tokenizers;

namespace Vivace.Engine.Tests;

/// <summary>
/// all-MiniLM-L6-v2 embeddings equal ONNX Runtime running the package's own model.onnx, followed by
/// sentence-transformers' mean pooling and normalization: cosine ≥ 0.9999 on every line of a real multilingual corpus.
/// </summary>
public class OrtParityTests(MiniLmFixture fixture) : IClassFixture<MiniLmFixture>
{
    [Fact]
    public void EmbeddingsMatchOnnxRuntimeOnEveryLine()
    {
        SentenceEmbedder embedder = fixture.Embedder;
        // An even sample across the corpus, so every source (and script) is in it.
        var all = Corpus.Lines.Where(l => l.Length > 0).ToList();
        int count = Math.Min(600, all.Count);
        IReadOnlyList<string> lines = Enumerable.Range(0, count).Select(i => all[(int)((long)i * all.Count / count)]).ToList();
        Assert.True(lines.Count >= 300, $"corpus too small: {lines.Count} lines");

        float[][] vivace = embedder.Embed(lines);

        // One intra-op thread: the reference needs no speed here, and spinning pool threads would fight the test for 2 cores.
        using var sessionOptions = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1 };
        using var session = new InferenceSession(Path.Combine(embedder.Directory, "onnx", "model.onnx"), sessionOptions);
        int worstLine = -1;
        double worst = 1;
        for (int i = 0; i < lines.Count; i++)
        {
            Encoding e = embedder.Tokenize(lines[i]);
            float[] reference = OrtEmbed(session, e.Ids);
            double cos = Cosine(vivace[i], reference);
            if (cos < worst) (worst, worstLine) = (cos, i);
        }
        Assert.True(worst >= 0.9999, $"line {worstLine} {lines[Math.Max(worstLine, 0)]!.Substring(0, Math.Min(60, lines[Math.Max(worstLine, 0)].Length))}: cosine {worst}");
    }

    private static float[] OrtEmbed(InferenceSession session, int[] ids)
    {
        int n = ids.Length;
        var inputIds = new DenseTensor<long>([1, n]);
        var mask = new DenseTensor<long>([1, n]);
        var types = new DenseTensor<long>([1, n]);
        for (int t = 0; t < n; t++) { inputIds[0, t] = ids[t]; mask[0, t] = 1; }
        using var results = session.Run(
        [
            NamedOnnxValue.CreateFromTensor("input_ids", inputIds),
            NamedOnnxValue.CreateFromTensor("attention_mask", mask),
            NamedOnnxValue.CreateFromTensor("token_type_ids", types),
        ]);
        Tensor<float> hidden = results.First().AsTensor<float>();
        int h = hidden.Dimensions[2];
        var pooled = new double[h];
        for (int t = 0; t < n; t++)
            for (int j = 0; j < h; j++) pooled[j] += hidden[0, t, j];
        double norm = Math.Sqrt(pooled.Sum(x => x * x / ((double)n * n)));
        return pooled.Select(x => (float)(x / n / Math.Max(norm, 1e-12))).ToArray();
    }

    private static double Cosine(float[] a, float[] b)
    {
        Assert.Equal(a.Length, b.Length);
        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < a.Length; i++) { dot += (double)a[i] * b[i]; na += (double)a[i] * a[i]; nb += (double)b[i] * b[i]; }
        return dot / Math.Sqrt(na * nb);
    }
}
