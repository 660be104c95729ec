using Vivace.Tensors;

namespace Vivace.Formats;

/// <summary>What a weight source knows about one tensor without reading its data.</summary>
/// <param name="Name">The HF parameter name.</param>
/// <param name="StoredType">The dtype as the file stores it (e.g. "F32", "BF16", "FLOAT16").</param>
/// <param name="DType">The Vivace dtype <see cref="IWeightSource.GetRaw"/> yields, or null where only f32 is offered.</param>
/// <param name="Shape">The shape in HF layout.</param>
public sealed record WeightInfo(string Name, string StoredType, DType? DType, Shape Shape);

/// <summary>
/// Named model weights under HF parameter names and HF layouts (Linear weights <c>[out, in]</c>), whatever the
/// file format. Implementations are safe to read from several threads at once.
/// </summary>
public interface IWeightSource : IDisposable
{
    /// <summary>Every tensor name this source holds.</summary>
    IReadOnlyCollection<string> Names { get; }

    bool Contains(string name);

    /// <summary>
    /// The tensor as a new contiguous f32 tensor named <paramref name="name"/> (f16, bf16 and integers converted).
    /// A missing name throws <see cref="ModelFormatException"/> naming the file and the tensor.
    /// </summary>
    Tensor Get(string name);

    /// <summary>Dtype and shape of a tensor without reading its data.</summary>
    WeightInfo GetInfo(string name);

    /// <summary>The tensor in its stored dtype where Vivace has one (bf16 as raw ushort bits); f32 otherwise.</summary>
    Tensor GetRaw(string name) => Get(name);

    /// <summary>
    /// The tensor as rows of ggml blocks when the file stores it block-quantized (a GGUF Q8_0 or Q4_0 matrix), in HF
    /// layout <c>[out, in]</c>; null when it is stored otherwise (then use <see cref="Get"/>). Lets a loader keep the
    /// file's quantization instead of dequantizing and re-quantizing.
    /// </summary>
    QuantizedMatrix? GetQuantized(string name) => null;

    /// <summary>One line for logs: the format, the file(s) and the tensor count.</summary>
    string Describe();
}
