using Microsoft.Win32.SafeHandles;
using Vivace.Tensors;

namespace Vivace.Formats.Llama2c;

/// <summary>The 7-int32 header of a llama2.c (version 0) checkpoint.</summary>
/// <param name="SharedClassifier">True when the header's vocab_size is positive: the LM head is the token embedding.
/// A negative vocab_size means a separate classifier <c>wcls</c> follows the other weights.</param>
public sealed record Llama2cHeader(int Dim, int HiddenDim, int Layers, int Heads, int KvHeads, int VocabSize, int SeqLen,
    bool SharedClassifier)
{
    public int HeadSize => Dim / Heads;
    public int KvDim => KvHeads * HeadSize;
}

/// <summary>
/// A llama2.c checkpoint (<c>run.c</c>'s format: 7 little-endian int32 header, then fp32 weights in a fixed order) as an
/// <see cref="IWeightSource"/> under HF Llama names, plus the equivalent HF <c>config.json</c> in <see cref="Config"/>,
/// so <c>LlamaModel</c> loads it like any HF checkpoint.
/// <para>RoPE: run.c rotates interleaved pairs (2i, 2i+1) of each head, HF Llama rotates (i, i + headSize/2). The
/// q_proj/k_proj rows are therefore permuted within each head at load (HF row i ← row 2i, HF row i + half ← row 2i+1),
/// the inverse of the permutation transformers' convert_llama_weights_to_hf applies. q·k is unchanged by a permutation
/// shared by q and k, so attention is the same; v/o need nothing.</para>
/// Tensors are read from the file on each <see cref="Get"/> (positional reads, so safe from several threads).
/// </summary>
public sealed class Llama2cCheckpoint : IWeightSource
{
    private const int HeaderBytes = 7 * sizeof(int);

    /// <summary>Where one HF-named tensor lies in the file.</summary>
    private sealed record Entry(long Offset, Shape Shape, bool PermuteRope);

    private readonly SafeFileHandle _file;
    private readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly string[] _names;

    public string FilePath { get; }
    public Llama2cHeader Header { get; }

    /// <summary>
    /// The HF Llama config.json this checkpoint corresponds to: run.c's constants are rope theta 10000, RMSNorm eps
    /// 1e-5, head size dim / n_heads, SiLU, no biases; max_position_embeddings is the header's seq_len.
    /// </summary>
    public HfConfig Config { get; }

    private Llama2cCheckpoint(string path, SafeFileHandle file, Llama2cHeader header, long fileLength)
    {
        FilePath = path;
        _file = file;
        Header = header;
        Layout(fileLength);
        _names = [.. _entries.Keys];
        Config = HfConfig.FromValues(new Dictionary<string, object?>
        {
            ["model_type"] = "llama",
            ["architectures"] = new[] { "LlamaForCausalLM" },
            ["hidden_size"] = header.Dim,
            ["intermediate_size"] = header.HiddenDim,
            ["num_hidden_layers"] = header.Layers,
            ["num_attention_heads"] = header.Heads,
            ["num_key_value_heads"] = header.KvHeads,
            ["head_dim"] = header.HeadSize,
            ["vocab_size"] = header.VocabSize,
            ["max_position_embeddings"] = header.SeqLen,
            ["rms_norm_eps"] = 1e-5,
            ["rope_theta"] = 10000.0,
            ["hidden_act"] = "silu",
            ["tie_word_embeddings"] = header.SharedClassifier,
            ["bos_token_id"] = 1,
            ["eos_token_id"] = 2,
        }, path);
    }

