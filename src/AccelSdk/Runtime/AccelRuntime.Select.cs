using System.Diagnostics;
using AccelSdk.Diagnostics;
using AccelSdk.Execution;
using AccelSdk.Ir;
using AccelSdk.Selection;

namespace AccelSdk;

public sealed partial class AccelRuntime
{
    /// <summary>Loads the model file and selects where it runs best; see <see cref="Select(Model, SelectOptions?, IProgress{SelectionProgress}?, CancellationToken)"/>.</summary>
    public AccelSession Select(string modelPath, SelectOptions? options = null, IProgress<SelectionProgress>? progress = null, CancellationToken cancellationToken = default) =>
        Select(LoadModel(modelPath), options, progress, cancellationToken);

    /// <summary>
    /// Measures <paramref name="model"/> on every available device that can run it whole (or, with
    /// <see cref="SelectOptions.Autotune"/>, places each node through <see cref="PlanTuner"/>) and returns a session on
    /// the one the policy prefers. <see cref="AccelSession.Selection"/> holds every measurement and
    /// <see cref="AccelSession.Fallbacks"/> every device left out, with why. Cancelling
    /// <paramref name="cancellationToken"/> throws <see cref="OperationCanceledException"/> between runs and releases
    /// every session compiled so far.
    /// </summary>
    public AccelSession Select(Model model, SelectOptions? options = null, IProgress<SelectionProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        options ??= new SelectOptions();
        model.Graph.CheckNames(model.Label);
        cancellationToken.ThrowIfCancellationRequested();
        using var activity = AccelSdkTelemetry.Source.StartActivity(options.Autotune ? "AccelSdk.Tune" : "AccelSdk.Select");
        activity?.SetTag("accelsdk.model", model.Label);
        activity?.SetTag("accelsdk.policy", options.Policy.ToString());
        var session = options.Autotune
            ? (PlanTuner ?? throw new AccelSdkException("SelectOptions.Autotune needs a plan tuner: reference the AccelSdk.Autotune package and call AddAutotune() on the runtime builder"))
                .Tune(this, model, options, progress, cancellationToken)
            : new WholeModelSelection(this, model, options, progress, cancellationToken).Run();
        activity?.SetTag("accelsdk.device", session.Selection?.Chosen.Id);
        activity?.SetTag("accelsdk.fallbacks", session.Fallbacks.Count);
        return session;
    }

    /// <summary>
    /// <see cref="Select(string, SelectOptions?, IProgress{SelectionProgress}?, CancellationToken)"/> on the thread pool:
    /// measuring is CPU work, so the calling thread stays free.
    /// </summary>
    public Task<AccelSession> SelectAsync(string modelPath, SelectOptions? options = null, IProgress<SelectionProgress>? progress = null, CancellationToken cancellationToken = default) =>
        Task.Run(() => Select(modelPath, options, progress, cancellationToken), cancellationToken);

    /// <summary>
    /// <see cref="Select(Model, SelectOptions?, IProgress{SelectionProgress}?, CancellationToken)"/> on the thread pool:
    /// measuring is CPU work, so the calling thread stays free.
    /// </summary>
    public Task<AccelSession> SelectAsync(Model model, SelectOptions? options = null, IProgress<SelectionProgress>? progress = null, CancellationToken cancellationToken = default) =>
        Task.Run(() => Select(model, options, progress, cancellationToken), cancellationToken);
}
