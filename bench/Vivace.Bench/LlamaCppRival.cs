using LLama;
using LLama.Common;
using LLama.Native;

namespace Vivace.Bench;

/// <summary>
/// llama.cpp (through LLamaSharp and its CPU backend) decoding one sequence from token ids, for the generate benchmark's
/// rival column: the same GGUF file Vivace loads, the same thread count, greedy. Its KV cache is kept in f32 so the f32
/// comparison of greedy ids is not disturbed by an f16 cache; llama.cpp picks its widest CPU kernels itself.
/// </summary>
internal sealed class LlamaCppRival : IDisposable
{
    private static bool s_quiet;
    private readonly LLamaWeights _weights;
    private readonly LLamaContext _context;
    private readonly LLamaBatch _batch = new();
    private int _position;

    /// <summary>Errors only, before the native library loads (llama.cpp logs every tensor otherwise); once per process.</summary>
    public static void Quiet()
    {
        if (s_quiet) return;
        NativeLibraryConfig.All.WithLogCallback((level, message) => { if (level == LLamaLogLevel.Error) Console.Error.Write(message); });
        s_quiet = true;
    }

    public LlamaCppRival(string ggufPath, int threads, int contextSize)
    {
        Quiet();
        var parameters = new ModelParams(ggufPath)
        {
            ContextSize = (uint)contextSize,
            GpuLayerCount = 0,
            Threads = threads,
            BatchThreads = threads,
            BatchSize = (uint)contextSize,
            TypeK = GGMLType.GGML_TYPE_F32,
            TypeV = GGMLType.GGML_TYPE_F32,
        };
        _weights = LLamaWeights.LoadFromFile(parameters);
        _context = _weights.CreateContext(parameters);
        VocabSize = _weights.Vocab.Count;
    }

    public int VocabSize { get; }

    /// <summary>llama.cpp's own tokenization of <paramref name="text"/> (BOS as the file says, special tokens parsed).</summary>
    public int[] Tokenize(string text) =>
        [.. _weights.Tokenize(text, _weights.Vocab.ShouldAddBOS, true, System.Text.Encoding.UTF8).Select(t => (int)t)];

    /// <summary>Clears the cache and runs the prompt; returns the last position's logits (a copy).</summary>
    public float[] Prefill(ReadOnlySpan<int> ids)
    {
        _context.NativeHandle.MemoryClear(true);
        _batch.Clear();
        for (int i = 0; i < ids.Length; i++) _batch.Add((LLamaToken)ids[i], i, LLamaSeqId.Zero, logits: i == ids.Length - 1);
        _position = ids.Length;
        return Decode();
    }

    /// <summary>Appends one token; returns its logits (a copy).</summary>
    public float[] Step(int id)
    {
        _batch.Clear();
        _batch.Add((LLamaToken)id, _position++, LLamaSeqId.Zero, logits: true);
        return Decode();
    }

    private float[] Decode()
    {
        DecodeResult result = _context.NativeHandle.Decode(_batch);
        if (result != DecodeResult.Ok) throw new InvalidOperationException($"llama.cpp decode failed: {result}");
        return _context.NativeHandle.GetLogitsIth(_batch.TokenCount - 1).ToArray();
    }

    public void Dispose()
    {
        _context.Dispose();
        _weights.Dispose();
    }
}
