using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace AccelSdk.Storage;

/// <summary>
/// Reads files AccelSdk keeps for itself (tuning caches, compiled artefacts) without trusting what sits at the path:
/// only a regular file (a symbolic link is followed to its target) of at most a given size is read, within a time
/// limit. A FIFO, a device, a socket or a directory is refused without blocking, so a FIFO put in place of a cache
/// file cannot hang the caller and a link to <c>/dev/zero</c> cannot exhaust memory.
/// </summary>
public static partial class RegularFile
{
    /// <summary>
    /// The bytes of <paramref name="path"/>. Throws <see cref="FileNotFoundException"/> or
    /// <see cref="DirectoryNotFoundException"/> when nothing is there, and <see cref="IOException"/> naming the path
    /// and the reason when it is not a regular file, is larger than <paramref name="maxBytes"/>, changes size while read,
    /// or is not read within <paramref name="timeout"/>.
    /// </summary>
    /// <param name="path">The file.</param>
    /// <param name="maxBytes">The largest size accepted.</param>
    /// <param name="timeout">How long the open and the read may take together.</param>
    /// <param name="pinned">True to read into an array on the pinned object heap (its address never moves).</param>
    public static byte[] ReadAllBytes(string path, long maxBytes, TimeSpan timeout, bool pinned = false)
    {
        maxBytes = Math.Min(maxBytes, Array.MaxLength);
        // On a dedicated thread: an open or read that blocks (a hung network mount, a FIFO where the type cannot be
        // checked first) then costs that thread, not the caller.
        var read = Task.Factory.StartNew(() => Read(path, maxBytes, pinned), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        bool completed;
        try
        {
            completed = read.Wait(timeout);
        }
        catch (AggregateException)
        {
            completed = true;
        }
        if (!completed) throw new IOException($"{path}: not read within {timeout.TotalSeconds:0.#} s");
        return read.GetAwaiter().GetResult();
    }

    private static byte[] Read(string path, long maxBytes, bool pinned)
    {
        using var handle = OperatingSystem.IsLinux() && LinuxFile.IsUsable ? LinuxFile.OpenRegular(path) : OpenPortable(path);
        try
        {
            return ReadOpen(handle, path, maxBytes, pinned);
        }
        catch (NotSupportedException)
        {
            // RandomAccess refuses handles it cannot seek (pipes, terminals) where the type could not be checked first.
            throw new IOException($"{path}: not a regular file (cannot seek)");
        }
    }

    private static byte[] ReadOpen(SafeFileHandle handle, string path, long maxBytes, bool pinned)
    {
        var length = RandomAccess.GetLength(handle);
        if (length > maxBytes) throw new IOException($"{path}: {length} bytes, more than the {maxBytes} accepted");
        var bytes = pinned ? GC.AllocateUninitializedArray<byte>((int)length, pinned: true) : new byte[length];
        var offset = 0;
        while (offset < bytes.Length)
        {
            var n = RandomAccess.Read(handle, bytes.AsSpan(offset), offset);
            if (n == 0) throw new IOException($"{path}: shrank from {length} bytes while being read");
            offset += n;
        }
        Span<byte> probe = stackalloc byte[1];
        if (RandomAccess.Read(handle, probe, length) != 0) throw new IOException($"{path}: grew past {length} bytes while being read");
        return bytes;
    }

    /// <summary>Where the file type cannot be checked before reading: the size check still bounds what is allocated.</summary>
    private static SafeFileHandle OpenPortable(string path)
    {
        var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        try
        {
            if ((File.GetAttributes(handle) & (FileAttributes.Directory | FileAttributes.Device)) != 0) throw new IOException($"{path}: not a regular file");
            return handle;
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Opens with <c>O_NONBLOCK</c> (opening a FIFO returns at once instead of waiting for a writer), then asks the open
    /// descriptor for its type with <c>statx</c> (its layout is the same on every architecture), so the file checked
    /// is the file read.
    /// </summary>
    private static partial class LinuxFile
    {
        // asm-generic values, shared by x86-64 and arm64.
        private const int ReadOnlyNonBlocking = 0x0 | 0x800 /* O_NONBLOCK */ | 0x100 /* O_NOCTTY */ | 0x80000 /* O_CLOEXEC */;
        private const int AtEmptyPath = 0x1000;
        private const uint StatxType = 0x1;
        private const int StatxSize = 256;
        private const int ModeOffset = 28;
        private const int TypeMask = 0xF000;
        private const int ErrNoEntry = 2;
        private const int ErrNotDirectory = 20;

        private static readonly Lazy<bool> Usable = new(Probe);

        /// <summary>False where the C library lacks <c>statx</c> (glibc before 2.28): files are then opened portably.</summary>
        public static bool IsUsable => Usable.Value;

        public static SafeFileHandle OpenRegular(string path)
        {
            var fd = Open(path, ReadOnlyNonBlocking);
            if (fd < 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                var reason = Marshal.GetPInvokeErrorMessage(errno);
                throw errno switch
                {
                    ErrNoEntry => new FileNotFoundException($"{path}: {reason}", path),
                    ErrNotDirectory => new DirectoryNotFoundException($"{path}: {reason}"),
                    _ => new IOException($"{path}: cannot open: {reason}"),
                };
            }
            var handle = new SafeFileHandle(fd, ownsHandle: true);
            try
            {
                var type = TypeOf(fd);
                if (type != "regular file") throw new IOException($"{path}: is a {type}, not a regular file");
                return handle;
            }
            catch
            {
                handle.Dispose();
                throw;
            }
        }

        private static unsafe bool Probe()
        {
            try
            {
                var buffer = stackalloc byte[StatxSize];
                Statx(-1, "/", 0, StatxType, buffer);
                return true;
            }
            catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
            {
                return false;
            }
        }

        private static unsafe string TypeOf(int fd)
        {
            var buffer = stackalloc byte[StatxSize];
            if (Statx(fd, "", AtEmptyPath, StatxType, buffer) != 0)
            {
                throw new IOException("cannot tell the file's type: " + Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError()));
            }
            return (*(ushort*)(buffer + ModeOffset) & TypeMask) switch
            {
                0x8000 => "regular file",
                0x4000 => "directory",
                0x1000 => "FIFO",
                0x2000 => "character device",
                0x6000 => "block device",
                0xC000 => "socket",
                var other => $"file of type 0x{other:x}",
            };
        }

        [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
        private static partial int Open(string path, int flags);

        [LibraryImport("libc", EntryPoint = "statx", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
        private static unsafe partial int Statx(int directoryFd, string path, int flags, uint mask, byte* buffer);
    }
}
