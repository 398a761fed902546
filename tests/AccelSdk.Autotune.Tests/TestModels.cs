using AccelSdk.Ir;

[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace AccelSdk.Autotune.Tests;

/// <summary>Small models built in code, and a fresh cache directory per test.</summary>
internal static class TestModels
{
    /// <summary>x[1,64,32,32] -> Relu -> Add(x) -> Sigmoid -> Mul(0.5) -> y: every op claimed by ORT and ILGPU.</summary>
    public static Model Chain()
    {
        var shape = new TensorShape(1, 64, 32, 32);
        var graph = new Graph { Name = "chain" };
        graph.Inputs.Add(new ValueInfo("x", new TensorType(ElementType.Float32, shape)));
        graph.Outputs.Add(new ValueInfo("y", new TensorType(ElementType.Float32, shape)));
        graph.Initializers.Add(AccelTensor.FromArray(0.5f).WithName("half"));
        graph.Nodes.Add(new Node("Relu", new[] { "x" }, new[] { "r" }, "relu"));
        graph.Nodes.Add(new Node("Add", new[] { "r", "x" }, new[] { "a" }, "add"));
        graph.Nodes.Add(new Node("Sigmoid", new[] { "a" }, new[] { "s" }, "sigmoid"));
        graph.Nodes.Add(new Node("Mul", new[] { "s", "half" }, new[] { "y" }, "scale"));
        var model = new Model(graph) { IrVersion = 8 };
        model.OpsetImports[""] = 13;
        return model;
    }

    /// <summary>x[1,256] -> MatMul(w[256,64], fixed-seed weights) -> Sigmoid -> y[1,64]: 64 KB of weights, one ORT partition.</summary>
    public static Model Dense()
    {
        var random = new Random(7);
        var weights = Enumerable.Range(0, 256 * 64).Select(_ => (float)(random.NextDouble() - 0.5) / 8).ToArray();
        var graph = new Graph { Name = "dense" };
        graph.Inputs.Add(new ValueInfo("x", new TensorType(ElementType.Float32, new TensorShape(1, 256))));
        graph.Outputs.Add(new ValueInfo("y", new TensorType(ElementType.Float32, new TensorShape(1, 64))));
        graph.Initializers.Add(AccelTensor.Create(weights, 256, 64).WithName("w"));
        graph.Nodes.Add(new Node("MatMul", new[] { "x", "w" }, new[] { "m" }, "dense"));
        graph.Nodes.Add(new Node("Sigmoid", new[] { "m" }, new[] { "y" }, "sigmoid"));
        var model = new Model(graph) { IrVersion = 8 };
        model.OpsetImports[""] = 13;
        return model;
    }

    /// <summary>x -> Relu -> test.custom::Frobnicate -> y: the custom op is claimed by no backend.</summary>
    public static Model WithUnclaimedOp()
    {
        var shape = new TensorShape(1, 8);
        var graph = new Graph { Name = "unclaimed" };
        graph.Inputs.Add(new ValueInfo("x", new TensorType(ElementType.Float32, shape)));
        graph.Outputs.Add(new ValueInfo("y", new TensorType(ElementType.Float32, shape)));
        graph.Nodes.Add(new Node("Relu", new[] { "x" }, new[] { "r" }, "relu"));
        graph.Nodes.Add(new Node("Frobnicate", new[] { "r" }, new[] { "y" }, "frob", "test.custom"));
        var model = new Model(graph) { IrVersion = 8 };
        model.OpsetImports[""] = 13;
        model.OpsetImports["test.custom"] = 1;
        return model;
    }

    public static string TempDirectory(string what)
    {
        var dir = Path.Combine(Path.GetTempPath(), $"accelsdk-autotune-tests-{what}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        return dir;
    }

    /// <summary>Quick node timing for small test models (the defaults are for real models).</summary>
    public static TimingRules QuickTiming { get; } = new() { MinRuns = 3, MaxRuns = 10, BudgetPerCandidate = TimeSpan.FromMilliseconds(30) };

    /// <summary>Tuning options of the cache tests: ort-cpu only, quick timing, the given cache folder.</summary>
    public static AutotuneOptions CachedOrtOptions(string cacheDirectory) => new()
    {
        CacheDirectory = cacheDirectory,
        Candidates = new[] { "ort-cpu" },
        NodeTiming = QuickTiming,
        PlanRuns = 5,
    };
}
