using System.Runtime.InteropServices;

namespace Vivace.Cpu.Jit;

/// <summary>
/// Machine code placed in pages of its own: mapped writable, filled, then switched to read + execute (never both, so
/// W^X policies hold). Lives until disposed; the kernels made from it are cached for the process, so in practice
/// forever. Linux only (mmap/mprotect from libc), like the emitted code's calling convention.
/// </summary>
public sealed unsafe partial class ExecutableMemory : IDisposable
{
    private const int ProtRead = 1, ProtWrite = 2, ProtExec = 4, MapPrivate = 2, MapAnonymous = 0x20;

    [LibraryImport("libc", SetLastError = true)]
    private static partial nint mmap(nint addr, nuint length, int prot, int flags, int fd, nint offset);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int mprotect(nint addr, nuint length, int prot);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int munmap(nint addr, nuint length);

    private readonly nuint _length;
    private nint _address;

    public ExecutableMemory(ReadOnlySpan<byte> code)
    {
        if (!OperatingSystem.IsLinux()) throw new PlatformNotSupportedException("emitted kernels run on Linux only");
        _length = (nuint)((code.Length + 4095) & ~4095);
        _address = mmap(0, _length, ProtRead | ProtWrite, MapPrivate | MapAnonymous, -1, 0);
        if (_address == -1) throw new InvalidOperationException($"mmap failed (errno {Marshal.GetLastPInvokeError()})");
        code.CopyTo(new Span<byte>((void*)_address, code.Length));
        if (mprotect(_address, _length, ProtRead | ProtExec) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            munmap(_address, _length);
            throw new InvalidOperationException($"mprotect(PROT_EXEC) failed (errno {errno})");
        }
    }

    /// <summary>The first byte of the code.</summary>
    public nint Address => _address != 0 ? _address : throw new ObjectDisposedException(nameof(ExecutableMemory));

    public void Dispose()
    {
        if (_address == 0) return;
        munmap(_address, _length);
        _address = 0;
    }
}
