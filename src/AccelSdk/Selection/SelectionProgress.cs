namespace AccelSdk;

/// <summary>
/// One progress step of a selection or a tuning, reported through <see cref="IProgress{T}"/>.
/// </summary>
/// <param name="Stage">What is being done: <c>candidates</c> (whole-model selection), and for autotuning <c>capture</c>,
/// <c>overheads</c>, <c>transfers</c>, <c>nodes</c>, <c>plans</c>, <c>throughput</c>.</param>
/// <param name="Done">Steps done in this stage.</param>
/// <param name="Total">Steps in this stage.</param>
/// <param name="Detail">The candidate, node or plan the current step is about.</param>
public sealed record SelectionProgress(string Stage, int Done, int Total, string Detail);
