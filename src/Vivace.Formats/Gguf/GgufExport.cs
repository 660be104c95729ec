using Vivace.Tensors;

namespace Vivace.Formats.Gguf;

/// <summary>The tensor type <see cref="GgufExport"/> stores 2-D weights in.</summary>
public enum GgufTarget
{
    F32,
    F16,
    /// <summary>bf16 (ggml type 30): f32 rounded to nearest even; bf16 source weights are written as they are.</summary>
    BF16,
    Q8_0,
    Q4_0,
}

/// <summary>What <see cref="GgufExport.Write"/> wrote.</summary>
/// <param name="FileType">The <c>general.file_type</c> written (llama_ftype: 0 all F32, 1 mostly F16, 7 mostly Q8_0, 2 mostly Q4_0).</param>
/// <param name="Tensors">GGUF tensor name → the ggml type it was stored as.</param>
/// <param name="Notes">Tensors stored in another type than the target, and source tensors left out, with the reason.</param>
public sealed record GgufExportSummary(string Path, GgufTarget Target, uint FileType,
    IReadOnlyDictionary<string, GgmlType> Tensors, IReadOnlyList<string> Notes);

/// <summary>
/// Writes an HF-named Llama-shaped model (any <see cref="IWeightSource"/>) as a llama.cpp "llama"- or "qwen2"-architecture
/// GGUF file (<see cref="LlamaGgufConfig.Architecture"/>): the <c>general.*</c> and <c>{arch}.*</c> keys llama.cpp's
/// loader reads (with the GGUF types it insists on: counts u32,
/// epsilon and rope base f32), the caller's extra keys (the tokenizer's <c>tokenizer.ggml.*</c>), norms in F32 and
/// matrices in the target type, with q/k rows reordered to llama.cpp's interleaved RoPE pairs for "llama" as its converter
/// does.
/// </summary>
public static class GgufExport
{
    public static GgufExportSummary Write(string path, IWeightSource source, LlamaGgufConfig config, GgufTarget target,
        IEnumerable<KeyValuePair<string, object>>? extraMetadata = null, string name = "vivace")
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(config);
        Validate(config);
        if (source.Contains("model.embed_tokens.weight") && source.GetInfo("model.embed_tokens.weight").Shape is var embed
            && (embed.Rank != 2 || embed[0] != config.Vocab || embed[1] != config.Hidden))
            throw new ArgumentException($"model.embed_tokens.weight is {embed}, the config says [{config.Vocab}, {config.Hidden}]", nameof(config));
        var writer = new GgufWriter();
        uint fileType = FileType(target);
        AddMetadata(writer, config, name, fileType);
        foreach (var (key, value) in extraMetadata ?? []) writer.AddMetadata(key, value);

