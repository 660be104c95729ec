using Google.Protobuf;

namespace Vivace.Formats.Onnx;

// The subset of onnx.proto (IR version 3 and later) that weight import needs, with the official field numbers.
// Everything else (types, doc strings, functions, training info, sub-graphs) is skipped unread.

/// <summary>ModelProto: ir_version = 1, producer_name = 2, producer_version = 3, graph = 7, opset_import = 8.</summary>
internal sealed class OnnxModelProto : ProtoMessage
{
    public long IrVersion { get; private set; }
    public string ProducerName { get; private set; } = "";
    public string ProducerVersion { get; private set; } = "";
    public OnnxGraphProto? Graph { get; private set; }
    public List<OnnxOperatorSetId> OpsetImports { get; } = [];

    protected override string MessageName => "ModelProto";

    protected override bool ReadField(CodedInputStream input, int field, WireFormat.WireType wire)
    {
        switch (field)
        {
            case 1: IrVersion = ReadInt64(input, wire, field); return true;
            case 2: ProducerName = ReadString(input, wire, field); return true;
            case 3: ProducerVersion = ReadString(input, wire, field); return true;
            case 7: Graph = ReadMessage<OnnxGraphProto>(input, wire, field); return true;
            case 8: OpsetImports.Add(ReadMessage<OnnxOperatorSetId>(input, wire, field)); return true;
            default: return false;
        }
    }
}

/// <summary>OperatorSetIdProto: domain = 1, version = 2.</summary>
internal sealed class OnnxOperatorSetId : ProtoMessage
{
    public string Domain { get; private set; } = "";
    public long Version { get; private set; }

    protected override string MessageName => "OperatorSetIdProto";

    protected override bool ReadField(CodedInputStream input, int field, WireFormat.WireType wire)
    {
        switch (field)
        {
            case 1: Domain = ReadString(input, wire, field); return true;
            case 2: Version = ReadInt64(input, wire, field); return true;
            default: return false;
        }
    }
}

/// <summary>GraphProto: node = 1, name = 2, initializer = 5, input = 11, output = 12.</summary>
internal sealed class OnnxGraphProto : ProtoMessage
{
    public string Name { get; private set; } = "";
    public List<OnnxNodeProto> Nodes { get; } = [];
    public List<OnnxTensorProto> Initializers { get; } = [];
    public List<OnnxValueInfoProto> Inputs { get; } = [];
    public List<OnnxValueInfoProto> Outputs { get; } = [];

    protected override string MessageName => "GraphProto";

    protected override bool ReadField(CodedInputStream input, int field, WireFormat.WireType wire)
    {
        switch (field)
        {
            case 1: Nodes.Add(ReadMessage<OnnxNodeProto>(input, wire, field)); return true;
            case 2: Name = ReadString(input, wire, field); return true;
            case 5: Initializers.Add(ReadMessage<OnnxTensorProto>(input, wire, field)); return true;
            case 11: Inputs.Add(ReadMessage<OnnxValueInfoProto>(input, wire, field)); return true;
            case 12: Outputs.Add(ReadMessage<OnnxValueInfoProto>(input, wire, field)); return true;
            default: return false;
        }
    }
}

/// <summary>ValueInfoProto: name = 1 (the type is skipped).</summary>
internal sealed class OnnxValueInfoProto : ProtoMessage
{
    public string Name { get; private set; } = "";

    protected override string MessageName => "ValueInfoProto";

    protected override bool ReadField(CodedInputStream input, int field, WireFormat.WireType wire)
    {
        if (field != 1) return false;
        Name = ReadString(input, wire, field);
        return true;
    }
}

/// <summary>NodeProto: input = 1, output = 2, name = 3, op_type = 4, attribute = 5, domain = 7.</summary>
internal sealed class OnnxNodeProto : ProtoMessage
{
    public List<string> Inputs { get; } = [];
    public List<string> Outputs { get; } = [];
    public string Name { get; private set; } = "";
    public string OpType { get; private set; } = "";
    public string Domain { get; private set; } = "";
    public List<OnnxAttributeProto> Attributes { get; } = [];

    protected override string MessageName => "NodeProto";

    public OnnxAttributeProto? Attribute(string name) => Attributes.Find(a => a.Name == name);

    protected override bool ReadField(CodedInputStream input, int field, WireFormat.WireType wire)
    {
        switch (field)
        {
            case 1: Inputs.Add(ReadString(input, wire, field)); return true;
            case 2: Outputs.Add(ReadString(input, wire, field)); return true;
            case 3: Name = ReadString(input, wire, field); return true;
            case 4: OpType = ReadString(input, wire, field); return true;
            case 5: Attributes.Add(ReadMessage<OnnxAttributeProto>(input, wire, field)); return true;
            case 7: Domain = ReadString(input, wire, field); return true;
            default: return false;
        }
    }

