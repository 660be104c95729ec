using System.Runtime.InteropServices;
using Google.Protobuf;
using Google.Protobuf.Reflection;

namespace Vivace.Formats.Onnx;

/// <summary>A wire-format violation inside an ONNX message; the parser rewraps it with the file name.</summary>
internal sealed class OnnxWireException(string message) : Exception(message);

/// <summary>
/// Base of the hand-written ONNX message readers: reads fields with <see cref="CodedInputStream"/> (which bounds
/// every length and nesting depth) and skips fields it does not know. Parse-only: writing is not supported.
/// </summary>
internal abstract class ProtoMessage : IMessage
{
    /// <summary>Reads one field whose tag was just read; returns false to have it skipped.</summary>
    protected abstract bool ReadField(CodedInputStream input, int field, WireFormat.WireType wire);

    /// <summary>The message name for error messages.</summary>
    protected abstract string MessageName { get; }

    void IMessage.MergeFrom(CodedInputStream input)
    {
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            int field = WireFormat.GetTagFieldNumber(tag);
            if (!ReadField(input, field, WireFormat.GetTagWireType(tag))) input.SkipLastField();
        }
    }

    void IMessage.WriteTo(CodedOutputStream output) => throw new NotSupportedException("ONNX messages are read-only");
    int IMessage.CalculateSize() => throw new NotSupportedException("ONNX messages are read-only");
    MessageDescriptor IMessage.Descriptor => null!;

    protected void Expect(WireFormat.WireType actual, WireFormat.WireType expected, int field)
    {
        if (actual != expected)
            throw new OnnxWireException($"{MessageName} field {field} has wire type {actual}, expected {expected}");
    }

    protected string ReadString(CodedInputStream input, WireFormat.WireType wire, int field)
    {
        Expect(wire, WireFormat.WireType.LengthDelimited, field);
        return input.ReadString();
    }

    protected T ReadMessage<T>(CodedInputStream input, WireFormat.WireType wire, int field) where T : ProtoMessage, new()
    {
        Expect(wire, WireFormat.WireType.LengthDelimited, field);
        var m = new T();
        input.ReadMessage(m);
        return m;
    }

    protected long ReadInt64(CodedInputStream input, WireFormat.WireType wire, int field)
    {
        Expect(wire, WireFormat.WireType.Varint, field);
        return input.ReadInt64();
    }

    /// <summary>A repeated varint field, packed or not.</summary>
    protected static void ReadVarints(CodedInputStream input, WireFormat.WireType wire, List<long> into)
    {
        if (wire == WireFormat.WireType.Varint)
        {
            into.Add(input.ReadInt64());
            return;
        }
        if (wire != WireFormat.WireType.LengthDelimited)
            throw new OnnxWireException($"repeated integer field has wire type {wire}");
        ByteString packed = input.ReadBytes();
        var inner = new CodedInputStream(packed.ToByteArray());
        while (!inner.IsAtEnd) into.Add(inner.ReadInt64());
    }

    /// <summary>A repeated fixed32 float field, packed or not.</summary>
    protected static void ReadFloats(CodedInputStream input, WireFormat.WireType wire, List<float> into)
    {
        if (wire == WireFormat.WireType.Fixed32)
        {
            into.Add(input.ReadFloat());
            return;
        }
        if (wire != WireFormat.WireType.LengthDelimited)
            throw new OnnxWireException($"repeated float field has wire type {wire}");
        ReadOnlySpan<byte> bytes = input.ReadBytes().Span;
        if (bytes.Length % 4 != 0) throw new OnnxWireException($"packed floats of {bytes.Length} bytes (not a multiple of 4)");
        for (int i = 0; i < bytes.Length; i += 4)
            into.Add(System.Buffers.Binary.BinaryPrimitives.ReadSingleLittleEndian(bytes[i..]));
    }

    /// <summary>A repeated fixed64 double field, packed or not.</summary>
    protected static void ReadDoubles(CodedInputStream input, WireFormat.WireType wire, List<double> into)
    {
        if (wire == WireFormat.WireType.Fixed64)
        {
            into.Add(input.ReadDouble());
            return;
        }
        if (wire != WireFormat.WireType.LengthDelimited)
            throw new OnnxWireException($"repeated double field has wire type {wire}");
        ReadOnlySpan<byte> bytes = input.ReadBytes().Span;
        if (bytes.Length % 8 != 0) throw new OnnxWireException($"packed doubles of {bytes.Length} bytes (not a multiple of 8)");
        for (int i = 0; i < bytes.Length; i += 8)
            into.Add(System.Buffers.Binary.BinaryPrimitives.ReadDoubleLittleEndian(bytes[i..]));
    }
}
