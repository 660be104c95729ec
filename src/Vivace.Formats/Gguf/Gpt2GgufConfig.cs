namespace Vivace.Formats.Gguf;

/// <summary>
/// The hyperparameters of llama.cpp's "gpt2" architecture (<c>gpt2.*</c> keys) in HF GPT-2 terms: read from a GGUF file
/// (<see cref="Read"/>) or an HF config (<see cref="FromHf"/>), turned into either (<see cref="ToHfConfig"/>,
/// <see cref="GgufExport.WriteGpt2"/>). llama.cpp runs GPT-2 with the tanh GELU and 1/√head_dim attention scaling, so
/// configs asking for anything else are refused rather than written as a different model.
/// </summary>
public sealed record Gpt2GgufConfig(int Hidden, int Inner, int Layers, int Heads, float LayerNormEps, int MaxPositions, int Vocab)
{
    public static Gpt2GgufConfig Read(GgufFile f)
    {
        int Int(string key)
        {
            long v = f.GetInteger(key) ?? throw new ModelFormatException(f.FilePath, key, "required key is missing");
            return v is > 0 and <= int.MaxValue ? (int)v : throw new ModelFormatException(f.FilePath, key, $"{v} is out of range");
        }
        int hidden = Int("gpt2.embedding_length"), heads = Int("gpt2.attention.head_count");
        if (hidden % heads != 0)
            throw new ModelFormatException(f.FilePath, "gpt2.attention.head_count", $"{heads} does not divide embedding_length {hidden}");
        double eps = f.GetFloat("gpt2.attention.layer_norm_epsilon")
            ?? throw new ModelFormatException(f.FilePath, "gpt2.attention.layer_norm_epsilon", "required key is missing");
        long? vocab = f.GetInteger("gpt2.vocab_size");
        return new Gpt2GgufConfig(hidden, Int("gpt2.feed_forward_length"), Int("gpt2.block_count"), heads, (float)eps,
            Int("gpt2.context_length"), vocab is > 0 and <= int.MaxValue ? (int)vocab : 0);
    }

    public static Gpt2GgufConfig FromHf(HfConfig c)
    {
        string act = c.GetString("activation_function", "gelu_new");
        if (act is not ("gelu_new" or "gelu_pytorch_tanh" or "gelu_fast"))
            throw new ModelFormatException(c.Source, "activation_function", $"'{act}' has no llama.cpp gpt2 equivalent (it runs the tanh GELU)");
        if (!c.GetBool("scale_attn_weights", true) || c.GetBool("scale_attn_by_inverse_layer_idx", false))
            throw new ModelFormatException(c.Source, "scale_attn_weights", "llama.cpp's gpt2 scales attention by 1/√head_dim only");
        int hidden = c.GetIntAny("n_embd", "hidden_size");
        return new Gpt2GgufConfig(hidden, c.TryGetInt("n_inner") ?? 4 * hidden, c.GetIntAny("n_layer", "num_hidden_layers"),
            c.GetIntAny("n_head", "num_attention_heads"), c.GetFloat("layer_norm_epsilon", 1e-5f),
            c.GetIntAny("n_positions", "max_position_embeddings"), c.GetInt("vocab_size"));
    }

    /// <summary>The HF GPT-2 config.json these values correspond to (<paramref name="file"/> names the source and gives the
    /// tokenizer's special ids when it has them).</summary>
    public HfConfig ToHfConfig(GgufFile file, int vocab, bool tied)
    {
        var values = new Dictionary<string, object?>
        {
            ["model_type"] = "gpt2",
            ["architectures"] = new[] { "GPT2LMHeadModel" },
            ["n_embd"] = Hidden,
            ["n_inner"] = Inner,
            ["n_layer"] = Layers,
            ["n_head"] = Heads,
            ["n_positions"] = MaxPositions,
            ["vocab_size"] = vocab,
            ["layer_norm_epsilon"] = GgufHfConfigValues.ShortestDecimal(LayerNormEps),
            ["activation_function"] = "gelu_new",
            ["tie_word_embeddings"] = tied,
        };
        GgufHfConfigValues.AddSpecialTokenIds(file, values);
        return HfConfig.FromValues(values, file.FilePath);
    }
}
