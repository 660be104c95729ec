using Google.Protobuf;

namespace Vivace.Formats.Onnx;

/// <summary>Reads an ONNX <c>ModelProto</c> from a file or bytes; any malformation becomes a <see cref="ModelFormatException"/>.</summary>
internal static class OnnxModelFile
{
    public static OnnxModelProto Load(string path)
    {
        path = Path.GetFullPath(path);
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or OutOfMemoryException)
        {
            throw new ModelFormatException(path, $"cannot read ONNX model: {e.Message}", e);
        }
        return Parse(bytes, path);
    }

    public static OnnxModelProto Parse(byte[] bytes, string path)
    {
        var model = new OnnxModelProto();
        try
        {
            var input = new CodedInputStream(bytes);
            ((IMessage)model).MergeFrom(input);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new ModelFormatException(path, $"not a valid ONNX protobuf: {e.Message}", e);
        }
        catch (Exception e) when (e is OnnxWireException or ArgumentException or OverflowException)
        {
            throw new ModelFormatException(path, $"not a valid ONNX protobuf: {e.Message}", e);
        }
        if (model.Graph is null)
            throw new ModelFormatException(path, "graph", "the ONNX model has no graph: not an ONNX model file");
        if (model.IrVersion <= 0)
            throw new ModelFormatException(path, "ir_version", $"missing or invalid ({model.IrVersion}): not an ONNX model file");
        return model;
    }
}
