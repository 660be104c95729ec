using Google.Protobuf;

namespace Vivace.Formats.Tests;

/// <summary>Writes small ONNX models field by field (official field numbers) for tests.</summary>
public sealed class OnnxBuilder
{
    private readonly List<byte[]> _nodes = [];
    private readonly List<byte[]> _initializers = [];

    public static byte[] Message(Action<CodedOutputStream> write)
    {
        var ms = new MemoryStream();
        var o = new CodedOutputStream(ms);
        write(o);
        o.Flush();
        return ms.ToArray();
    }

    private static void Bytes(CodedOutputStream o, int field, byte[] value)
    {
        o.WriteTag(field, WireFormat.WireType.LengthDelimited);
        o.WriteBytes(ByteString.CopyFrom(value));
    }

    private static void Str(CodedOutputStream o, int field, string value)
    {
        o.WriteTag(field, WireFormat.WireType.LengthDelimited);
        o.WriteString(value);
    }

    /// <summary>A TensorProto; data through raw_data, float_data, int32_data or external data.</summary>
    public static byte[] Tensor(string name, long[] dims, int dataType, byte[]? raw = null, float[]? floatData = null,
        long[]? int32Data = null, long[]? int64Data = null, (string Location, long Offset, long Length)? external = null) => Message(o =>
    {
        foreach (long d in dims) { o.WriteTag(1, WireFormat.WireType.Varint); o.WriteInt64(d); }
        o.WriteTag(2, WireFormat.WireType.Varint); o.WriteInt32(dataType);
        if (floatData is not null)
        {
            o.WriteTag(4, WireFormat.WireType.LengthDelimited);
            o.WriteLength(floatData.Length * 4);
            foreach (float f in floatData) o.WriteFloat(f);
        }
        if (int32Data is not null) foreach (long v in int32Data) { o.WriteTag(5, WireFormat.WireType.Varint); o.WriteInt64(v); }
        if (int64Data is not null) foreach (long v in int64Data) { o.WriteTag(7, WireFormat.WireType.Varint); o.WriteInt64(v); }
        Str(o, 8, name);
        if (raw is not null) Bytes(o, 9, raw);
        if (external is { } ext)
        {
            foreach (var (k, v) in new[] { ("location", ext.Location), ("offset", ext.Offset.ToString()), ("length", ext.Length.ToString()) })
                Bytes(o, 13, Message(e => { Str(e, 1, k); Str(e, 2, v); }));
            o.WriteTag(14, WireFormat.WireType.Varint); o.WriteInt32(1);
        }
    });

    public static byte[] FloatAttr(string name, float value) => Message(o =>
    {
        Str(o, 1, name);
        o.WriteTag(2, WireFormat.WireType.Fixed32); o.WriteFloat(value);
        o.WriteTag(20, WireFormat.WireType.Varint); o.WriteInt32(1);
    });

    public static byte[] IntAttr(string name, long value) => Message(o =>
    {
        Str(o, 1, name);
        o.WriteTag(3, WireFormat.WireType.Varint); o.WriteInt64(value);
        o.WriteTag(20, WireFormat.WireType.Varint); o.WriteInt32(2);
    });

    public static byte[] TensorAttr(string name, byte[] tensor) => Message(o =>
    {
        Str(o, 1, name);
        Bytes(o, 5, tensor);
        o.WriteTag(20, WireFormat.WireType.Varint); o.WriteInt32(4);
    });

    public OnnxBuilder Node(string op, string[] inputs, string[] outputs, params byte[][] attributes)
    {
        _nodes.Add(Message(o =>
        {
            foreach (string i in inputs) Str(o, 1, i);
            foreach (string x in outputs) Str(o, 2, x);
            Str(o, 4, op);
            foreach (byte[] a in attributes) Bytes(o, 5, a);
        }));
        return this;
    }

    public OnnxBuilder Initializer(byte[] tensor)
    {
        _initializers.Add(tensor);
        return this;
    }

    public OnnxBuilder F32(string name, long[] dims, Func<int, float> value)
    {
        int n = (int)dims.Aggregate(1L, (a, b) => a * b);
        return Initializer(Tensor(name, dims, 1, raw: SafetensorsWriter.F32(Enumerable.Range(0, n).Select(value).ToArray())));
    }

    public byte[] Build() => Message(o =>
    {
        o.WriteTag(1, WireFormat.WireType.Varint); o.WriteInt64(8);
        Str(o, 2, "vivace-tests");
        Bytes(o, 7, Message(g =>
        {
            foreach (byte[] n in _nodes) Bytes(g, 1, n);
            Str(g, 2, "graph");
            foreach (byte[] t in _initializers) Bytes(g, 5, t);
        }));
        Bytes(o, 8, Message(s => { s.WriteTag(2, WireFormat.WireType.Varint); s.WriteInt64(17); }));
    });
}
