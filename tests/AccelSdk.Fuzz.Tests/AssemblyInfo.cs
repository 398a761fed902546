// Each test starts fuzz workers that use the cores they get; run one at a time so the budget tests get the machine.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
