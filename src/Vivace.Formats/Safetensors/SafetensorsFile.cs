using System.IO.MemoryMappedFiles;
using Vivace.Tensors;

namespace Vivace.Formats.Safetensors;

/// <summary>
/// One memory-mapped <c>.safetensors</c> file. The header is validated in full on open, so reads never leave the
/// mapping. Tensors are copied out on <see cref="Get"/> (f16/bf16/integers widened to f32) or
/// <see cref="GetRaw"/> (stored dtype kept).
/// </summary>
public sealed unsafe class SafetensorsFile : IWeightSource
{
    private readonly MemoryMappedFile _map;
    private readonly MemoryMappedViewAccessor _view;
    private readonly byte* _base;
    private readonly long _dataStart;
    private readonly Dictionary<string, SafetensorsEntry> _entries;
    private readonly string[] _names;
    private int _disposed;

    /// <summary>The file's full path.</summary>
    public string FilePath { get; }

    /// <summary>The header's <c>__metadata__</c> (empty when absent).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    private SafetensorsFile(string path, MemoryMappedFile map, MemoryMappedViewAccessor view, byte* basePtr,
        long dataStart, List<SafetensorsEntry> entries, Dictionary<string, string> metadata)
    {
        FilePath = path;
        _map = map;
        _view = view;
        _base = basePtr;
        _dataStart = dataStart;
        _entries = entries.ToDictionary(e => e.Name, StringComparer.Ordinal);
        _names = entries.OrderBy(e => e.Begin).ThenBy(e => e.Name, StringComparer.Ordinal).Select(e => e.Name).ToArray();
        Metadata = metadata;
    }

    /// <summary>Maps and validates <paramref name="path"/>; any defect throws <see cref="ModelFormatException"/>.</summary>
    public static SafetensorsFile Open(string path)
    {
        path = Path.GetFullPath(path);
        FileStream fs;
        try
        {
            fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ModelFormatException(path, $"cannot open safetensors file: {e.Message}", e);
        }
        long length = fs.Length;
        if (length < 8)
        {
            fs.Dispose();
            SafetensorsHeader.ReadHeaderLength(path, default, length); // throws "too short"
        }
        MemoryMappedFile? map = null;
        MemoryMappedViewAccessor? view = null;
        byte* ptr = null;
        try
        {
            map = MemoryMappedFile.CreateFromFile(fs, null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: false);
            view = map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref ptr);
            ptr += view.PointerOffset;
            // The view may be rounded up to a page; only the file's own length is ever read.
            long headerLength = SafetensorsHeader.ReadHeaderLength(path, new ReadOnlySpan<byte>(ptr, 8), length);
            byte[] header = new ReadOnlySpan<byte>(ptr + 8, checked((int)headerLength)).ToArray();
            long dataStart = 8 + headerLength;
            var (entries, metadata) = SafetensorsHeader.Parse(path, header, length - dataStart);
            return new SafetensorsFile(path, map, view, ptr, dataStart, entries, metadata);
        }
        catch
        {
            if (ptr != null) view!.SafeMemoryMappedViewHandle.ReleasePointer();
            view?.Dispose();
            if (map is null) fs.Dispose();
            map?.Dispose();
            throw;
        }
    }

    public IReadOnlyCollection<string> Names => _names;

    public bool Contains(string name) => _entries.ContainsKey(name);

    public WeightInfo GetInfo(string name)
    {
        SafetensorsEntry e = Entry(name);
        return new WeightInfo(e.Name, e.DTypeName, e.Kind is { } k ? (k.ToDType() ?? DType.F32) : null, e.Shape);
    }

    public Tensor Get(string name)
    {
        SafetensorsEntry e = Entry(name);
        return Kind(e).DecodeF32(Bytes(e), e.Shape, e.Name);
    }

    public Tensor GetRaw(string name)
    {
        SafetensorsEntry e = Entry(name);
        return Kind(e).DecodeRaw(Bytes(e), e.Shape, e.Name);
    }

    /// <summary>The stored bytes of a tensor, valid until this file is disposed.</summary>
    public ReadOnlySpan<byte> GetBytes(string name) => Bytes(Entry(name));

    public string Describe() => $"safetensors {FilePath} ({_names.Length} tensors)";

    public override string ToString() => Describe();

    private SafetensorsEntry Entry(string name)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        if (!_entries.TryGetValue(name, out SafetensorsEntry? e))
            throw new ModelFormatException(FilePath, name, "no such tensor in this file");
        return e;
    }

    private StorageKind Kind(SafetensorsEntry e) =>
        e.Kind ?? throw new ModelFormatException(FilePath, e.Name, $"dtype {e.DTypeName} is not supported");

    private ReadOnlySpan<byte> Bytes(SafetensorsEntry e)
    {
        if (e.ByteLength > int.MaxValue)
            throw new ModelFormatException(FilePath, e.Name, $"tensor of {e.ByteLength} bytes is larger than one read supports (2 GiB)");
        return new ReadOnlySpan<byte>(_base + _dataStart + e.Begin, (int)e.ByteLength);
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _map.Dispose();
    }
}
