namespace Vivace.Tokenizers.SentencePiece;

/// <summary>SentencePiece piece types (sentencepiece_model.proto, ModelProto.SentencePiece.Type).</summary>
public enum SentencePieceType
{
    Normal = 1,
    Unknown = 2,
    Control = 3,
    UserDefined = 4,
    Unused = 5,
    Byte = 6,
}

/// <summary>One vocabulary entry of a SentencePiece model.</summary>
public sealed record SentencePieceEntry(string Piece, float Score, SentencePieceType Type);

/// <summary>
/// The parts of a SentencePiece <c>.model</c> file (a serialized <c>ModelProto</c>) a tokenizer needs: the pieces with
/// scores and types, the trainer's model type and special ids, and the normalizer spec's flags. Read with a minimal
/// protobuf wire reader (the tokenizer library depends on nothing); unknown fields are skipped.
/// </summary>
public sealed class SentencePieceModelFile
{
    /// <summary>TrainerSpec.ModelType: 1 UNIGRAM, 2 BPE, 3 WORD, 4 CHAR.</summary>
    public int ModelType { get; private set; } = 1;
    public bool ByteFallback { get; private set; }
    public int UnkId { get; private set; }
    public int BosId { get; private set; } = 1;
    public int EosId { get; private set; } = 2;
    public int PadId { get; private set; } = -1;

    /// <summary>NormalizerSpec.name, e.g. "identity" or "nmt_nfkc".</summary>
    public string NormalizerName { get; private set; } = "";
    public bool HasPrecompiledCharsmap { get; private set; }
    public bool AddDummyPrefix { get; private set; } = true;
    public bool RemoveExtraWhitespaces { get; private set; } = true;
    public bool EscapeWhitespaces { get; private set; } = true;

    public List<SentencePieceEntry> Pieces { get; } = [];

    public static SentencePieceModelFile Read(string path) => Parse(File.ReadAllBytes(path), path);

    public static SentencePieceModelFile Parse(byte[] bytes, string source = "tokenizer.model")
    {
        var model = new SentencePieceModelFile();
        try
        {
            var r = new WireReader(bytes, 0, bytes.Length);
            while (r.Next(out int field, out int wire))
            {
                if (field == 1 && wire == 2) model.Pieces.Add(ReadPiece(r.Sub()));
                else if (field == 2 && wire == 2) model.ReadTrainer(r.Sub());
                else if (field == 3 && wire == 2) model.ReadNormalizer(r.Sub());
                else r.Skip(wire);
            }
        }
        catch (Exception e) when (e is IndexOutOfRangeException or ArgumentException or OverflowException)
        {
            throw new InvalidDataException($"{source}: not a valid SentencePiece model ({e.Message})", e);
        }
        if (model.Pieces.Count == 0) throw new InvalidDataException($"{source}: a SentencePiece model with no pieces");
        return model;
    }

    private static SentencePieceEntry ReadPiece(WireReader r)
    {
        string piece = "";
        float score = 0;
        var type = SentencePieceType.Normal;
        while (r.Next(out int field, out int wire))
        {
            if (field == 1 && wire == 2) piece = r.String();
            else if (field == 2 && wire == 5) score = r.Float();
            else if (field == 3 && wire == 0) type = (SentencePieceType)(int)r.Varint();
            else r.Skip(wire);
        }
        return new SentencePieceEntry(piece, score, type);
    }

    private void ReadTrainer(WireReader r)
    {
        while (r.Next(out int field, out int wire))
        {
            if (wire != 0) { r.Skip(wire); continue; }
            long v = r.Varint();
            switch (field)
            {
                case 3: ModelType = (int)v; break;
                case 35: ByteFallback = v != 0; break;
                case 40: UnkId = (int)v; break;
                case 41: BosId = (int)v; break;
                case 42: EosId = (int)v; break;
                case 43: PadId = (int)v; break;
            }
        }
    }

    private void ReadNormalizer(WireReader r)
    {
        while (r.Next(out int field, out int wire))
        {
            if (field == 1 && wire == 2) NormalizerName = r.String();
            else if (field == 2 && wire == 2) HasPrecompiledCharsmap = r.Sub().Length > 0;
            else if (field is 3 or 4 or 5 && wire == 0)
            {
                bool v = r.Varint() != 0;
                if (field == 3) AddDummyPrefix = v;
                else if (field == 4) RemoveExtraWhitespaces = v;
                else EscapeWhitespaces = v;
            }
            else r.Skip(wire);
        }
    }

    /// <summary>Protobuf wire format over a byte range: varints, fixed32, length-delimited.</summary>
    private sealed class WireReader(byte[] bytes, int start, int end)
    {
        private int _pos = start;

        public int Length => end - start;

        public bool Next(out int field, out int wire)
        {
            field = wire = 0;
            if (_pos >= end) return false;
            long key = Varint();
            field = checked((int)(key >> 3));
            wire = (int)(key & 7);
            return true;
        }

        public long Varint()
        {
            long result = 0;
            for (int shift = 0; shift < 64; shift += 7)
            {
                if (_pos >= end) throw new ArgumentException("truncated varint");
                byte b = bytes[_pos++];
                result |= (long)(b & 0x7F) << shift;
                if (b < 0x80) return result;
            }
            throw new ArgumentException("varint longer than 10 bytes");
        }

        public float Float()
        {
            if (end - _pos < 4) throw new ArgumentException("truncated fixed32");
            float f = BitConverter.ToSingle(bytes, _pos); // protobuf fixed32 is little-endian, as is every host .NET runs on here
            _pos += 4;
            return f;
        }

        public WireReader Sub()
        {
            long len = Varint();
            if (len < 0 || len > end - _pos) throw new ArgumentException("length-delimited field runs past its message");
            var sub = new WireReader(bytes, _pos, _pos + (int)len);
            _pos += (int)len;
            return sub;
        }

        public string String()
        {
            WireReader s = Sub();
            return System.Text.Encoding.UTF8.GetString(bytes, s._pos, s.Length);
        }

        public void Skip(int wire)
        {
            switch (wire)
            {
                case 0: Varint(); break;
                case 1: Advance(8); break;
                case 2: Sub(); break;
                case 5: Advance(4); break;
                default: throw new ArgumentException($"unsupported wire type {wire}");
            }
        }

        private void Advance(int n)
        {
            if (end - _pos < n) throw new ArgumentException("truncated field");
            _pos += n;
        }
    }
}
