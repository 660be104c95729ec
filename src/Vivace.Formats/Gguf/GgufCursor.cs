using System.Buffers.Binary;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace Vivace.Formats.Gguf;

/// <summary>
/// A forward reader over a GGUF header that never trusts the file: every read first checks the bytes are there, and
/// every count is checked against the bytes left before anything is allocated for it, so a hostile or truncated file
/// gives a <see cref="ModelFormatException"/> naming the file, never an out-of-range read or an out-of-memory.
/// Reads go through a 64 KiB window of positional reads (headers of real vocabularies run to megabytes).
/// </summary>
internal sealed class GgufCursor(SafeFileHandle file, string path, long length)
{
    private readonly byte[] _window = new byte[64 * 1024];
    private long _windowStart;
    private int _windowLength;

    public long Position { get; private set; }
    public long Length => length;
    public long Remaining => length - Position;
    public string Path => path;

    public ModelFormatException Error(string? field, string reason) => new(path, field, reason);

    /// <summary>Checks <paramref name="bytes"/> more are in the file; <paramref name="what"/> names the value.</summary>
    public void Need(long bytes, string what)
    {
        if (bytes < 0 || bytes > Remaining)
            throw Error(null, $"truncated: {what} at offset {Position} needs {bytes} bytes, {Remaining} remain");
    }

    private ReadOnlySpan<byte> Take(int n, string what)
    {
        Need(n, what);
        if (Position < _windowStart || Position + n > _windowStart + _windowLength)
        {
            _windowStart = Position;
            int want = (int)Math.Min(_window.Length, length - Position);
            _windowLength = 0;
            while (_windowLength < want)
            {
                int got = RandomAccess.Read(file, _window.AsSpan(_windowLength, want - _windowLength), _windowStart + _windowLength);
                if (got == 0) throw Error(null, $"file ended at offset {_windowStart + _windowLength} while reading {what}");
                _windowLength += got;
            }
        }
        var span = _window.AsSpan((int)(Position - _windowStart), n);
        Position += n;
        return span;
    }

    public byte U8(string what) => Take(1, what)[0];
    public ushort U16(string what) => BinaryPrimitives.ReadUInt16LittleEndian(Take(2, what));
    public uint U32(string what) => BinaryPrimitives.ReadUInt32LittleEndian(Take(4, what));
    public ulong U64(string what) => BinaryPrimitives.ReadUInt64LittleEndian(Take(8, what));
    public float F32(string what) => BinaryPrimitives.ReadSingleLittleEndian(Take(4, what));
    public double F64(string what) => BinaryPrimitives.ReadDoubleLittleEndian(Take(8, what));

    /// <summary>A GGUF string: u64 byte length then UTF-8 bytes (not NUL-terminated).</summary>
    public string String(string what)
    {
        ulong n = U64(what + " length");
        if (n > (ulong)Remaining) throw Error(null, $"{what}: string length {n} runs past the end of the file ({Remaining} bytes remain)");
        if (n <= (ulong)_window.Length) return Encoding.UTF8.GetString(Take((int)n, what));
        var bytes = new byte[n]; // bounded by the file length just checked
        int done = 0;
        while (done < bytes.Length)
        {
            int chunk = Math.Min(_window.Length, bytes.Length - done);
            Take(chunk, what).CopyTo(bytes.AsSpan(done));
            done += chunk;
        }
        return Encoding.UTF8.GetString(bytes);
    }

    /// <summary>A count of items each at least <paramref name="minItemBytes"/> long, checked against the bytes left.</summary>
    public int Count(ulong n, int minItemBytes, string what)
    {
        if (n > int.MaxValue || n * (ulong)minItemBytes > (ulong)Remaining)
            throw Error(null, $"{what}: count {n} cannot fit in the {Remaining} bytes that remain");
        return (int)n;
    }

    public void Seek(long position) => Position = position;
}
