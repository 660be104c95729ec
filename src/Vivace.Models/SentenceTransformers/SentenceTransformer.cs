using Vivace.Formats;
using Vivace.Formats.Safetensors;
using Vivace.Tensors;

namespace Vivace.Models.SentenceTransformers;

/// <summary>
/// A sentence-transformers model after tokenization: the encoder, pooling, any Dense layers, and Normalize,
/// as <c>modules.json</c> chains them.
/// </summary>
public sealed class SentenceTransformer
{
    private readonly ITensorOps _ops;
    private readonly (ILinearWeight Weight, Activation Activation)[] _dense;

    public SentenceTransformer(IEncoderModel encoder, SentenceTransformerConfig config, ITensorOps ops)
    {
        Encoder = encoder;
        Config = config;
        _ops = ops;
        if (config.Pooling.WordEmbeddingDimension is int dim && dim != encoder.HiddenSize)
            throw new ModelFormatException("1_Pooling/config.json", "word_embedding_dimension",
                $"is {dim} but the transformer's hidden size is {encoder.HiddenSize}");
        int width = config.Pooling.ModeCount * encoder.HiddenSize;
        _dense = new (ILinearWeight, Activation)[config.DenseLayers.Count];
        for (int i = 0; i < _dense.Length; i++)
        {
            DenseModuleConfig d = config.DenseLayers[i];
            if (d.InFeatures != width)
                throw new ModelFormatException(Path.Combine(d.Directory, "config.json"), "in_features",
                    $"is {d.InFeatures} but the previous module produces {width} features");
            using IWeightSource weights = OpenDenseWeights(d.Directory);
            var scope = new WeightScope(weights) { Ops = ops };
            _dense[i] = (scope.Linear("linear", d.InFeatures, d.OutFeatures, d.Bias), d.Activation);
            width = d.OutFeatures;
        }
        Dimensions = width;
    }

    public IEncoderModel Encoder { get; }
    /// <summary>A <c>[rows, hidden]</c> buffer for the encoder's output, reused by the next <see cref="Encode"/>.</summary>
    private Tensor? _hiddenSpare;
    public SentenceTransformerConfig Config { get; }
    /// <summary>Length of the sentence vector.</summary>
    public int Dimensions { get; }

    /// <summary>One sentence vector per sequence; normalized when <paramref name="normalize"/> (default: as modules.json says).</summary>
    public float[][] Encode(EncoderBatch batch, bool? normalize = null)
    {
        // The hidden state lives only until pooling: a spare buffer serves pass after pass.
        int tokens = batch.Sequences.TotalTokens;
        Tensor? buffer = Interlocked.Exchange(ref _hiddenSpare, null);
        if (buffer is null || buffer.Shape[0] < tokens) buffer = Tensor.Zeros((tokens + 63) / 64 * 64, Encoder.HiddenSize);
        float[][] vectors;
        try
        {
            // [CLS] pooling alone needs the last layer only at each sequence's first token.
            bool firstOnly = Config.Pooling is { ClsToken: true, ModeCount: 1 } && AllNonEmpty(batch.Sequences);
            EncoderOutput output = Encoder.Forward(batch, withPooler: false, buffer.Slice(0, tokens), firstOnly);
            vectors = firstOnly
                ? [.. Enumerable.Range(0, batch.Sequences.Count).Select(s => output.LastHiddenState.AsSpan().Slice(s * Encoder.HiddenSize, Encoder.HiddenSize).ToArray())]
                : Pooling.Apply(Config.Pooling, output.LastHiddenState, batch.Sequences);
        }
        finally
        {
            Interlocked.Exchange(ref _hiddenSpare, buffer);
        }
        foreach ((ILinearWeight weight, Activation activation) in _dense)
        {
            var input = Tensor.Zeros(vectors.Length, weight.InFeatures);
            for (int i = 0; i < vectors.Length; i++) vectors[i].CopyTo(input.AsSpan().Slice(i * weight.InFeatures));
            var result = Tensor.Zeros(vectors.Length, weight.OutFeatures);
            _ops.Linear(input, weight, result, activation);
            for (int i = 0; i < vectors.Length; i++)
                vectors[i] = result.AsSpan().Slice(i * weight.OutFeatures, weight.OutFeatures).ToArray();
        }
        if (normalize ?? Config.Normalize)
            foreach (float[] v in vectors) Pooling.Normalize(v);
        return vectors;
    }

    private static bool AllNonEmpty(RaggedBatch sequences)
    {
        for (int s = 0; s < sequences.Count; s++) if (sequences.Length(s) == 0) return false;
        return true;
    }

    private static IWeightSource OpenDenseWeights(string directory)
    {
        string path = Path.Combine(directory, "model.safetensors");
        if (!File.Exists(path))
            throw new ModelFormatException(directory, "Dense module weights model.safetensors are missing (pytorch_model.bin is not supported)");
        return SafetensorsFile.Open(path);
    }
}
