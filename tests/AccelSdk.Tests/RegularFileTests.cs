using System.Runtime.InteropServices;
using AccelSdk.Storage;

namespace AccelSdk.Tests;

/// <summary>The guarded reader of AccelSdk's own files: regular files of bounded size only, never a block or a flood.</summary>
public sealed partial class RegularFileTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private readonly string _dir = Directory.CreateTempSubdirectory("accelsdk-regular-file-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void A_regular_file_and_a_link_to_one_are_read_whole()
    {
        var path = Path.Combine(_dir, "data.bin");
        var bytes = Enumerable.Range(0, 70_000).Select(i => (byte)(i * 7)).ToArray();
        File.WriteAllBytes(path, bytes);
        var link = Path.Combine(_dir, "link.bin");
        File.CreateSymbolicLink(link, path);

        Assert.Equal(bytes, RegularFile.ReadAllBytes(path, bytes.Length, Timeout));
        Assert.Equal(bytes, RegularFile.ReadAllBytes(link, bytes.Length, Timeout, pinned: true));
        var empty = Path.Combine(_dir, "empty");
        File.WriteAllBytes(empty, Array.Empty<byte>());
        Assert.Empty(RegularFile.ReadAllBytes(empty, 10, Timeout));
    }

    [Fact]
    public void A_missing_file_is_FileNotFoundException()
    {
        Assert.Throws<FileNotFoundException>(() => RegularFile.ReadAllBytes(Path.Combine(_dir, "absent"), 10, Timeout));
    }

    [Fact]
    public async Task A_fifo_is_refused_at_once_instead_of_blocking()
    {
        var path = Path.Combine(_dir, "fifo");
        Assert.Equal(0, MkFifo(path, 0x180));
        // No writer ever opens it: a plain open for reading would wait forever. WaitAsync fails the test if it blocks.
        var read = Task.Run(() => RegularFile.ReadAllBytes(path, 1 << 20, Timeout));
        var e = await Assert.ThrowsAsync<IOException>(() => read.WaitAsync(TimeSpan.FromSeconds(60)));
        Assert.Equal($"{path}: is a FIFO, not a regular file", e.Message);
    }

    [Fact]
    public void A_link_to_dev_zero_a_directory_and_an_oversized_file_are_refused()
    {
        var zero = Path.Combine(_dir, "zero");
        File.CreateSymbolicLink(zero, "/dev/zero");
        Assert.Equal($"{zero}: is a character device, not a regular file", Assert.Throws<IOException>(() => RegularFile.ReadAllBytes(zero, 1 << 20, Timeout)).Message);

        Assert.Equal($"{_dir}: is a directory, not a regular file", Assert.Throws<IOException>(() => RegularFile.ReadAllBytes(_dir, 1 << 20, Timeout)).Message);

        var big = Path.Combine(_dir, "big");
        using (var file = new FileStream(big, FileMode.CreateNew)) file.SetLength((1 << 20) + 1);
        Assert.Equal($"{big}: {(1 << 20) + 1} bytes, more than the {1 << 20} accepted", Assert.Throws<IOException>(() => RegularFile.ReadAllBytes(big, 1 << 20, Timeout)).Message);
    }

    [LibraryImport("libc", EntryPoint = "mkfifo", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int MkFifo(string path, uint mode);
}
