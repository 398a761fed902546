namespace AccelSdk.Execution;

/// <summary>
/// What a session moved between memory spaces since it was created or <see cref="AccelSession.ResetTransferStatistics"/>
/// (totals over every run; divide by <see cref="Runs"/> for per-run figures).
/// </summary>
/// <param name="Runs">Runs completed.</param>
/// <param name="Transfers">Values moved between memory spaces (a value in the consumer's space is not moved and not counted).</param>
/// <param name="DirectTransfers">Of those, moved by a backend's direct path (<see cref="Backends.TransferRoute.Direct"/>).</param>
/// <param name="HostRoundTrips">Of those, staged device -> host -> device between two spaces that are not host memory.</param>
/// <param name="Copies">Memory copies the transfers made (a host round trip is two, an upload or download one).</param>
/// <param name="Bytes">Bytes of the values moved.</param>
public sealed record TransferStatistics(long Runs, long Transfers, long DirectTransfers, long HostRoundTrips, long Copies, long Bytes)
{
    /// <summary>Transfers per run (0 before the first run).</summary>
    public double TransfersPerRun => Runs == 0 ? 0 : (double)Transfers / Runs;

    /// <summary>Memory copies per run (0 before the first run).</summary>
    public double CopiesPerRun => Runs == 0 ? 0 : (double)Copies / Runs;

    /// <summary>Bytes moved per run (0 before the first run).</summary>
    public double BytesPerRun => Runs == 0 ? 0 : (double)Bytes / Runs;
}
