using AccelSdk.Execution;

namespace AccelSdk.Tests;

public sealed class ProcessMemoryTests
{
    [Fact]
    public void Address_space_limit_and_virtual_size_are_read_from_proc_texts()
    {
        string[] limits =
        [
            "Limit                     Soft Limit           Hard Limit           Units     ",
            "Max address space         8589934592           unlimited            bytes     ",
        ];
        Assert.Equal(8589934592L, ProcessMemory.SoftAddressSpaceLimit(limits));
        Assert.Null(ProcessMemory.SoftAddressSpaceLimit(["Max address space         unlimited            unlimited            bytes     "]));
        Assert.Equal(123456L * 1024, ProcessMemory.VirtualSizeBytes(["Name:\tdotnet", "VmSize:\t  123456 kB"]));
        Assert.Null(ProcessMemory.VirtualSizeBytes(["Name:\tdotnet"]));
    }

    [Fact]
    public void Available_bytes_never_exceed_the_memory_the_GC_sees()
    {
        var available = ProcessMemory.AvailableBytes;
        Assert.InRange(available, 1, GC.GetGCMemoryInfo().TotalAvailableMemoryBytes);
        if (OperatingSystem.IsLinux() && ProcessMemory.AddressSpaceLeft() is { } left) Assert.True(available <= left);
    }
}
