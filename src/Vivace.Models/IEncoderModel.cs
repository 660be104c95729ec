using Vivace.Tensors;

namespace Vivace.Models;

/// <summary>What an encoder computes for a batch: outputs named as transformers names them.</summary>
public sealed record EncoderOutput
{
    /// <summary><c>[tokens, hidden]</c> over the ragged batch — or <c>[sequences, hidden]</c>, each sequence's first
    /// token only, when the forward was asked for first tokens only (<see cref="FirstTokensOnly"/>).</summary>
    public required Tensor LastHiddenState { get; init; }
    /// <summary>Whether <see cref="LastHiddenState"/> holds only each sequence's first token.</summary>
    public bool FirstTokensOnly { get; init; }
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
    /// reuses across passes); a new tensor when null. <paramref name="firstTokensOnly"/>: only each sequence's first token
    /// is wanted ([CLS] pooling, pooler_output): the last layer runs its attention output and FFN on those rows alone and
    /// last_hidden_state is <c>[sequences, hidden]</c> (every sequence must be non-empty).
    /// </summary>
    EncoderOutput Forward(EncoderBatch batch, bool withPooler = true, Tensor? hiddenState = null, bool firstTokensOnly = false);
}
