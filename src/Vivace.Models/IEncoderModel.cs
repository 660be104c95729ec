using Vivace.Tensors;

namespace Vivace.Models;

/// <summary>What an encoder computes for a batch: outputs named as transformers names them.</summary>
public sealed class EncoderOutput
{
    /// <summary><c>[tokens, hidden]</c> over the ragged batch.</summary>
    public required Tensor LastHiddenState { get; init; }
    /// <summary><c>[batch, hidden]</c> (the first token through dense + tanh), for models that have a pooler.</summary>
    public Tensor? PoolerOutput { get; init; }
}

/// <summary>A transformer encoder (BERT family) loaded with its weights.</summary>
public interface IEncoderModel
{
    /// <summary>The HF model_type (bert, roberta, xlm-roberta, distilbert, mpnet).</summary>
    string ModelType { get; }
    int HiddenSize { get; }
    /// <summary>The longest sequence the position embeddings cover.</summary>
    int MaxPositions { get; }
    int VocabSize { get; }
    bool HasPooler { get; }
    /// <summary>
    /// Runs the encoder. <paramref name="withPooler"/>: also compute pooler_output when the model has one.
    /// <paramref name="hiddenState"/>: where last_hidden_state goes (<c>[tokens, hidden]</c>, e.g. a buffer the caller
    /// reuses across passes); a new tensor when null.
    /// </summary>
    EncoderOutput Forward(EncoderBatch batch, bool withPooler = true, Tensor? hiddenState = null);
}