    /// <summary>Opens a llama2.c <c>.bin</c> checkpoint; a bad header or a size that does not match it throws
    /// <see cref="ModelFormatException"/>.</summary>
    public static Llama2cCheckpoint Open(string path)
    {
        path = Path.GetFullPath(path);
        SafeFileHandle file;
        try { file = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ModelFormatException(path, $"cannot open llama2.c checkpoint: {e.Message}", e);
        }
        try
        {
            long length = RandomAccess.GetLength(file);
            if (length < HeaderBytes) throw new ModelFormatException(path, "header", $"file is {length} bytes, shorter than the 28-byte header");
            Span<byte> raw = stackalloc byte[HeaderBytes];
            RandomAccess.Read(file, raw, 0);
            Span<int> h = stackalloc int[7];
            for (int i = 0; i < 7; i++) h[i] = BitConverter.ToInt32(raw.Slice(i * 4, 4)); // run.c reads native (little-endian)
            var header = new Llama2cHeader(h[0], h[1], h[2], h[3], h[4], Math.Abs(h[5]), h[6], SharedClassifier: h[5] > 0);
            Validate(path, header);
            return new Llama2cCheckpoint(path, file, header, length);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    private static void Validate(string path, Llama2cHeader h)
    {
        void Positive(string field, int value)
        {
            if (value <= 0 || value > 1 << 20) throw new ModelFormatException(path, field, $"{value} is out of range");
        }
        Positive("dim", h.Dim);
        Positive("hidden_dim", h.HiddenDim);
        Positive("n_layers", h.Layers);
        Positive("n_heads", h.Heads);
        Positive("n_kv_heads", h.KvHeads);
        Positive("vocab_size", h.VocabSize);
        Positive("seq_len", h.SeqLen);
        if (h.Dim % h.Heads != 0) throw new ModelFormatException(path, "n_heads", $"{h.Heads} does not divide dim {h.Dim}");
        if (h.HeadSize % 2 != 0) throw new ModelFormatException(path, "n_heads", $"head size {h.HeadSize} is odd; RoPE needs pairs");
        if (h.Heads % h.KvHeads != 0) throw new ModelFormatException(path, "n_kv_heads", $"{h.KvHeads} does not divide n_heads {h.Heads}");
    }

    /// <summary>Assigns each tensor its offset, in run.c's memory_map_weights order, and checks the file size.</summary>
    private void Layout(long fileLength)
    {
        Llama2cHeader h = Header;
        int dim = h.Dim, hidden = h.HiddenDim, kv = h.KvDim, layers = h.Layers;
        long offset = HeaderBytes;
        void Add(string name, bool permute, params int[] dims)
        {
            var shape = new Shape(dims);
            _entries.Add(name, new Entry(offset, shape, permute));
            offset += shape.ElementCount * sizeof(float);
        }
        void PerLayer(string suffix, bool permute, params int[] dims)
        {
            for (int l = 0; l < layers; l++) Add($"model.layers.{l}.{suffix}", permute, dims);
        }
        Add("model.embed_tokens.weight", false, h.VocabSize, dim);
        PerLayer("input_layernorm.weight", false, dim);
        PerLayer("self_attn.q_proj.weight", true, dim, dim);
        PerLayer("self_attn.k_proj.weight", true, kv, dim);
        PerLayer("self_attn.v_proj.weight", false, kv, dim);
        PerLayer("self_attn.o_proj.weight", false, dim, dim);
        PerLayer("post_attention_layernorm.weight", false, dim);
        PerLayer("mlp.gate_proj.weight", false, hidden, dim); // w1
        PerLayer("mlp.down_proj.weight", false, dim, hidden); // w2
        PerLayer("mlp.up_proj.weight", false, hidden, dim);   // w3
        Add("model.norm.weight", false, dim);
        // freq_cis_real and freq_cis_imag: legacy precomputed RoPE tables that run.c skips; so do we.
        offset += 2L * h.SeqLen * (h.HeadSize / 2) * sizeof(float);
        if (!h.SharedClassifier) Add("lm_head.weight", false, h.VocabSize, dim);
        if (fileLength < offset)
            throw new ModelFormatException(FilePath, $"file is {fileLength} bytes but its header implies at least {offset}: truncated or not a llama2.c checkpoint");
    }

    public IReadOnlyCollection<string> Names => _names;

    public bool Contains(string name) => _entries.ContainsKey(name);

    public WeightInfo GetInfo(string name) => new(name, "F32", DType.F32, Find(name).Shape);

    public Tensor Get(string name)
    {
        Entry e = Find(name);
        if (!BitConverter.IsLittleEndian)
            throw new PlatformNotSupportedException("llama2.c checkpoints are little-endian; big-endian hosts are not supported");
        var data = new float[e.Shape.ElementCount];
        Span<byte> bytes = System.Runtime.InteropServices.MemoryMarshal.AsBytes(data.AsSpan());
        int read = 0;
        while (read < bytes.Length)
        {
            int n = RandomAccess.Read(_file, bytes[read..], e.Offset + read);
            if (n == 0) throw new ModelFormatException(FilePath, name, "unexpected end of file");
            read += n;
        }
        if (e.PermuteRope) data = InterleavedToHalves(data, e.Shape[0], e.Shape[1], Header.HeadSize);
        return Tensor.FromArray(data, e.Shape.Dims).WithName(name);
    }

    /// <summary>
    /// Reorders the rows of a q/k projection <c>[rows, cols]</c> head by head from run.c's interleaved RoPE pairs to
    /// HF's rotate_half halves: within each head, output row i is input row 2i and output row half + i is 2i + 1.
    /// </summary>
    public static float[] InterleavedToHalves(float[] weight, int rows, int cols, int headSize)
    {
        var result = new float[weight.Length];
        RopeRowOrder.InterleavedToHalves<float>(weight, result, rows, cols, headSize);
        return result;
    }

    private Entry Find(string name) =>
        _entries.TryGetValue(name, out Entry? e) ? e
        : throw new ModelFormatException(FilePath, name, "no tensor of that name in a llama2.c checkpoint");

    public string Describe() => $"llama2.c {FilePath} ({_names.Length} tensors)";

    public override string ToString() => Describe();

    public void Dispose() => _file.Dispose();
}