        var plan = GgufLlamaNames.HfNames(config.Layers, config.Tied).Select(hf => new PlannedTensor(hf, GgufLlamaNames.ToGguf(hf)!,
            config.InterleavesRopeRows && GgufLlamaNames.IsRopeRows(hf, out _) ? config.HeadDim : 0, Transpose: false,
            Optional: hf.EndsWith(".bias", StringComparison.Ordinal)));
        // Llama 3.1's RoPE scaling travels as llama.cpp's per-frequency divisors (F32, as its converter writes them).
        var computed = new List<(string Gguf, float[] Values)>();
        if (config.RopeFrequencyFactors is { } divisors)
        {
            if (divisors.Count != config.HeadDim / 2)
                throw new ArgumentException($"{divisors.Count} RoPE frequency factors for head_dim {config.HeadDim}", nameof(config));
            computed.Add(("rope_freqs.weight", [.. divisors]));
        }
        return WriteTensors(path, writer, source, plan, target, fileType, config.Architecture, config.Tied, computed);
    }

    /// <summary>
    /// Writes an HF GPT-2 (names with or without <c>transformer.</c>) as a llama.cpp "gpt2"-architecture GGUF file: the
    /// <c>gpt2.*</c> keys, the caller's extra keys (the tokenizer's), LayerNorm weights and biases in F32, the Conv1D
    /// matrices transposed to ggml's <c>[out, in]</c> rows and stored in the target type, as llama.cpp's converter does.
    /// </summary>
    public static GgufExportSummary WriteGpt2(string path, IWeightSource source, Gpt2GgufConfig config, GgufTarget target,
        IEnumerable<KeyValuePair<string, object>>? extraMetadata = null, string name = "vivace")
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(config);
        if (config.Heads <= 0 || config.Hidden % config.Heads != 0)
            throw new ArgumentException($"{config.Heads} heads do not divide {config.Hidden}", nameof(config));
        // HF GPT-2 checkpoints name their tensors with or without the "transformer." of GPT2LMHeadModel.
        bool bare = !source.Contains("transformer.wte.weight");
        bool tied = !source.Contains("lm_head.weight");
        var writer = new GgufWriter();
        uint fileType = FileType(target);
        AddGeneral(writer, "gpt2", name, fileType);
        writer.AddMetadata("gpt2.context_length", (uint)config.MaxPositions);
        writer.AddMetadata("gpt2.embedding_length", (uint)config.Hidden);
        writer.AddMetadata("gpt2.feed_forward_length", (uint)config.Inner);
        writer.AddMetadata("gpt2.block_count", (uint)config.Layers);
        writer.AddMetadata("gpt2.attention.head_count", (uint)config.Heads);
        writer.AddMetadata("gpt2.attention.layer_norm_epsilon", config.LayerNormEps);
        writer.AddMetadata("gpt2.vocab_size", (uint)config.Vocab);
        foreach (var (key, value) in extraMetadata ?? []) writer.AddMetadata(key, value);
        var plan = GgufGpt2Names.HfNames(config.Layers, tied).Select(hf => new PlannedTensor(
            bare && hf != "lm_head.weight" ? hf["transformer.".Length..] : hf, GgufGpt2Names.ToGguf(hf)!, 0,
            GgufGpt2Names.IsConv1D(hf), Optional: false));
        return WriteTensors(path, writer, source, plan, target, fileType, "gpt2", tied, []);
    }

    /// <summary>One tensor to write: its source (HF) and GGUF names, the RoPE head size its rows are reordered by
    /// (0: none), whether its HF layout is transposed (Conv1D), and whether a source may lack it.</summary>
    private sealed record PlannedTensor(string Hf, string Gguf, int RopeHead, bool Transpose, bool Optional);

    private static uint FileType(GgufTarget target) =>
        // llama_ftype: ALL_F32 0, MOSTLY_F16 1, MOSTLY_Q4_0 2, MOSTLY_Q8_0 7, MOSTLY_BF16 32.
        target switch { GgufTarget.F32 => 0u, GgufTarget.F16 => 1u, GgufTarget.BF16 => 32u, GgufTarget.Q8_0 => 7u, _ => 2u };

    /// <summary>The planned tensors from the source, after <paramref name="computed"/> ones (F32 vectors the export itself
    /// derives), then the notes on what went how, and the file.</summary>
    private static GgufExportSummary WriteTensors(string path, GgufWriter writer, IWeightSource source, IEnumerable<PlannedTensor> plan,
        GgufTarget target, uint fileType, string architecture, bool tied, IReadOnlyList<(string Gguf, float[] Values)> computed)
    {
        var tensors = new Dictionary<string, GgmlType>(StringComparer.Ordinal);
        foreach (var (gguf, values) in computed)
        {
            writer.AddTensor(gguf, GgmlType.F32, [values.Length], () => System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()).ToArray());
            tensors[gguf] = GgmlType.F32;
        }
        var notes = new List<string>();
        var written = new HashSet<string>(StringComparer.Ordinal);
        foreach (PlannedTensor t in plan)
        {
            if (!source.Contains(t.Hf))
            {
                if (t.Optional) continue;
                throw new ModelFormatException(null, t.Hf, $"the weights ({source.Describe()}) lack this tensor, which a {architecture} GGUF needs");
            }
            WeightInfo info = source.GetInfo(t.Hf);
            int[] dims = t.Transpose ? (info.Shape.Rank == 2 ? [info.Shape[1], info.Shape[0]]
                : throw new ModelFormatException(null, t.Hf, $"expected a matrix, got {info.Shape}")) : info.Shape.Dims.ToArray();
            GgmlType type = Choose(new Shape(dims), target, out string? note);
            if (note != null) notes.Add($"{t.Gguf}: {note}");
            writer.AddTensor(t.Gguf, type, dims, () => Encode(source, t.Hf, type, t.RopeHead, t.Transpose));
            tensors[t.Gguf] = type;
            written.Add(t.Hf);
        }
        foreach (string n in source.Names.Where(n => !written.Contains(n)).Order(StringComparer.Ordinal))
            notes.Add($"{n}: not written ({(tied && n == "lm_head.weight" ? "tied to the token embedding" : $"no {architecture} GGUF equivalent")})");
        writer.Write(path);
        return new GgufExportSummary(Path.GetFullPath(path), target, fileType, tensors, notes);
    }

    private static void Validate(LlamaGgufConfig c)
    {
        if (c.Heads <= 0 || c.KvHeads <= 0 || c.Heads % c.KvHeads != 0)
            throw new ArgumentException($"{c.KvHeads} kv heads do not divide {c.Heads} heads", nameof(c));
        if (c.HeadDim <= 0 || c.HeadDim % 2 != 0) throw new ArgumentException($"head_dim {c.HeadDim} must be even (RoPE pairs)", nameof(c));
    }

    /// <summary>Vectors stay F32 (as llama.cpp keeps norms); matrices take the target. ggml block formats need rows of
    /// whole blocks, so a matrix whose rows are not falls back to F16 (the closest float type), and a note says so.</summary>
    private static GgmlType Choose(Shape shape, GgufTarget target, out string? note)
    {
        note = null;
        if (shape.Rank != 2) return GgmlType.F32;
        GgmlType wanted = target switch
        {
            GgufTarget.F32 => GgmlType.F32,
            GgufTarget.F16 => GgmlType.F16,
            GgufTarget.BF16 => GgmlType.BF16,
            GgufTarget.Q8_0 => GgmlType.Q8_0,
            _ => GgmlType.Q4_0,
        };
        if (wanted.BlockFormat() is not null && shape[1] % BlockQuantization.BlockSize != 0)
        {
            note = $"stored as F16, not {wanted}: its rows of {shape[1]} are not a multiple of {BlockQuantization.BlockSize}";
            return GgmlType.F16;
        }
        return wanted;
    }

    /// <summary>Reads one tensor from the source and encodes it, q/k rows reordered HF → interleaved, Conv1D transposed.</summary>
    private static byte[] Encode(IWeightSource source, string hf, GgmlType type, int ropeHead, bool transpose)
    {
        if (type.BlockFormat() is BlockFormat format)
        {
            // Blocks the source already holds in this format are copied, not dequantized and quantized again.
            QuantizedMatrix m = !transpose && source.GetQuantized(hf) is { } q && q.Format == format ? q
                : QuantizedMatrix.Quantize(transpose ? source.Get(hf).TransposeLastTwo() : source.Get(hf), format);
            if (ropeHead == 0) return m.Data;
            var rows = new byte[m.Data.Length];
            RopeRowOrder.HalvesToInterleaved<byte>(m.Data, rows, m.Rows, m.RowBytes, ropeHead);
            return rows;
        }
        Tensor t = transpose ? source.Get(hf).TransposeLastTwo() : source.Get(hf).ToF32();
        float[] values = t.AsSpan().ToArray();
        if (ropeHead != 0)
        {
            var permuted = new float[values.Length];
            RopeRowOrder.HalvesToInterleaved<float>(values, permuted, t.Shape[0], (int)(t.ElementCount / t.Shape[0]), ropeHead);
            values = permuted;
        }
        if (type == GgmlType.F32) return System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()).ToArray();
        var bytes = new byte[values.Length * 2];
        if (type == GgmlType.BF16)
        {
            // bf16 source values survive the f32 round trip exactly, so they are written unchanged.
            for (int i = 0; i < values.Length; i++)
                System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(i * 2), NumericConversions.SingleToBFloat16(values[i]));
            return bytes;
        }
        for (int i = 0; i < values.Length; i++) System.Buffers.Binary.BinaryPrimitives.WriteHalfLittleEndian(bytes.AsSpan(i * 2), (Half)values[i]);
        return bytes;
    }

    private static void AddGeneral(GgufWriter w, string architecture, string name, uint fileType)
    {
        w.AddMetadata("general.architecture", architecture);
        w.AddMetadata("general.name", name);
        w.AddMetadata("general.file_type", fileType);
        if (fileType is 2 or 7) w.AddMetadata("general.quantization_version", 2u); // ggml's GGML_QNT_VERSION
    }

    private static void AddMetadata(GgufWriter w, LlamaGgufConfig c, string name, uint fileType)
    {
        string arch = c.Architecture;
        AddGeneral(w, arch, name, fileType);
        w.AddMetadata($"{arch}.context_length", (uint)c.MaxPositions);
        w.AddMetadata($"{arch}.embedding_length", (uint)c.Hidden);
        w.AddMetadata($"{arch}.block_count", (uint)c.Layers);
        w.AddMetadata($"{arch}.feed_forward_length", (uint)c.Intermediate);
        w.AddMetadata($"{arch}.rope.dimension_count", (uint)c.HeadDim);
        w.AddMetadata($"{arch}.attention.head_count", (uint)c.Heads);
        w.AddMetadata($"{arch}.attention.head_count_kv", (uint)c.KvHeads);
        w.AddMetadata($"{arch}.attention.layer_norm_rms_epsilon", c.RmsEps);
        w.AddMetadata($"{arch}.rope.freq_base", c.RopeTheta);
        w.AddMetadata($"{arch}.vocab_size", (uint)c.Vocab);
        if (c.HeadDim * c.Heads != c.Hidden)
        {
            // llama.cpp assumes head_dim = embedding_length / head_count unless these say otherwise.
            w.AddMetadata($"{arch}.attention.key_length", (uint)c.HeadDim);
            w.AddMetadata($"{arch}.attention.value_length", (uint)c.HeadDim);
        }
        if (c.RopeLinearFactor is double f)
        {
            w.AddMetadata($"{arch}.rope.scaling.type", "linear");
            w.AddMetadata($"{arch}.rope.scaling.factor", (float)f);
        }
    }
}
