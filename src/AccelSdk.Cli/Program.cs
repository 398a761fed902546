using System.Globalization;
using AccelSdk.Cli;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
try
{
    return Cli.Execute(args);
}
finally
{
    CliRuntime.DisposeIfCreated();
}
