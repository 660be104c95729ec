using Vivace.Formats.Onnx;
using Vivace.Formats.Safetensors;

namespace Vivace.Formats;

/// <summary>Opens the weights of a model file or directory in whichever format it holds.</summary>
public static class WeightSources
{
    /// <summary>The files a model directory is searched for, in order of preference.</summary>
    public static readonly IReadOnlyList<string> DirectoryCandidates =
        ["model.safetensors", "model.safetensors.index.json", "onnx/model.onnx", "model.onnx"];

    /// <summary>
    /// A <c>.safetensors</c> file, a <c>*.safetensors.index.json</c>, a <c>.onnx</c> file, or a model directory
    /// holding one of <see cref="DirectoryCandidates"/> (first found wins).
    /// </summary>
    public static IWeightSource Open(string pathOrDirectory, OnnxImportOptions? onnxOptions = null)
    {
        string path = Path.GetFullPath(pathOrDirectory);
        if (Directory.Exists(path))
        {
            foreach (string candidate in DirectoryCandidates)
            {
                string file = Path.Combine(path, candidate);
                if (File.Exists(file)) return OpenFile(file, onnxOptions);
            }
            throw new ModelFormatException(path,
                $"no weights found: looked for {string.Join(", ", DirectoryCandidates)}");
        }
        if (!File.Exists(path)) throw new ModelFormatException(path, "no such file or directory");
        return OpenFile(path, onnxOptions);
    }

    private static IWeightSource OpenFile(string file, OnnxImportOptions? onnxOptions)
    {
        if (file.EndsWith(".index.json", StringComparison.OrdinalIgnoreCase)) return ShardedSafetensors.Open(file);
        if (file.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase)) return OnnxWeightSource.Open(file, onnxOptions);
        if (file.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase)) return SafetensorsFile.Open(file);
        throw new ModelFormatException(file, "unknown weight format: expected .safetensors, .safetensors.index.json or .onnx");
    }
}
