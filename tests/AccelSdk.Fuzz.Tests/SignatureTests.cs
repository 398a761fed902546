namespace AccelSdk.Fuzz.Tests;

/// <summary>Finding signatures: type plus the top AccelSdk frame, stable against compiler-generated names.</summary>
public sealed class SignatureTests
{
    private static Exception Caught(Action action)
    {
        try
        {
            action();
        }
        catch (Exception e)
        {
            return e;
        }
        throw new InvalidOperationException("nothing was thrown");
    }

    private static int[] Empty() => Array.Empty<int>();

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static int ReadPastTheEnd() => Empty()[1];

    [Fact]
    public void A_throw_in_a_lambda_is_named_after_the_method_holding_it()
    {
        var offset = 1;
        var e = Caught(() => _ = Enumerable.Range(0, 1).Select(i => Empty()[i + offset]).ToArray());

        var outcome = Outcome.FromException(e, "import", imported: false);

        Assert.Equal("System.IndexOutOfRangeException at AccelSdk.Fuzz.Tests.SignatureTests.A_throw_in_a_lambda_is_named_after_the_method_holding_it", outcome.Signature);
    }

    [Fact]
    public void The_signature_names_the_sdk_frame_not_the_bcl_throw_helper()
    {
        var e = Caught(() => new Dictionary<string, int> { ["a"] = 1 }.Add("a", 2));

        Assert.Equal("AccelSdk.Fuzz.Tests.SignatureTests.The_signature_names_the_sdk_frame_not_the_bcl_throw_helper", Outcome.TopFrameOf(e));
        Assert.Equal("AccelSdk.Fuzz.Tests.SignatureTests.ReadPastTheEnd", Outcome.TopFrameOf(Caught(() => ReadPastTheEnd())));
    }

    [Fact]
    public void Crashes_and_hangs_are_told_apart_by_stage_and_signal()
    {
        var crash = new Outcome { Kind = OutcomeKind.Crash, Stage = "run tflite-cpu", Message = "signal 11" };
        var hang = new Outcome { Kind = OutcomeKind.Hang, Stage = "shape inference" };
        var typed = new Outcome { Kind = OutcomeKind.Rejected, Stage = "import" };

        Assert.Equal("native crash (signal 11) in run tflite-cpu", crash.Signature);
        Assert.Equal("hang in shape inference", hang.Signature);
        Assert.True(crash.IsFinding && hang.IsFinding);
        Assert.False(typed.IsFinding);
        Assert.Equal(crash, Outcome.FromJson(crash.ToJson()));
    }
}