    public override string ToString() => $"{OpType}({string.Join(", ", Inputs)}) -> {string.Join(", ", Outputs)}";
}

/// <summary>
/// AttributeProto: name = 1, f = 2, i = 3, s = 4, t = 5, floats = 7, ints = 8, strings = 9, type = 20
/// (sub-graphs g = 6 / graphs = 11 are skipped).
/// </summary>
internal sealed class OnnxAttributeProto : ProtoMessage
{
    public string Name { get; private set; } = "";
    public int Type { get; private set; }
    public float F { get; private set; }
    public long I { get; private set; }
    public ByteString S { get; private set; } = ByteString.Empty;
    public OnnxTensorProto? T { get; private set; }
    public List<float> Floats { get; } = [];
    public List<long> Ints { get; } = [];
    public List<ByteString> Strings { get; } = [];

    protected override string MessageName => "AttributeProto";

    protected override bool ReadField(CodedInputStream input, int field, WireFormat.WireType wire)
    {
        switch (field)
        {
            case 1: Name = ReadString(input, wire, field); return true;
            case 2: Expect(wire, WireFormat.WireType.Fixed32, field); F = input.ReadFloat(); return true;
            case 3: I = ReadInt64(input, wire, field); return true;
            case 4: Expect(wire, WireFormat.WireType.LengthDelimited, field); S = input.ReadBytes(); return true;
            case 5: T = ReadMessage<OnnxTensorProto>(input, wire, field); return true;
            case 7: ReadFloats(input, wire, Floats); return true;
            case 8: ReadVarints(input, wire, Ints); return true;
            case 9: Expect(wire, WireFormat.WireType.LengthDelimited, field); Strings.Add(input.ReadBytes()); return true;
            case 20: Type = (int)ReadInt64(input, wire, field); return true;
            default: return false;
        }
    }
}

/// <summary>StringStringEntryProto: key = 1, value = 2.</summary>
internal sealed class OnnxStringEntry : ProtoMessage
{
    public string Key { get; private set; } = "";
    public string Value { get; private set; } = "";

    protected override string MessageName => "StringStringEntryProto";

    protected override bool ReadField(CodedInputStream input, int field, WireFormat.WireType wire)
    {
        switch (field)
        {
            case 1: Key = ReadString(input, wire, field); return true;
            case 2: Value = ReadString(input, wire, field); return true;
            default: return false;
        }
    }
}

/// <summary>
/// TensorProto: dims = 1, data_type = 2, float_data = 4, int32_data = 5, int64_data = 7, name = 8, raw_data = 9,
/// double_data = 10, uint64_data = 11, external_data = 13, data_location = 14.
/// </summary>
internal sealed class OnnxTensorProto : ProtoMessage
{
    public List<long> Dims { get; } = [];
    public int DataType { get; private set; }
    public string Name { get; private set; } = "";
    public ByteString? RawData { get; private set; }
    public List<float> FloatData { get; } = [];
    public List<long> Int32Data { get; } = [];
    public List<long> Int64Data { get; } = [];
    public List<double> DoubleData { get; } = [];
    public List<long> UInt64Data { get; } = [];
    public List<OnnxStringEntry> ExternalData { get; } = [];
    /// <summary>0 = DEFAULT (in this file), 1 = EXTERNAL.</summary>
    public int DataLocation { get; private set; }
    public bool HasSegment { get; private set; }

    protected override string MessageName => "TensorProto";

    protected override bool ReadField(CodedInputStream input, int field, WireFormat.WireType wire)
    {
        switch (field)
        {
            case 1: ReadVarints(input, wire, Dims); return true;
            case 2: DataType = (int)ReadInt64(input, wire, field); return true;
            case 3: HasSegment = true; return false;
            case 4: ReadFloats(input, wire, FloatData); return true;
            case 5: ReadVarints(input, wire, Int32Data); return true;
            case 7: ReadVarints(input, wire, Int64Data); return true;
            case 8: Name = ReadString(input, wire, field); return true;
            case 9: Expect(wire, WireFormat.WireType.LengthDelimited, field); RawData = input.ReadBytes(); return true;
            case 10: ReadDoubles(input, wire, DoubleData); return true;
            case 11: ReadVarints(input, wire, UInt64Data); return true;
            case 13: ExternalData.Add(ReadMessage<OnnxStringEntry>(input, wire, field)); return true;
            case 14: DataLocation = (int)ReadInt64(input, wire, field); return true;
            default: return false;
        }
    }

    public override string ToString() => $"{Name} type {DataType} [{string.Join(", ", Dims)}]";
}
