namespace Vivace.Models;

/// <summary>How transformers numbers positions, for the architectures that differ from 0, 1, 2, ...</summary>
public static class PositionIds
{
    /// <summary>
    /// RoBERTa-style ids (create_position_ids_from_input_ids): padding tokens get padding_idx, every other token
    /// padding_idx + its count of non-padding tokens so far, counted within its sequence.
    /// </summary>
    public static int[] AfterPadding(EncoderBatch batch, int paddingIdx)
    {
        var positions = new int[batch.Sequences.TotalTokens];
        for (int s = 0; s < batch.Sequences.Count; s++)
        {
            int start = batch.Sequences.Start(s), count = 0;
            for (int t = start; t < start + batch.Sequences.Length(s); t++)
            {
                if (batch.InputIds[t] == paddingIdx) positions[t] = paddingIdx;
                else positions[t] = paddingIdx + ++count;
            }
        }
        return positions;
    }
}
