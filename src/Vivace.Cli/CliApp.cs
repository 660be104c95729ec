using System.CommandLine;
using System.Text.Json;
using Vivace.Engine;
using Vivace.Formats;

namespace Vivace.Cli;

/// <summary>The <c>vivace</c> command: verbs, and one place where failures become a message and an exit code.</summary>
public static class CliApp
{
    public const string DefaultModel = "sentence-transformers/all-MiniLM-L6-v2";

    public static int Run(string[] args)
    {
        var root = new RootCommand("Vivace: Hugging Face transformer models served from .NET")
        {
            ServeCommand.Create(),
            EmbedCommand.Create(),
            ForwardCommand.Create(),
            GenerateCommand.Create(),
            TokenizeCommand.Create(),
            QuantizeCommand.Create(),
        };
        return root.Parse(args).Invoke();
    }

    /// <summary>Runs a verb; a user-facing failure prints one line to stderr (no stack trace) and exits non-zero.</summary>
    public static int Guard(Func<int> action)
    {
        try
        {
            return action();
        }
        catch (Exception e) when (UserMessage(e) is string message)
        {
            Console.Error.WriteLine($"error: {message}");
            return 1;
        }
    }

    private static string? UserMessage(Exception e) => e switch
    {
        ModelFormatException or InvalidInputException or Tokenizers.UnsupportedComponentException => e.Message,
        JsonException json => $"invalid JSON on stdin: {json.Message}",
        IOException or UnauthorizedAccessException => e.Message,
        ArgumentException => e.Message,
        NotSupportedException => e.Message,
        OperationCanceledException => "cancelled",
        _ => null,
    };
}
