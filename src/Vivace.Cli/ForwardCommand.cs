using System.CommandLine;
using System.Text.Json;
using Vivace.Cpu;
using Vivace.Engine;
using Vivace.Formats;
using Vivace.Models;
using Vivace.Models.Decoders;

namespace Vivace.Cli;

/// <summary>
/// <c>vivace forward --model DIR</c>: one JSON object <c>{"input_ids", "attention_mask", "token_type_ids"?}</c> of
/// nested arrays on stdin; the model's outputs under their HF names on stdout (<c>last_hidden_state</c> and
/// <c>pooler_output</c> for encoders, <c>logits</c> for decoders).
/// </summary>
public static class ForwardCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "model directory", Required = true };
        var command = new Command("forward", "run the model on input tensors (JSON on stdin) and print its outputs by HF name") { model };
        command.SetAction(result => CliApp.Guard(() => Run(result.GetValue(model)!, Console.In, Console.Out)));
        return command;
    }

    public static int Run(string modelDir, TextReader input, TextWriter output)
    {
        string text = input.ReadToEnd();
        using var doc = JsonDocument.Parse(text, new JsonDocumentOptions { MaxDepth = 16 });
        JsonElement root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object) throw new InvalidInputException("stdin must hold one JSON object");
        (long[] ids, int batch, int seq) = JsonMatrix.Read(root, "input_ids", required: true)!.Value;
        long[] mask = JsonMatrix.Read(root, "attention_mask", required: false) is { } m ? JsonMatrix.Check(m, batch, seq, "attention_mask") : JsonMatrix.Ones(batch * seq);
        long[] types = JsonMatrix.Read(root, "token_type_ids", required: false) is { } t ? JsonMatrix.Check(t, batch, seq, "token_type_ids") : [];
        foreach (JsonProperty p in root.EnumerateObject())
            if (p.Name is not ("input_ids" or "attention_mask" or "token_type_ids"))
                throw new InvalidInputException($"unknown input '{p.Name}' (expected input_ids, attention_mask, token_type_ids)");

        string dir = ModelResolver.Resolve(modelDir);
        if (CausalLMLoader.IsDecoder(dir))
        {
            if (types.Length > 0) throw new InvalidInputException("decoder models take no token_type_ids");
            return RunDecoder(dir, batch, seq, ids, mask, output);
        }
        IEncoderModel encoder = EncoderModelLoader.Load(dir, CpuOps.Default);
        EncoderBatch encoderBatch;
        try
        {
            encoderBatch = EncoderBatch.FromPadded(batch, seq, ids, mask, types);
        }
        catch (ArgumentException e)
        {
            throw new InvalidInputException(e.Message);
        }
        foreach (int id in encoderBatch.InputIds)
            if ((uint)id >= (uint)encoder.VocabSize) throw new InvalidInputException($"input_ids holds {id}, outside the vocabulary [0, {encoder.VocabSize})");
        for (int s = 0; s < encoderBatch.Sequences.Count; s++)
        {
            int last = encoderBatch.Sequences.Length(s) == 0 ? 0 : encoderBatch.Columns[encoderBatch.Sequences.Start(s) + encoderBatch.Sequences.Length(s) - 1];
            if (last >= encoder.MaxPositions)
                throw new InvalidInputException($"sequence {s} needs position {last}; the model has {encoder.MaxPositions} positions");
        }
        EncoderOutput result = encoder.Forward(encoderBatch);

        var buffer = new MemoryStream();
        using var writer = new Utf8JsonWriter(buffer);
        writer.WriteStartObject();
        writer.WritePropertyName("last_hidden_state");
        WriteNested(writer, encoderBatch.ToPadded(result.LastHiddenState, seq), batch, seq, encoder.HiddenSize);
        if (result.PoolerOutput != null)
        {
            writer.WritePropertyName("pooler_output");
            WriteNested(writer, result.PoolerOutput.AsSpan().ToArray(), 1, batch, encoder.HiddenSize, outerless: true);
        }
        writer.WriteEndObject();
        writer.Flush();
        output.WriteLine(System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length));
        output.Flush();
        return 0;
    }

    /// <summary>A decoder's <c>logits [batch, seq, vocab]</c> for a left-padded batch (padding positions not meaningful).</summary>
    private static int RunDecoder(string dir, int batch, int seq, long[] ids, long[] mask, TextWriter output)
    {
        ICausalLM model = CausalLMLoader.Load(dir, CpuOps.Default);
        foreach (long id in ids)
            if ((ulong)id >= (ulong)model.VocabSize) throw new InvalidInputException($"input_ids holds {id}, outside the vocabulary [0, {model.VocabSize})");
        foreach (long m in mask)
            if (m is not (0 or 1)) throw new InvalidInputException($"attention_mask holds {m}; it must be 0 or 1");
        if (seq > model.MaxPositions) throw new InvalidInputException($"{seq} positions exceed the model's {model.MaxPositions}");
        float[] logits = model.Forward(batch, seq, ids, mask).AsSpan().ToArray();
        var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WritePropertyName("logits");
            WriteNested(writer, logits, batch, seq, model.VocabSize);
            writer.WriteEndObject();
        }
        output.WriteLine(System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length));
        output.Flush();
        return 0;
    }

    /// <summary>Writes <c>[a][b][c]</c> nested arrays (or <c>[b][c]</c> when <paramref name="outerless"/>).</summary>
    private static void WriteNested(Utf8JsonWriter writer, float[] values, int a, int b, int c, bool outerless = false)
    {
        if (!outerless) writer.WriteStartArray();
        for (int i = 0; i < a; i++)
        {
            writer.WriteStartArray();
            for (int j = 0; j < b; j++)
            {
                writer.WriteStartArray();
                for (int k = 0; k < c; k++) writer.WriteNumberValue(values[((long)i * b + j) * c + k]);
                writer.WriteEndArray();
            }
            writer.WriteEndArray();
        }
        if (!outerless) writer.WriteEndArray();
    }
}
